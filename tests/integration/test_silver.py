"""Silver: dedup + MERGE, idempotent reruns, SCD2 history, lookback for late rows, quality flags."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import EVENTS_CONTRACT, HEADER, Lake, data_file_digests, rows

D1, D2, D3, D4, D5 = (date(2026, 3, d) for d in range(1, 6))

CUSTOMERS = """
name: people
owner: crm
extract: {kind: files, path: "people/{date}/*.jsonl", format: jsonl}
partitions: {start: 2026-01-01, event_time: snapshot_at, lookback_days: 1}
primary_key: [person_id]
columns:
  - {name: person_id,   type: string,    nullable: false}
  - {name: segment,     type: string,    nullable: false}
  - {name: city,        type: string}
  - {name: updated_at,  type: timestamp, nullable: false}
  - {name: snapshot_at, type: timestamp, nullable: false}
silver: {mode: scd2, valid_from: updated_at}
"""


@pytest.fixture
def orders(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path)
    lake.file(
        "events/2026-03-01/a.csv",
        f"""
        {HEADER}
        e1,acc,,click,1.00,1,true,2026-03-01T10:00:00Z
        e2,acc,,click,2.00,1,true,2026-03-01T11:00:00Z
        e2,acc,,click,2.00,1,true,2026-03-01T11:00:00Z
        e3,acc,,refund,-5.00,1,true,2026-03-01T12:00:00Z
        """,
        arrived=D1,
    )
    lake.file(
        "events/2026-03-02/a.csv",
        f"""
        {HEADER}
        e2,acc,,BUY ,2.00,1,true,2026-03-01T11:00:00Z
        e4,acc,,click,4.00,1,true,2026-03-02T10:00:00Z
        """,
        arrived=D2,
    )
    return lake


def test_merge_keeps_the_latest_row_per_key(orders: Lake) -> None:
    orders.ingest(D1, D2)
    result = orders.build(D1, D2)
    silver = {r["event_id"]: r for r in rows(orders.silver)}
    assert sorted(silver) == ["e1", "e2", "e3", "e4"]
    # e2 came three times: twice identical, then re-sent a day later with a new kind; the
    # re-send has the same event time, so the later ingestion wins.
    assert silver["e2"]["kind"] == "buy" and silver["e2"]["_source_file"] == "events/2026-03-02/a.csv"
    assert result.batch_rows == 6 and result.written.merged_rows == 4 and result.written.inserted == 4
    assert {d: n for d, n in result.rows_by_day.items() if n} == {D1: 3, D2: 1}
    keys = {r["_sk"] for r in silver.values()}
    assert len(keys) == 4 and all(len(k) == 64 for k in keys)


def test_keys_are_compared_as_normalised(tmp_path: Path) -> None:
    """' AB1 ' and 'ab1' under [trim, upper] are one entity in silver, not two rows reading AB1."""
    lake = Lake(
        tmp_path,
        EVENTS_CONTRACT.replace(
            "{name: event_id,    type: string,          nullable: false}",
            "{name: event_id,    type: string,          nullable: false, normalize: [trim, upper]}",
        ),
    )
    lake.file(
        "events/2026-03-01/a.csv",
        f"""
        {HEADER}
        ab1,acc,,click,1.00,1,true,2026-03-01T10:00:00Z
         AB1 ,acc,,click,2.00,1,true,2026-03-01T11:00:00Z
        """,
        arrived=D1,
    )
    lake.ingest(D1, D1)
    result = lake.build(D1, D1)
    assert [(r["event_id"], r["amount"]) for r in rows(lake.silver)] == [("AB1", Decimal("2.00"))]
    assert result.reconciliation.expected[D1] == result.reconciliation.held[D1] == 1


def test_quality_rules_flag_rows_and_never_drop_them(orders: Lake) -> None:
    orders.ingest(D1, D2)
    result = orders.build(D1, D2)
    silver = {r["event_id"]: r for r in rows(orders.silver)}
    assert silver["e3"]["dq_valid"] is False
    assert sorted(silver["e3"]["dq_flags"]) == [
        "column_values_to_be_between(amount)",
        "column_values_to_be_in_set(kind)",
    ]
    assert silver["e1"]["dq_valid"] is True and silver["e1"]["dq_flags"] == []
    assert result.flag_summary.flagged_rows == 1


def test_rerun_is_idempotent_and_commits_nothing(orders: Lake) -> None:
    orders.ingest(D1, D2)
    orders.build(D1, D2)
    version, digests = orders.silver.open().version(), data_file_digests(orders.silver)
    again = orders.build(D1, D2, run_id="run-again")
    assert (again.written.inserted, again.written.updated, again.written.deleted) == (0, 0, 0)
    assert orders.silver.open().version() == version
    assert data_file_digests(orders.silver) == digests


def test_the_daily_run_picks_up_a_late_row(orders: Lake) -> None:
    orders.daily(D1)
    orders.daily(D2)
    assert {r["event_id"] for r in rows(orders.silver)} == {"e1", "e2", "e3", "e4"}
    # A row of D2 arrives in the file of D3: the daily run for D3 restates D1..D3 (lookback 2).
    orders.file(
        "events/2026-03-03/a.csv", f"{HEADER}\ne5,acc,,click,5.00,1,true,2026-03-02T20:00:00Z\n", arrived=D3
    )
    _, result = orders.daily(D3)
    late = {r["event_id"]: r for r in rows(orders.silver)}["e5"]
    assert late["_event_date"] == D2 and result.written.inserted == 1
    assert result.window_start == D1


def test_between_equal_event_times_the_later_row_of_a_file_wins(orders: Lake) -> None:
    orders.file(
        "events/2026-03-03/a.csv",
        f"""
        {HEADER}
        t1,acc,,click,1.00,1,true,2026-03-03T09:00:00Z
        t1,acc,,buy,2.00,1,true,2026-03-03T09:00:00Z
        t1,acc,,click,3.00,1,true,2026-03-03T09:00:00Z
        """,
        arrived=D3,
    )
    orders.ingest(D3, D3)
    orders.build(D3, D3)
    (row,) = rows(orders.silver, "SELECT * FROM t WHERE event_id = 't1'")
    assert (row["amount"], row["_row_number"]) == (3, 3)


def a_row_a_day(orders: Lake) -> None:
    """One row a day in D1..D5, through bronze and silver: a file per day partition."""
    for day in (D1, D2, D3, D4, D5):
        orders.file(
            f"events/{day}/z.csv",
            f"{HEADER}\nz{day.day},acc,,click,1.00,1,true,{day}T05:00:00Z\n",
            arrived=day,
        )
    orders.ingest(D1, D5)
    orders.build(D1, D5)


def test_a_late_row_rewrites_only_its_own_day(orders: Lake) -> None:
    a_row_a_day(orders)
    files_before = set(orders.silver.open().file_uris())
    orders.file(
        "events/2026-03-05/late.csv",
        f"{HEADER}\nlate,acc,,click,1.00,1,true,2026-03-04T23:00:00Z\n",
        arrived=D5,
    )
    orders.ingest(D4, D5)
    result = orders.build(D5, D5)  # window D3..D5; only D4 gained a row
    files_after = set(orders.silver.open().file_uris())
    changed = files_before ^ files_after
    assert changed and all("_event_date=2026-03-04" in uri for uri in changed), changed
    assert (result.written.inserted, result.written.updated) == (1, 0)
    assert result.written.files_rewritten <= 1 and result.written.files_untouched >= 4


def test_days_the_diff_skips_keep_their_files_between_days_it_rewrites(orders: Lake) -> None:
    a_row_a_day(orders)
    before = orders.silver.open()
    files_before, version = set(before.file_uris()), before.version()
    orders.file(
        "events/2026-03-05/late.csv",
        f"""
        {HEADER}
        late3,acc,,click,1.00,1,true,2026-03-03T23:00:00Z
        new5,acc,,click,2.00,1,true,2026-03-05T06:00:00Z
        """,
        arrived=D5,
    )
    orders.ingest(D3, D5)
    result = orders.build(D5, D5)  # window D3..D5; D3 and D5 change, D4 does not
    after = orders.silver.open()
    changed = files_before ^ set(after.file_uris())
    assert {uri.split("_event_date=")[1][:10] for uri in changed} == {"2026-03-03", "2026-03-05"}
    assert after.version() == version + 1  # one commit for both days
    assert (result.written.inserted, result.written.updated, result.written.deleted) == (2, 0, 0)
    ids = [r["event_id"] for r in rows(orders.silver)]
    assert {"late3", "new5", "z1", "z2", "z3", "z4", "z5"} <= set(ids) and len(ids) == len(set(ids))


def test_a_key_whose_event_date_changes_moves_within_the_window(orders: Lake) -> None:
    orders.ingest(D1, D2)
    orders.build(D1, D2)
    orders.file(
        "events/2026-03-02/b.csv",
        f"""
        {HEADER}
        e1,acc,,click,1.00,1,true,2026-03-02T09:00:00Z
        """,
        arrived=D2,
    )
    orders.ingest(D1, D2)
    result = orders.build(D2, D2)
    placed = [(r["event_id"], r["_event_date"]) for r in rows(orders.silver) if r["event_id"] == "e1"]
    assert placed == [("e1", D2)]  # not a second copy in D1
    assert result.written.deleted == 1 and result.written.inserted == 1


def snapshot(lake: Lake, day: date, people: dict[str, tuple[str, str, str]]) -> None:
    lines = "\n".join(
        f'{{"person_id": "{pid}", "segment": "{seg}", "city": "{city}", "updated_at": "{upd}", '
        f'"snapshot_at": "{day}T23:00:00Z"}}'
        for pid, (seg, city, upd) in people.items()
    )
    lake.file(f"people/{day}/s.jsonl", lines + "\n", arrived=day)


def history(lake: Lake) -> list[tuple]:
    return [
        (r["person_id"], r["segment"], r["city"], r["valid_from"], r["valid_to"], r["is_current"])
        for r in rows(lake.silver, "SELECT * FROM t ORDER BY person_id, valid_from")
    ]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def people(tmp_path: Path) -> Lake:
    lake = Lake(tmp_path, CUSTOMERS)
    snapshot(
        lake,
        D1,
        {
            "p1": ("consumer", "Madrid", "2026-01-10T00:00:00Z"),
            "p2": ("enterprise", "Paris", "2026-02-01T00:00:00Z"),
        },
    )
    snapshot(
        lake,
        D2,
        {
            "p1": ("business", "Madrid", "2026-03-02T09:00:00Z"),
            "p2": ("enterprise", "Paris", "2026-02-01T00:00:00Z"),
        },
    )
    snapshot(
        lake,
        D3,
        {
            "p1": ("business", "Madrid", "2026-03-02T09:00:00Z"),
            "p2": ("enterprise", "Paris", "2026-02-01T00:00:00Z"),
        },
    )
    snapshot(
        lake,
        D4,
        {
            "p1": ("business", "Lyon", "2026-03-04T15:30:00Z"),
            "p2": ("enterprise", "Paris", "2026-02-01T00:00:00Z"),
        },
    )
    return lake


EXPECTED_HISTORY = [
    ("p1", "consumer", "Madrid", utc("2026-01-10T00:00:00+00:00"), utc("2026-03-02T09:00:00+00:00"), False),
    ("p1", "business", "Madrid", utc("2026-03-02T09:00:00+00:00"), utc("2026-03-04T15:30:00+00:00"), False),
    ("p1", "business", "Lyon", utc("2026-03-04T15:30:00+00:00"), None, True),
    ("p2", "enterprise", "Paris", utc("2026-02-01T00:00:00+00:00"), None, True),
]


def test_scd2_history_of_a_customer_who_changed_twice(people: Lake) -> None:
    people.ingest(D1, D4)
    for day in (D1, D2, D3, D4):  # the daily schedule
        people.build(day, day)
    assert history(people) == EXPECTED_HISTORY


def test_scd2_is_the_same_in_one_run_and_idempotent(people: Lake) -> None:
    people.ingest(D1, D4)
    people.build(D1, D4)
    assert history(people) == EXPECTED_HISTORY
    version = people.silver.open().version()
    again = people.build(D1, D4, run_id="again")
    assert (again.written.inserted, again.written.updated, again.written.deleted) == (0, 0, 0)
    assert people.silver.open().version() == version


def test_scd2_late_snapshot_slots_into_the_history(people: Lake) -> None:
    delayed = {day: (people.landing / f"people/{day}/s.jsonl") for day in (D2, D3)}
    contents = {day: path.read_text() for day, path in delayed.items()}
    for path in delayed.values():
        path.unlink()  # the exports of D2 and D3 were held back
    people.daily(D1)
    people.daily(D4)  # p1 seems to go from consumer straight to Lyon
    assert [h[1:3] for h in history(people) if h[0] == "p1"] == [("consumer", "Madrid"), ("business", "Lyon")]
    for day, path in delayed.items():  # they are delivered into their days' folders
        people.file(str(path.relative_to(people.landing)), contents[day], arrived=day)
    people.ingest(D2, D3)
    people.build(D2, D3)
    assert history(people) == EXPECTED_HISTORY
