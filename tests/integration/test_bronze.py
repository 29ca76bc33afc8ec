"""Bronze: landing files → typed Delta partitions + quarantine, with real files and Delta tables."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.bronze.landing import LandingUnavailableError
from lakehouse.bronze.layout import LandingSchemaError
from lakehouse.bronze.pii import token
from lakehouse.bronze.preflight import LandingFilesMissingError, NoFilesForDayError, plan_bronze
from lakehouse.contracts.schema import bronze_schema
from lakehouse.tables.delta import SchemaMismatchError
from tests.helpers import EVENTS_CONTRACT, HEADER, PII_KEY, Lake, data_file_digests, rows, string_values

D0, D1, D2, D3, D4 = date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path)
    lake.file(
        "events/2026-03-01/a.csv",
        f"""
        {HEADER}
        e1,acc-007,Ann@Example.com,click,1.50,3,true,2026-03-01T10:00:00Z
        e2,00042,bob@example.com, Buy ,20.00,1,false,2026-03-01T23:59:59+00:00
        e3,acc-1,,click,not-a-number,1,true,2026-03-01T11:00:00Z
        e4,acc-1,,click,2.00
        e5,acc-2,,buy,-3.00,1,maybe,2026-03-01T12:00:00Z
        """,
        arrived=D1,
    )
    lake.file(
        "events/2026-03-02/a.csv",
        f"""
        {HEADER}
        e6,acc-3,,click,4.00,2,true,2026-03-02T08:00:00Z
        e7,acc-3,,click,5.00,2,true,2026-03-01T22:00:00Z
        e8,acc-4,,click,6.00,1,true,2026-02-20T08:00:00Z
        """,
        arrived=D2,
    )
    lake.file(
        "events/2026-03-03/a.csv",
        f"""
        {HEADER}
        e9,acc-5,,buy,7.00,1,true,2026-03-01T09:00:00Z
        e10,acc-5,,buy,8.00,1,true,2026-03-03T09:00:00Z
        """,
        arrived=D3,
    )
    return lake


def test_types_come_from_the_contract_not_the_data(lake: Lake) -> None:
    lake.ingest(D1, D1)
    table = lake.bronze.open()
    assert pa.schema(table.schema().to_arrow()) == bronze_schema(lake.contract)
    by_id = {r["event_id"]: r for r in rows(lake.bronze)}
    assert by_id["e2"]["account"] == "00042"  # a string that looks like a number stays a string
    assert by_id["e1"]["amount"] == Decimal("1.50")
    assert by_id["e1"]["units"] == 3 and by_id["e1"]["active"] is True
    assert by_id["e2"]["kind"] == " Buy "  # bronze is source-faithful; silver normalises
    assert by_id["e2"]["happened_at"].isoformat() == "2026-03-01T23:59:59+00:00"
    assert (by_id["e2"]["_source_file"], by_id["e2"]["_row_number"], by_id["e2"]["_arrival_date"]) == (
        "events/2026-03-01/a.csv",
        2,
        D1,
    )


def test_late_rows_land_in_their_own_day(lake: Lake) -> None:
    result = lake.ingest(D1, D3)
    placed = {r["event_id"]: (r["_event_date"], r["_source_file"]) for r in rows(lake.bronze)}
    assert placed["e7"] == (D1, "events/2026-03-02/a.csv")  # arrived a day late
    assert placed["e9"] == (D1, "events/2026-03-03/a.csv")  # arrived two days late
    assert placed["e6"] == (D2, "events/2026-03-02/a.csv")
    assert result.days[D1].written == 4  # e1, e2, e7, e9


def test_a_daily_run_restates_its_lookback_days_so_late_rows_arrive(lake: Lake) -> None:
    d3_file = lake.landing / "events/2026-03-03/a.csv"
    d3_content = d3_file.read_text()
    d3_file.unlink()  # not delivered yet
    lake.ingest(D1, D1)
    lake.ingest(D2, D2)
    assert {
        r["event_id"] for r in rows(lake.bronze, "SELECT * FROM t WHERE _event_date = DATE '2026-03-01'")
    } == {"e1", "e2", "e7"}
    lake.file("events/2026-03-03/a.csv", d3_content, arrived=D3)
    result = lake.ingest(D3, D3)  # the file of D3 brings e9, two days late for D1

    assert result.restated_start == D1 and set(result.days) == {D1, D2, D3}
    assert {
        r["event_id"] for r in rows(lake.bronze, "SELECT * FROM t WHERE _event_date = DATE '2026-03-01'")
    } == {"e1", "e2", "e7", "e9"}


def test_bad_rows_are_quarantined_with_reason_file_and_run_and_counted(lake: Lake) -> None:
    result = lake.ingest(D1, D3, run_id="run-q")
    quarantined = {r["_reason"]: r for r in rows(lake.quarantine)}
    assert sorted(quarantined) == [
        "active: cannot read 'maybe' as bool",
        "amount: cannot read 'not-a-number' as decimal(10,2)",
        "late: event date 2026-02-20 arrived on 2026-03-02, more than lookback_days=2 later",
        "malformed CSV row: missing columns (expected 8 fields)",
    ]
    malformed = quarantined["malformed CSV row: missing columns (expected 8 fields)"]
    assert (malformed["_source_file"], malformed["_line"]) == ("events/2026-03-01/a.csv", 5)
    typed = quarantined["amount: cannot read 'not-a-number' as decimal(10,2)"]
    assert typed["_row_number"] == 3
    assert all(r["_run_id"] == "run-q" for r in quarantined.values())
    # The too-late row is attributed to the day its file arrived, so it is counted somewhere.
    assert (
        quarantined["late: event date 2026-02-20 arrived on 2026-03-02, more than lookback_days=2 later"][
            "_partition_date"
        ]
        == D2
    )
    assert (result.days[D1].read, result.days[D1].written, result.days[D1].quarantined) == (7, 4, 3)
    assert (result.days[D2].read, result.days[D2].written, result.days[D2].quarantined) == (2, 1, 1)
    for counts in result.days.values():
        assert counts.read == counts.written + counts.quarantined


def test_rerun_of_a_partition_is_byte_identical(lake: Lake) -> None:
    lake.ingest(D1, D3)
    before_files = data_file_digests(lake.bronze)
    before_rows = rows(lake.bronze, "SELECT * FROM t ORDER BY event_id")
    lake.ingest(D2, D2, run_id="run-2")
    lake.ingest(D1, D3, run_id="run-3")
    assert data_file_digests(lake.bronze) == before_files
    assert rows(lake.bronze, "SELECT * FROM t ORDER BY event_id") == before_rows
    assert len(before_rows) == 6


def test_days_outside_the_run_and_its_lookback_are_untouched(lake: Lake) -> None:
    lake.file(
        "events/2026-03-04/a.csv",
        f"{HEADER}\ne12,acc-6,,click,9.00,1,true,2026-03-04T10:00:00Z\n",
        arrived=D4,
    )
    lake.ingest(D1, D4)
    d4_files = [u for u in lake.bronze.open().file_uris() if "2026-03-04" in u]
    lake.file(
        "events/2026-03-03/b.csv",
        f"{HEADER}\ne11,acc-6,,click,9.00,1,true,2026-03-03T10:00:00Z\n",
        arrived=D3,
    )
    result = lake.ingest(D3, D3)
    assert (result.restated_start, result.end) == (D1, D3)
    assert [u for u in lake.bronze.open().file_uris() if "2026-03-04" in u] == d4_files


def test_personal_data_is_never_written_in_clear(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.file(
        "events/2026-03-01/a.csv",
        """
        event_id,account,Email,kind,amount,units,active,happened_at,phone
        e1,acc,Ann@Example.com,click,1.50,3,true,2026-03-01T10:00:00Z,+34 600 000 001
        e2,acc,bob@example.com,click,oops,1,true,2026-03-01T11:00:00Z,+34 600 000 002
        e3,acc,carol@example.com,click
        """,
        arrived=D1,
    )
    jsonl = Lake(
        tmp_path / "j",
        EVENTS_CONTRACT,
        **{'events/{date}/*.csv", format: csv': 'events/{date}/*.jsonl", format: jsonl'},
    )
    jsonl.file(
        "events/2026-03-01/a.jsonl",
        """
        {"event_id": "j1", "email": "dan@example.com", "kind": "click", "amount": 1, "happened_at": "2026-03-01T10:00:00Z", "phone": "+34 600 000 003"}
        {"event_id": "j2", "email": "eve@example.com", "kind": "click", "amount": "oops", "happened_at": "2026-03-01T10:00:00Z", "note": {"phone": "+34 600 000 004"}}
        {"event_id": "j3", "email": "fay@example.com", "kind":
        """,
        arrived=D1,
    )
    lake.ingest(D1, D1)
    jsonl.ingest(D1, D1)

    clear = [
        "Ann@Example.com",
        "bob@example.com",
        "carol@example.com",
        "dan@example.com",
        "eve@example.com",
        "fay@example.com",
        "+34 600 000 001",
        "+34 600 000 002",
        "+34 600 000 003",
        "+34 600 000 004",
    ]
    written = string_values(lake.bronze, lake.quarantine, jsonl.bronze, jsonl.quarantine)
    assert not [value for value in written if any(c in value for c in clear)]
    (row,) = rows(lake.bronze)
    assert row["email"] == token(PII_KEY, "Ann@Example.com")  # "Email" is the contract's "email"
    assert row["_rescued_data"] == f'{{"phone":"{token(PII_KEY, "+34 600 000 001")}"}}'
    quarantined = {r["_reason"]: r for r in rows(lake.quarantine)}
    assert (
        token(PII_KEY, "bob@example.com")
        in quarantined["amount: cannot read 'oops' as decimal(10,2)"]["_raw"]
    )
    assert quarantined["malformed CSV row: missing columns (expected 9 fields)"]["_raw"] is None
    j_quarantined = {r["_reason"]: r for r in rows(jsonl.quarantine)}
    assert (
        token(PII_KEY, "eve@example.com")
        in j_quarantined["amount: cannot read 'oops' as decimal(10,2)"]["_raw"]
    )
    assert j_quarantined["invalid JSON"]["_raw"] is None


def test_row_hash_is_the_hash_of_the_raw_record(tmp_path: Path) -> None:
    plain = Lake(
        tmp_path,
        EVENTS_CONTRACT,
        **{
            'events/{date}/*.csv", format: csv': 'events/{date}/*.jsonl", format: jsonl',
            "pii: tokenize": "description: not personal here",
        },
    )
    line = '{"event_id": "x1", "kind": "click", "amount": 1, "happened_at": "2026-03-01T10:00:00Z"}'
    plain.file("events/2026-03-01/a.jsonl", line + "\n", arrived=D1)
    plain.ingest(D1, D1)
    (row,) = rows(plain.bronze)
    assert row["_row_hash"] == hashlib.sha256(line.encode()).hexdigest()


def test_fields_the_contract_does_not_declare_are_rescued(tmp_path: Path) -> None:
    lake = Lake(tmp_path, EVENTS_CONTRACT, **{"pii: tokenize": "description: not personal here"})
    lake.file(
        "events/2026-03-04/a.csv",
        f"""
        {HEADER},campaign
        e13,acc-7,,click,1.00,1,true,2026-03-04T10:00:00Z,spring
        e14,acc-7,,click,1.00,1,true,2026-03-04T11:00:00Z,
        """,
        arrived=D4,
    )
    result = lake.ingest(D4, D4)
    by_id = {r["event_id"]: r for r in rows(lake.bronze)}
    assert by_id["e13"]["_rescued_data"] == '{"campaign":"spring"}'
    assert by_id["e14"]["_rescued_data"] is None
    assert result.rescued_columns == ["campaign"] and result.rescued_rows == 1


def test_a_missing_required_column_fails_loudly_and_writes_nothing(lake: Lake) -> None:
    lake.ingest(D1, D3)
    version = lake.bronze.open().version()
    lake.file(
        "events/2026-03-03/b.csv",
        """
        event_id,account,kind,units,active,happened_at
        e20,acc,click,1,true,2026-03-03T10:00:00Z
        """,
        arrived=D3,
    )
    with pytest.raises(
        LandingSchemaError, match=r"events/2026-03-03/b.csv: declared column\(s\) email, amount missing"
    ):
        lake.ingest(D3, D3)
    assert lake.bronze.open().version() == version


def test_a_column_missing_from_a_file_is_a_breaking_change_even_if_nullable(lake: Lake) -> None:
    lake.file(
        "events/2026-03-04/a.csv",
        "event_id,kind,amount,happened_at\ne30,click,1.00,2026-03-04T10:00:00Z\n",
        arrived=D4,
    )
    with pytest.raises(
        LandingSchemaError,
        match=r"declared column\(s\) account, email, units, active missing .*"
        r"removed or renamed upstream",
    ):
        lake.ingest(D4, D4)


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("event_id,kind,amount,,happened_at", "field 4 of the header has no name"),
        ("event_id,kind,Kind,amount,happened_at", "field name(s) Kind, kind appear more than once"),
    ],
)
def test_a_confusing_header_is_refused_by_file(tmp_path: Path, header: str, error: str) -> None:
    lake = Lake(tmp_path)
    lake.file("events/2026-03-01/a.csv", f"{header}\n", arrived=D1)
    with pytest.raises(
        LandingSchemaError, match="events/2026-03-01/a.csv: " + error.replace("(", r"\(").replace(")", r"\)")
    ):
        lake.ingest(D1, D1)


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    path = lake.landing / "events/2026-03-01/a.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(f"\ufeff{HEADER}\ne1,a,,click,1.00,1,true,2026-03-01T10:00:00Z\n".encode())
    lake.ingest(D1, D1)
    assert [r["event_id"] for r in rows(lake.bronze)] == ["e1"]


def test_a_file_name_with_glob_characters_is_refused(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.file("events/2026-03-01/a[1].csv", f"{HEADER}\n", arrived=D1)
    with pytest.raises(LandingSchemaError, match=r"a\[1\].csv: the file name contains glob characters"):
        lake.ingest(D1, D1)


def test_rounding_a_decimal_is_a_quarantine_reason_not_a_silent_change(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.file(
        "events/2026-03-01/a.csv",
        f"{HEADER}\ne1,a,,click,1.005,1,true,2026-03-01T10:00:00Z\n"
        "e2,a,,click,1.50000,1,true,2026-03-01T10:00:00Z\n",
        arrived=D1,
    )
    lake.ingest(D1, D1)
    assert [r["event_id"] for r in rows(lake.bronze)] == ["e2"]
    assert [r["_reason"] for r in rows(lake.quarantine)] == [
        "amount: '1.005' has more decimal places than decimal(10,2) keeps"
    ]


def test_a_fraction_in_an_integer_column_is_quarantined_not_rounded(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.file(
        "events/2026-03-01/a.csv",
        f"{HEADER}\ne1,a,,click,1.00,2.7,true,2026-03-01T10:00:00Z\n"
        "e2,a,,click,1.00,3.0,true,2026-03-01T10:00:00Z\n",
        arrived=D1,
    )
    lake.ingest(D1, D1)
    assert [(r["event_id"], r["units"]) for r in rows(lake.bronze)] == [("e2", 3)]
    assert [r["_reason"] for r in rows(lake.quarantine)] == ["units: '2.7' is not a whole number (int32)"]


def test_rows_before_the_source_start_are_quarantined_not_dropped(tmp_path: Path) -> None:
    lake = Lake(tmp_path, EVENTS_CONTRACT, **{"start: 2026-01-01": "start: 2026-03-01"})
    lake.file(
        "events/2026-03-01/a.csv", f"{HEADER}\ne1,a,,click,1.00,1,true,2026-02-28T23:00:00Z\n", arrived=D1
    )
    result = lake.ingest(D1, D1)
    assert result.restated_start == D1  # never before the source's start
    assert [r["_reason"] for r in rows(lake.quarantine)] == [
        "before start: event date 2026-02-28 is before the source's partitions.start 2026-03-01"
    ]


def test_rewriting_a_day_whose_files_are_gone_is_refused(lake: Lake) -> None:
    lake.ingest(D1, D3)
    version, digests = lake.bronze.open().version(), data_file_digests(lake.bronze)
    (lake.landing / "events/2026-03-03/a.csv").unlink()  # expired from the landing zone
    plan = plan_bronze(
        lake.contract,
        start=D3,
        end=D3,
        landing_root=str(lake.landing),
        bronze=lake.bronze,
        quarantine=lake.quarantine,
    )
    assert [p.kind for p in plan.problems] == ["no files", "files gone"]  # every reason, not just the first
    with pytest.raises(NoFilesForDayError, match="events: no landing files for 2026-03-03"):
        lake.ingest(D3, D3)
    with pytest.raises(
        LandingFilesMissingError, match=r"events/2026-03-03/a.csv \(rows of 2026-03-01, 2026-03-03\)"
    ):
        lake.ingest(D3, D3, allow_empty_days=True)
    assert (lake.bronze.open().version(), data_file_digests(lake.bronze)) == (version, digests)
    lake.ingest(D3, D3, allow_empty_days=True, allow_missing_files=True)
    assert {r["event_id"] for r in rows(lake.bronze)} == {"e1", "e2", "e6", "e7"}


def test_a_contract_change_that_breaks_the_table_writes_nothing(lake: Lake, tmp_path: Path) -> None:
    lake.ingest(D1, D3)
    versions = (lake.bronze.open().version(), lake.quarantine.open().version())
    changed = Lake(tmp_path, EVENTS_CONTRACT, **{'type: "decimal(10,2)"': "type: float64"})
    with pytest.raises(SchemaMismatchError, match="column amount is decimal128"):
        changed.ingest(D1, D3)
    assert (lake.bronze.open().version(), lake.quarantine.open().version()) == versions


def test_delivery_time_does_not_override_arrival_day(lake: Lake) -> None:
    # The file of D1 is copied again later (its modification time moves past D2's file).
    later = datetime(2026, 3, 9, tzinfo=UTC).timestamp()
    os.utime(lake.landing / "events/2026-03-01/a.csv", (later, later))
    lake.ingest(D1, D3)
    by_id = {r["event_id"]: r for r in rows(lake.bronze)}
    assert by_id["e1"]["_arrival_date"] == D1 and by_id["e7"]["_arrival_date"] == D2


def test_a_landing_zone_that_is_down_fails_loudly_and_keeps_what_landed(lake: Lake) -> None:
    lake.ingest(D1, D3)
    version, digests = lake.bronze.open().version(), data_file_digests(lake.bronze)
    lake.landing.rename(lake.root / "landing-unmounted")
    with pytest.raises(LandingUnavailableError, match=str(lake.landing)):
        lake.ingest(D1, D3)
    assert lake.bronze.open().version() == version
    assert data_file_digests(lake.bronze) == digests


def test_event_dates_follow_the_source_timezone(tmp_path: Path) -> None:
    lake = Lake(tmp_path, EVENTS_CONTRACT, **{"timezone: UTC": "timezone: Europe/Madrid"})
    lake.file(
        "events/2026-03-01/a.csv",
        f"""
        {HEADER}
        e1,a,,click,1.00,1,true,2026-03-01T23:30:00Z
        e2,a,,click,1.00,1,true,2026-03-01 23:30:00
        """,
        arrived=D1,
    )
    lake.ingest(D1, D2, allow_empty_days=True)
    by_id = {r["event_id"]: r for r in rows(lake.bronze)}
    assert by_id["e1"]["_event_date"] == D2  # 00:30 in Madrid
    assert by_id["e1"]["happened_at"].isoformat() == "2026-03-01T23:30:00+00:00"
    assert by_id["e2"]["_event_date"] == D1  # no offset: read as Madrid time
    assert by_id["e2"]["happened_at"].isoformat() == "2026-03-01T22:30:00+00:00"


def test_json_lines_and_parquet_sources(tmp_path: Path) -> None:
    jsonl = Lake(
        tmp_path / "j",
        EVENTS_CONTRACT,
        **{'events/{date}/*.csv", format: csv': 'events/{date}/*.jsonl", format: jsonl'},
    )
    jsonl.file(
        "events/2026-03-01/a.jsonl",
        """
        {"event_id": "e1", "kind": "click", "amount": 1.5, "units": 2, "active": true, "happened_at": "2026-03-01T10:00:00Z", "email": "x@y.z", "extra": {"a": 1}, "we\\"ird": 1}
        {"event_id": "e2", "kind": "click", "amount": "oops", "happened_at": "2026-03-01T10:00:00Z"}
        {"event_id": "e3", "kind": "click"
        [1, 2]
        """,
        arrived=D1,
    )
    result = jsonl.ingest(D1, D1)
    (row,) = rows(jsonl.bronze)
    assert (row["amount"], row["units"], row["active"], row["_row_number"]) == (Decimal("1.50"), 2, True, 1)
    assert row["email"] == token(PII_KEY, "x@y.z")
    assert row["_rescued_data"] == (
        f'{{"extra":"{token(PII_KEY, chr(123) + chr(34) + "a" + chr(34) + ":1" + chr(125))}",'
        f'"we\\"ird":"{token(PII_KEY, "1")}"}}'
    )
    reasons = sorted(r["_reason"] for r in rows(jsonl.quarantine))
    assert reasons == [
        "amount: cannot read 'oops' as decimal(10,2)",
        "invalid JSON",
        "not a JSON object (found array)",
    ]
    assert result.days[D1].read == 4

    import pyarrow.parquet as pq

    parquet = Lake(
        tmp_path / "p",
        EVENTS_CONTRACT,
        **{'events/{date}/*.csv", format: csv': 'events/{date}/*.parquet", format: parquet'},
    )
    path = parquet.landing / "events/2026-03-01/a.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "event_id": ["p1", "p2"],
                "account": ["a", "b"],
                "email": [None, None],
                "kind": ["buy", "buy"],
                "amount": [2.25, 3.0],
                "units": pa.array([1, 2], pa.int16()),
                "active": [True, None],
                "happened_at": pa.array([1772359200000000, None], pa.timestamp("us", tz="UTC")),
            }
        ),
        path,
    )
    parquet.ingest(D1, D1)
    (row,) = rows(parquet.bronze)
    assert (row["event_id"], row["amount"], row["_row_number"]) == ("p1", Decimal("2.25"), 1)
    assert [r["_reason"] for r in rows(parquet.quarantine)] == [
        "happened_at: missing value (column is not nullable)"
    ]


JSONL = {'events/{date}/*.csv", format: csv': 'events/{date}/*.jsonl", format: jsonl'}


def json_day(lake: Lake, day: date, records: list[str]) -> None:
    lake.file(f"events/{day}/a.jsonl", "\n".join(records) + "\n", arrived=day)


def event(event_id: str, day: date, **fields: str) -> str:
    values = {"event_id": event_id, "kind": "click", "amount": "1.00", "happened_at": f"{day}T10:00:00Z"}
    values.update(fields)
    return "{" + ", ".join(f'"{k}": "{v}"' for k, v in values.items()) + "}"


def test_a_required_json_field_in_no_record_stops_the_run_before_writing(tmp_path: Path) -> None:
    lake = Lake(tmp_path, EVENTS_CONTRACT, **JSONL)
    json_day(lake, D1, [event("e1", D1)])
    lake.ingest(D1, D1)
    version = lake.bronze.open().version()
    json_day(lake, D2, [event("e2", D2).replace('"kind": "click", ', "")])
    with pytest.raises(
        LandingSchemaError,
        match=r"events/2026-03-02/a.jsonl: required field\(s\) kind in no record of the file .*nothing was written",
    ):
        lake.ingest(D2, D2)
    assert lake.bronze.open().version() == version


def test_a_json_field_that_stops_arriving_beside_a_new_one_is_a_rename(tmp_path: Path) -> None:
    """account had values, then a file has none but brings 'acct': the shape of a rename. A
    nullable field that never had values (email here) may be absent: JSON objects are sparse."""
    lake = Lake(tmp_path, EVENTS_CONTRACT, **JSONL)
    json_day(lake, D1, [event("e1", D1, account="a1", coupon="x")])
    lake.ingest(D1, D1)
    version = lake.bronze.open().version()
    json_day(lake, D2, [event("e2", D2, acct="a1", coupon="x")])
    with pytest.raises(
        LandingSchemaError,
        match=r"a.jsonl: field\(s\) account had values in recent days but are in no record of the file, "
        r"which brings undeclared field\(s\) acct, coupon: renamed upstream\?",
    ):
        lake.ingest(D2, D2)
    assert lake.bronze.open().version() == version

    json_day(lake, D2, [event("e2", D2, account="a1", coupon="x")])  # the producer is fixed
    result = lake.ingest(D2, D2)
    assert result.days[D2].written == 1
