"""The retention job on a real lake, through Dagster: expired days leave landing, bronze,
quarantine and silver (scd2 versions that ended before the window included), vacuum frees their
bytes, the report lands on ``reports/retention`` and in the warehouse, and a rerun deletes
nothing more. Then a backfill over the whole range, expired landing days included, succeeds and
keeps those days' bronze as it is.

The demo's orders and customers (generated) for the nine days before today, loaded with no
windows; then the contracts get windows and the job runs.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.location import TableLocation
from lakehouse.tables.stats import rows_per_day
from tests.helpers import REPO, make_settings, rows

pytestmark = pytest.mark.slow

TODAY = datetime.now(UTC).date()
START, END = TODAY - timedelta(days=9), TODAY - timedelta(days=1)
WINDOWS = {
    "orders": "{landing_days: 4, bronze_days: 6, quarantine_days: 6, silver_days: 7, "
    "purpose: order analytics, legal_basis: contract}",
    "customers": "{landing_days: 4, silver_days: 5, purpose: customer segmentation, "
    "legal_basis: legitimate_interests}",
}
SELECTION = ["bronze/orders", "silver/orders", "bronze/customers", "silver/customers"]
RETAIN_NOW = {"ops": {"apply_retention": {"config": {"vacuum_retain_hours": 0}}}}


def _with_windows(sources: Path) -> None:
    for name, windows in WINDOWS.items():
        path = sources / f"{name}.yaml"
        text = "\n".join(line for line in path.read_text().splitlines() if not line.startswith("retention:"))
        path.write_text(f"{text}\nretention: {windows}\n")


def _report(instance: dg.DagsterInstance) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(["reports", "retention"]))
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _days(location: TableLocation, column: str) -> dict:
    return {d: n for d, n in sorted(rows_per_day(location, column).items()) if n}


def test_retention_expires_every_layer_and_a_backfill_keeps_expired_days(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "sources", sources)
    settings = make_settings(tmp_path, sources)
    landing = Path(settings.landing_root)
    generate(landing, START, END, orders_per_day=200, seed=5)
    (tmp_path / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    materialize_range(build_definitions(settings), START, END, instance=instance, selection=SELECTION)

    lake = Path(settings.lake_root)
    bronze, quarantine = (
        TableLocation(str(lake / "bronze/orders")),
        TableLocation(str(lake / "quarantine/orders")),
    )
    silver, customers = (
        TableLocation(str(lake / "silver/orders")),
        TableLocation(str(lake / "silver/customers")),
    )
    held = _days(bronze, "_event_date")
    bronze_cut, silver_cut, versions_cut = (TODAY - timedelta(days=n) for n in (5, 6, 4))
    expected_rows = (
        sum(n for d, n in held.items() if d < bronze_cut)
        + sum(n for d, n in _days(quarantine, "_partition_date").items() if d < bronze_cut)
        + sum(n for d, n in _days(silver, "_event_date").items() if d < silver_cut)
    )
    ended = rows(
        customers, f"SELECT count(*) AS n FROM t WHERE valid_to < TIMESTAMPTZ '{versions_cut} 00:00:00+00'"
    )
    current = rows(customers, "SELECT count(*) AS n FROM t WHERE is_current")
    assert expected_rows and ended[0]["n"]  # the windows have something to expire

    _with_windows(sources)
    defs = build_definitions(settings)
    job = defs.get_job_def("retention")
    assert job.execute_in_process(instance=instance, run_config=RETAIN_NOW).success

    report = _report(instance)
    assert report["rows_deleted"] == expected_rows + ended[0]["n"]
    assert report["bytes_freed"] > 0 and report["days_deleted"] > 0
    assert min(_days(bronze, "_event_date")) == bronze_cut
    assert min(_days(quarantine, "_partition_date")) >= bronze_cut
    assert min(_days(silver, "_event_date")) == silver_cut
    assert rows(
        customers, f"SELECT count(*) AS n FROM t WHERE valid_to < TIMESTAMPTZ '{versions_cut} 00:00:00+00'"
    ) == [{"n": 0}]
    assert rows(customers, "SELECT count(*) AS n FROM t WHERE is_current") == current
    for source in ("orders", "customers"):
        arrived = sorted(p.name for p in (landing / source).iterdir())
        assert arrived[0] == str(TODAY - timedelta(days=3)), arrived
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        recorded = con.execute(
            "SELECT table_name, rows_deleted, legal_basis FROM quality.retention_runs ORDER BY table_name"
        ).fetchall()
    expired_bronze = sum(n for d, n in held.items() if d < bronze_cut)
    assert ("bronze/orders", expired_bronze, "contract") in recorded

    versions = {
        p: TableLocation(str(lake / p)).open().version() for p in ("bronze/orders", "silver/customers")
    }
    assert job.execute_in_process(instance=instance, run_config=RETAIN_NOW).success  # a rerun
    again = _report(instance)
    assert (again["rows_deleted"], again["days_deleted"], again["bytes_freed"]) == (0, 0, 0)
    assert {p: TableLocation(str(lake / p)).open().version() for p in versions} == versions

    kept = _days(bronze, "_event_date")
    backfill = materialize_range(defs, START, END, instance=instance, selection=SELECTION)
    assert backfill.success
    after = _days(bronze, "_event_date")
    retained_from = TODAY - timedelta(days=2)  # the first day whose every landing file is kept
    assert {d: n for d, n in after.items() if d < retained_from} == {
        d: n for d, n in kept.items() if d < retained_from
    }
    assert min(_days(silver, "_event_date")) == silver_cut  # silver's expired days did not come back
    messages = [e.user_message for e in instance.all_logs(backfill.run_id)]
    assert any("past the contract's retention" in m and "bronze/orders" in m for m in messages)
