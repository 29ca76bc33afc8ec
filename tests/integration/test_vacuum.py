"""Vacuum on real Delta tables: reruns of a day leave the files they replaced on storage until
vacuum deletes them; after it the lake is one copy's size again, the current version reads the
same rows, and time travel to the vacuumed versions is gone.

The demo's orders (generated), loaded into bronze and quarantine through the real ingest.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from deltalake import DeltaTable

from lakehouse.demo.generate import generate
from lakehouse.tables.vacuum import vacuum
from tests.helpers import orders_lake, rows

START, END = date(2026, 3, 1), date(2026, 3, 3)
RERUNS = 3


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_vacuum_after_reruns_returns_the_lake_to_one_copy(tmp_path: Path) -> None:
    lake = orders_lake(tmp_path)
    generate(lake.landing, START, END, orders_per_day=2000, seed=3)
    lake.ingest(START, END)
    tables = (lake.bronze, lake.quarantine)
    one_copy = sum(_bytes(Path(t.uri)) for t in tables)
    first_version = DeltaTable(lake.bronze.uri).version()
    for rerun in range(RERUNS):
        lake.ingest(START, END, run_id=f"rerun-{rerun}")
    grown = sum(_bytes(Path(t.uri)) for t in tables)
    before = rows(lake.bronze, "SELECT order_id, _row_hash FROM t ORDER BY order_id, _row_hash")
    assert grown / one_copy > 2.5  # every rerun left a full copy of the days it replaced

    kept = vacuum(lake.bronze, 168)  # the default window: nothing is old enough yet
    assert kept.files_removed == 0
    reports = [vacuum(t, 0) for t in tables]

    after = sum(_bytes(Path(t.uri)) for t in tables)
    ratio = after / one_copy
    print(
        f"lake: one copy {one_copy} B, after {RERUNS} reruns {grown} B, after vacuum {after} B ({ratio:.3f})"
    )
    assert 0.95 < ratio < 1.15  # the data files of one copy, and a longer log
    assert sum(r.bytes_freed for r in reports) == pytest.approx(grown - after, rel=0.05)
    assert rows(lake.bronze, "SELECT order_id, _row_hash FROM t ORDER BY order_id, _row_hash") == before
    with pytest.raises(FileNotFoundError):  # the replaced files of that version are gone
        DeltaTable(lake.bronze.uri, version=first_version).to_pyarrow_table()
    again = [vacuum(t, 0) for t in tables]
    assert [(r.files_removed, r.version) for r in again] == [(0, r.version) for r in reports]


def test_the_vacuum_command_counts_with_dry_run_then_deletes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lakehouse.cli import main
    from tests.helpers import REPO

    lake = orders_lake(tmp_path)  # at <root>/landing and <root>/lake: LAKEHOUSE_DATA_DIR=<root>
    generate(lake.landing, START, START, orders_per_day=500, seed=4)
    lake.ingest(START, START)
    lake.ingest(START, START, run_id="rerun")
    env = {"LAKEHOUSE_DATA_DIR": str(tmp_path), "LAKEHOUSE_SOURCES_DIR": str(REPO / "sources")}
    grown = _bytes(Path(lake.bronze.uri))

    dry = CliRunner().invoke(main, ["vacuum", "--retain-hours", "0", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "bronze/orders: 1 file(s)" in dry.output and "would free" in dry.output
    assert _bytes(Path(lake.bronze.uri)) == grown

    done = CliRunner().invoke(main, ["vacuum", "--retain-hours", "0"], env=env)
    assert done.exit_code == 0, done.output
    assert "bronze/orders: 1 file(s)" in done.output
    assert _bytes(Path(lake.bronze.uri)) < grown
    again = CliRunner().invoke(main, ["vacuum", "--retain-hours", "0"], env=env)
    assert "freed 0 bytes in 0 file(s)" in again.output
