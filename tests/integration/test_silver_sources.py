"""Silver for sources the first contracts could not describe, and deletion by withdrawn file:
on the demo's generated orders and customer snapshots, real Delta tables and DuckDB."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime
from pathlib import Path

from lakehouse.demo.generate import generate
from tests.helpers import REPO, Lake, orders_lake, rows

D1, D2, D3, D4 = (date(2026, 5, d) for d in range(1, 5))


def _orders_file(lake: Lake, day: date) -> Path:
    return lake.landing / "orders" / day.isoformat() / f"orders_{day.isoformat()}.csv"


def _rewrite(path: Path, change) -> None:
    stat = path.stat()
    header, *body = list(csv.reader(io.StringIO(path.read_text())))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *change(header, body)])
    path.write_text(out.getvalue())
    os.utime(path, (stat.st_atime, stat.st_mtime))


def _silver_ids(lake: Lake) -> set[str]:
    return {r["order_id"] for r in rows(lake.silver, "SELECT order_id FROM t")}


def test_only_rows_of_a_withdrawn_file_leave_silver(tmp_path: Path) -> None:
    lake = orders_lake(tmp_path)
    generate(lake.landing, D1, D3, orders_per_day=60, seed=4)
    extra = _orders_file(lake, D1).with_name(f"orders_{D1}_extra.csv")  # a second delivery of D1
    extra.write_bytes(_orders_file(lake, D1).read_bytes())
    _rewrite(extra, lambda header, body: [[r[0] + "X", *r[1:]] for r in body[:6]])
    lake.ingest(D1, D3)
    lake.build(D1, D3)
    before = _silver_ids(lake)

    # A key missing from a file that is still there is not a withdrawal: it stays.
    dropped: list[str] = []

    def drop_two(header, body):
        dropped.extend(r[0] for r in body[:2])
        return body[2:]

    _rewrite(_orders_file(lake, D2), drop_two)
    # A file whose rows all fail typing now is not withdrawn either: they are in quarantine.
    unreadable: list[str] = []

    def spoil_amounts(header, body):
        unreadable.extend(r[0] for r in body if len(r) == len(header))
        return [[*r[:6], "N/A", *r[7:]] if len(r) == len(header) else r for r in body]

    _rewrite(_orders_file(lake, D3), spoil_amounts)
    lake.ingest(D2, D3)
    result = lake.build(D2, D3)
    assert result.withdrawn == {}
    assert _silver_ids(lake) == before

    # The second file of D1 is withdrawn and the run accepts it: rows only it brought leave silver.
    name = f"orders/{D1}/{extra.name}"
    brought = {
        r["order_id"]
        for r in rows(lake.bronze, "SELECT order_id, _source_file FROM t")
        if r["_source_file"] == name
    }
    assert brought and brought <= before
    extra.unlink()
    ingested = lake.ingest(D1, D1, allow_missing_files=True)
    assert [w.file for w in ingested.withdrawn] == [name]
    built = lake.build(D1, D1)
    assert built.withdrawn == {name: len(brought)}
    assert _silver_ids(lake) == before - brought


STORES = """
name: stores
owner: retail-data
extract: {kind: files, path: "customers/{date}/*.jsonl", format: jsonl}
partitions: {start: 2026-01-01, event_time: _arrival_date, timezone: Europe/Madrid}
primary_key: [customer_id]
columns:
  - {name: customer_id, type: string, nullable: false}
  - {name: segment,     type: string, nullable: false}
  - {name: city,        type: string}
silver: {mode: scd2}
"""


def test_a_snapshot_without_a_time_column_gets_its_versions_from_arrival_days(tmp_path: Path) -> None:
    """The demo's customer snapshots read as a reference table with no time column: a row's day
    is its file's, and a version starts at midnight (source timezone) of the first day it shows."""
    lake = Lake(tmp_path, STORES)
    generate(lake.landing, D1, D4, orders_per_day=40, seed=6)
    result = lake.ingest(D1, D4)
    assert set(result.days) == {D1, D2, D3, D4}
    by_day = {
        r["_event_date"]: r["n"]
        for r in rows(lake.bronze, "SELECT _event_date, count(*) AS n FROM t GROUP BY 1")
    }
    per_file = {
        day: sum(
            1
            for line in next((lake.landing / "customers" / day.isoformat()).glob("*.jsonl"))
            .read_text()
            .splitlines()
            if line
        )
        for day in (D1, D2, D3, D4)
    }
    assert all(by_day[d] == per_file[d] - result.days[d].quarantined for d in by_day)

    built = lake.build(D1, D4)
    assert built.reconciliation.expected == built.reconciliation.held
    versions = rows(lake.silver, "SELECT customer_id, segment, city, valid_from, valid_to, is_current FROM t")
    madrid_midnight = {
        datetime(d.year, d.month, d.day, tzinfo=UTC).replace(hour=22) for d in (date(2026, 4, 30), D1, D2, D3)
    }
    assert {v["valid_from"] for v in versions} <= madrid_midnight  # 00:00 in Madrid (UTC+2) is 22:00 UTC
    changed = [
        k for k in {v["customer_id"] for v in versions} if sum(v["customer_id"] == k for v in versions) > 1
    ]
    assert changed  # the generator changes some customers every day
    rerun = lake.build(D1, D4)
    assert rerun.written.inserted == rerun.written.updated == 0
    assert REPO.exists()
