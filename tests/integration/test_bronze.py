"""Bronze: landing files → typed Delta partitions + quarantine, with real files and Delta tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.contracts.schema import bronze_schema
from lakehouse.ingest.bronze import ingest_range
from lakehouse.ingest.pii import token
from lakehouse.ingest.records import LandingSchemaError
from lakehouse.tables.location import TableLocation
from tests.conftest import PII_KEY
from tests.helpers import EVENTS_CONTRACT, HEADER, contract_from, data_file_digests, rows, write_landing

D1, D2, D3, D4 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


class Lake:
    def __init__(self, root: Path, contract_text: str = EVENTS_CONTRACT, **replacements: str):
        self.root = root
        self.landing = root / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.contract = contract_from(contract_text, **replacements)
        self.bronze = TableLocation(str(root / "lake" / "bronze" / self.contract.name))
        self.quarantine = TableLocation(str(root / "lake" / "quarantine" / self.contract.name))

    def file(self, relative: str, text: str, arrived: date) -> Path:
        return write_landing(self.landing, relative, text, arrived)

    def ingest(self, start: date, end: date, run_id: str = "run-1"):
        return ingest_range(
            self.contract,
            start=start,
            end=end,
            landing_root=str(self.landing),
            bronze=self.bronze,
            quarantine=self.quarantine,
            pii_key=PII_KEY,
            run_id=run_id,
        )


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


def test_late_rows_land_in_their_own_day(lake: Lake) -> None:
    result = lake.ingest(D1, D3)
    placed = {r["event_id"]: (r["_event_date"], r["_source_file"]) for r in rows(lake.bronze)}
    assert placed["e7"] == (D1, "events/2026-03-02/a.csv")  # arrived a day late
    assert placed["e9"] == (D1, "events/2026-03-03/a.csv")  # arrived two days late
    assert placed["e6"] == (D2, "events/2026-03-02/a.csv")
    assert result.days[D1].written == 4  # e1, e2, e7, e9


def test_bad_rows_are_quarantined_with_reason_file_and_run_and_counted(lake: Lake) -> None:
    result = lake.ingest(D1, D3, run_id="run-q")
    quarantined = {r["_reason"]: r for r in rows(lake.quarantine)}
    reasons = sorted(quarantined)
    assert reasons == [
        "active: cannot read 'maybe' as bool",
        "amount: cannot read 'not-a-number' as decimal(10,2)",
        "late: event date 2026-02-20 arrived on 2026-03-02, more than lookback_days=2 later",
        "malformed CSV row: missing columns (expected 8 fields)",
    ]
    malformed = quarantined["malformed CSV row: missing columns (expected 8 fields)"]
    assert malformed["_source_file"] == "events/2026-03-01/a.csv" and malformed["_line"] == 5
    assert all(r["_run_id"] == "run-q" for r in quarantined.values())
    # The too-late row is attributed to the day its file arrived, so it is counted somewhere.
    assert quarantined[reasons[2]]["_partition_date"] == D2
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


def test_only_the_partitions_run_are_replaced(lake: Lake) -> None:
    lake.ingest(D1, D3)
    history_before = lake.bronze.open().version()
    lake.file(
        "events/2026-03-02/b.csv",
        f"""
        {HEADER}
        e11,acc-6,,click,9.00,1,true,2026-03-02T10:00:00Z
        e12,acc-6,,click,9.50,1,true,2026-03-01T10:00:00Z
        """,
        arrived=D2,
    )
    result = lake.ingest(D2, D2)
    assert lake.bronze.open().version() == history_before + 1
    by_day = {
        r["_event_date"]: r["n"]
        for r in rows(lake.bronze, "SELECT _event_date, count(*) n FROM t GROUP BY 1")
    }
    assert by_day == {D1: 4, D2: 2, D3: 1}  # e12 belongs to D1, which this run did not replace
    assert result.days[D2].written == 2


def test_pii_is_tokenised_before_anything_is_written(lake: Lake) -> None:
    lake.ingest(D1, D3)
    by_id = {r["event_id"]: r for r in rows(lake.bronze)}
    assert by_id["e1"]["email"] == token(PII_KEY, "Ann@Example.com")
    assert by_id["e6"]["email"] is None
    raw_bytes = b"".join(p.read_bytes() for p in (lake.root / "lake").rglob("*") if p.is_file())
    assert b"Ann@Example.com" not in raw_bytes and b"bob@example.com" not in raw_bytes


def test_fields_the_contract_does_not_declare_are_rescued(lake: Lake) -> None:
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
        LandingSchemaError, match=r"events/2026-03-03/b.csv: required column\(s\) amount missing"
    ):
        lake.ingest(D3, D3)
    assert lake.bronze.open().version() == version


def test_a_missing_nullable_column_is_null_and_reported(lake: Lake) -> None:
    lake.file(
        "events/2026-03-04/a.csv",
        """
        event_id,kind,amount,happened_at
        e30,click,1.00,2026-03-04T10:00:00Z
        """,
        arrived=D4,
    )
    result = lake.ingest(D4, D4)
    (row,) = rows(lake.bronze)
    assert row["account"] is None and row["units"] is None
    assert result.missing_columns == ["account", "active", "email", "units"]


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
    lake.ingest(D1, D2)
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
        {"event_id": "e1", "kind": "click", "amount": 1.5, "units": 2, "active": true, "happened_at": "2026-03-01T10:00:00Z", "email": "x@y.z", "extra": {"a": 1}}
        {"event_id": "e2", "kind": "click", "amount": "oops", "happened_at": "2026-03-01T10:00:00Z"}
        {"event_id": "e3", "kind": "click"
        [1, 2]
        """,
        arrived=D1,
    )
    result = jsonl.ingest(D1, D1)
    (row,) = rows(jsonl.bronze)
    assert (row["amount"], row["units"], row["active"]) == (Decimal("1.50"), 2, True)
    assert row["email"] == token(PII_KEY, "x@y.z") and row["_rescued_data"] == '{"extra":{"a":1}}'
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
                "kind": ["buy", "buy"],
                "amount": [2.25, 3.0],
                "happened_at": pa.array([1772359200000000, None], pa.timestamp("us", tz="UTC")),
            }
        ),
        path,
    )
    result = parquet.ingest(D1, D1)
    (row,) = rows(parquet.bronze)
    assert row["event_id"] == "p1" and row["amount"] == Decimal("2.25")
    assert [r["_reason"] for r in rows(parquet.quarantine)] == [
        "happened_at: missing value (column is not nullable)"
    ]


def test_a_landing_zone_that_is_down_fails_loudly_and_keeps_what_landed(lake: Lake) -> None:
    from lakehouse.ingest.landing import LandingUnavailableError

    lake.ingest(D1, D3)
    version, digests = lake.bronze.open().version(), data_file_digests(lake.bronze)
    lake.landing.rename(lake.root / "landing-unmounted")
    with pytest.raises(LandingUnavailableError, match=str(lake.landing)):
        lake.ingest(D1, D3)
    assert lake.bronze.open().version() == version
    assert data_file_digests(lake.bronze) == digests
