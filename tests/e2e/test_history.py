"""Sources with different histories on one calendar: days outside a source's history are skipped
cleanly for it (no materialisation, no check result), whether they precede its ``start`` or follow
its ``end``; a finished source has no freshness check.

The sources are the demo's, generated over six days, with ``orders`` starting three days after
``customers`` (its files of the first three days removed: it did not exist yet), and ``archive``,
a finished source reading the same files on purpose, whose history is two days.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.location import TableLocation
from tests.helpers import REPO, make_settings, rows

pytestmark = pytest.mark.slow

FIRST, LAST = date(2026, 1, 1), date(2026, 1, 6)
ORDERS_START = date(2026, 1, 4)
ARCHIVE_END = date(2026, 1, 5)


def _contracts(sources: Path) -> None:
    shutil.copytree(REPO / "sources", sources)
    orders = (sources / "orders.yaml").read_text()
    orders = orders.replace("  start: 2026-01-01\n", f"  start: {ORDERS_START}\n")
    orders = orders.replace("  format: csv\n", "  format: csv\n  shared_path: true\n")
    (sources / "orders.yaml").write_text(orders)
    archive = orders.replace("name: orders", "name: archive").replace(
        f"  start: {ORDERS_START}\n", f"  start: {ORDERS_START}\n  end: {ARCHIVE_END}\n"
    )
    (sources / "archive.yaml").write_text(archive)


class Histories:
    def __init__(self, root: Path):
        sources = root / "sources"
        _contracts(sources)
        self.settings = make_settings(root, sources)
        generate(self.settings.landing_root, FIRST, LAST, orders_per_day=60, seed=3)
        for day in (FIRST, date(2026, 1, 2), date(2026, 1, 3)):  # orders did not exist yet
            shutil.rmtree(Path(self.settings.landing_root) / "orders" / day.isoformat())
        self.defs = build_definitions(self.settings, strict=True)
        (root / "home").mkdir()
        self.instance = dg.DagsterInstance.local_temp(str(root / "home"))
        # Every asset, gold included, over days before orders' start.
        self.before = materialize_range(
            self.defs, FIRST, date(2026, 1, 3), instance=self.instance, raise_on_error=False
        )
        self.after_end = materialize_range(
            self.defs, LAST, LAST, instance=self.instance, raise_on_error=False, selection=BRONZE_SILVER
        )


def partitions(result: dg.ExecuteInProcessResult, asset: str) -> set[str]:
    """The partitions the run recorded as materialised for ``asset``."""
    return {
        e.partition or ""
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    }


BRONZE_SILVER = ["bronze/orders", "silver/orders", "bronze/archive", "silver/archive", "bronze/customers"]


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Histories:
    return Histories(tmp_path_factory.mktemp("histories"))


def evaluations(result: dg.ExecuteInProcessResult, asset: str) -> list[dg.AssetCheckEvaluation]:
    return [e for e in result.get_asset_check_evaluations() if e.asset_key.to_user_string() == asset]


def test_a_range_before_a_sources_start_skips_it_cleanly_and_the_run_succeeds(histories: Histories) -> None:
    result = histories.before
    assert result.success
    for asset in ("bronze/orders", "silver/orders", "bronze/archive", "silver/archive"):
        assert partitions(result, asset) == set(), asset
        assert evaluations(result, asset) == [], asset
    assert partitions(result, "bronze/customers") == {"2026-01-01", "2026-01-02", "2026-01-03"}
    assert {e.partition for e in evaluations(result, "bronze/customers") if e.partition} == {
        "2026-01-01",
        "2026-01-02",
        "2026-01-03",
    }


def test_a_range_after_a_finished_sources_end_skips_it_cleanly(histories: Histories) -> None:
    result = histories.after_end
    assert result.success
    assert partitions(result, "bronze/archive") == set()
    assert evaluations(result, "bronze/archive") == []
    assert LAST.isoformat() in partitions(result, "bronze/orders")


def test_a_range_across_a_sources_start_checks_only_its_own_days(histories: Histories) -> None:
    result = materialize_range(
        histories.defs,
        date(2026, 1, 3),
        ARCHIVE_END,
        instance=histories.instance,
        raise_on_error=False,
        selection=BRONZE_SILVER,
    )
    assert result.success
    for asset in ("bronze/orders", "bronze/archive", "silver/orders"):
        days = {e.partition for e in evaluations(result, asset) if e.partition}
        assert days == {"2026-01-04", "2026-01-05"}, asset


def test_a_finished_source_has_no_freshness_check(histories: Histories) -> None:
    checked = {
        key.asset_key.to_user_string()
        for checks in histories.defs.asset_checks or []
        for key in checks.check_keys
        if key.name == "freshness_check"
    }
    assert checked == {"bronze/orders", "bronze/customers"}


def test_the_slo_report_counts_by_partition_day_and_knows_a_finished_source(histories: Histories) -> None:
    from lakehouse.checks.ledger import sync_ledger
    from lakehouse.checks.slo import slo_report
    from lakehouse.contracts.loader import load_contracts

    warehouse = histories.settings.warehouse_path
    sync_ledger(histories.instance, warehouse)
    contracts = [loaded.contract for loaded in load_contracts(histories.settings.sources_dir)]
    lake = histories.defs.resources["lake"]
    report = {r.source: r for r in slo_report(contracts, warehouse, lake, FIRST, LAST)}
    with duckdb.connect(warehouse, read_only=True) as con:
        check_days = con.execute(
            "SELECT count(DISTINCT (asset, check_name, day)) FROM quality.check_evaluations "
            "WHERE asset IN ('bronze/orders', 'silver/orders') AND day BETWEEN ? AND ?",
            [FIRST.isoformat(), LAST.isoformat()],
        ).fetchall()[0][0]
    orders = report["orders"]
    # Loaded today (by the test's clock) for days in January: counted on those days.
    assert orders.check_evaluations == check_days > 0
    bronze = rows(
        TableLocation(f"{histories.settings.lake_root}/bronze/orders"), "SELECT count(*) AS n FROM t"
    )
    quarantine = rows(
        TableLocation(f"{histories.settings.lake_root}/quarantine/orders"), "SELECT count(*) AS n FROM t"
    )
    assert orders.rows_read == bronze[0]["n"] + quarantine[0]["n"] > 0
    assert report["archive"].cells()[1] == "n/a (historical, ended 2026-01-05)"
    assert report["orders"].freshness_note is None
    later = {r.source: r for r in slo_report(contracts, warehouse, lake, date(2026, 2, 1), date(2026, 2, 28))}
    assert later["orders"].rows_read == later["orders"].check_evaluations == 0
