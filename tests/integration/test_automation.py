"""The automation's conditions evaluated by Dagster's own evaluator on a real instance: gold waits
for every source's day, proceeds on a stale dimension only where its contract allows, never on a
day a blocking check failed; silver stays within its source's history."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.contracts.loader import load_contracts
from lakehouse.demo.generate import generate
from lakehouse.gold.staleness import STALE_TAG
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from tests.helpers import REPO, make_settings

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
SEGMENTS = dg.AssetKey(["gold", "customer_segment_daily_sales"])  # orders joined with customers
SALES = dg.AssetKey(["gold", "fct_daily_sales"])  # orders alone


def sources(tmp_path: Path, stale_ok_days: int, orders_end: date | None = None) -> Path:
    folder = tmp_path / "sources"
    shutil.copytree(REPO / "sources", folder)
    customers = folder / "customers.yaml"
    customers.write_text(
        customers.read_text().replace(
            "freshness: {max_lag: 6h}", f"freshness: {{max_lag: 6h, stale_ok_days: {stale_ok_days}}}"
        )
    )
    if orders_end:
        orders = folder / "orders.yaml"
        orders.write_text(
            orders.read_text().replace("  lookback_days: 2\n", f"  lookback_days: 2\n  end: {orders_end}\n")
        )
    assert not load_contracts(folder).errors
    return folder


def materialised(
    defs: dg.Definitions, instance: dg.DagsterInstance, *keys: str, day: date, checks: bool = True
) -> None:
    """What a run records: each asset's day (bronze before silver, as in a run), then each of its
    checks passing for that day."""
    graph = defs.resolve_asset_graph()
    for key in (dg.AssetKey(k.split("/")) for k in keys):
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day.isoformat()))
        for check in graph.get_check_keys_for_assets({key}) if checks else ():
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(key, check.name, passed=True, partition=day.isoformat())
            )


class Automation:
    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance):
        self.defs, self.instance = defs, instance
        self.result = dg.evaluate_automation_conditions(defs, instance)  # the first tick sees the state

    def tick(self) -> dict[dg.AssetKey, set[str]]:
        self.result = dg.evaluate_automation_conditions(self.defs, self.instance, cursor=self.result.cursor)
        return {
            key: set(self.result.get_requested_partitions(key))
            for key in (
                SALES,
                SEGMENTS,
                dg.AssetKey(["silver", "orders"]),
                dg.AssetKey(["silver", "customers"]),
            )
            if self.result.get_num_requested(key)
        }


@pytest.mark.parametrize("stale_ok_days", [0, 1])
def test_gold_proceeds_on_yesterdays_dimension_only_where_the_contract_allows(
    tmp_path: Path, stale_ok_days: int
) -> None:
    defs = build_definitions(make_settings(tmp_path, sources(tmp_path, stale_ok_days)))
    with dg.DagsterInstance.ephemeral() as instance:
        materialised(
            defs, instance, "bronze/customers", "silver/customers", day=YESTERDAY - timedelta(days=1)
        )
        automation = Automation(defs, instance)
        materialised(
            defs, instance, "bronze/orders", "silver/orders", day=YESTERDAY
        )  # customers' day is late
        requested = automation.tick()
        assert requested[SALES] == {YESTERDAY.isoformat()}, "a mart of orders alone does not wait"
        if stale_ok_days:
            assert requested[SEGMENTS] == {YESTERDAY.isoformat()}, "customers may be a day stale"
        else:
            assert SEGMENTS not in requested, "customers' day is not there: the join waits"
            assert automation.tick() == {}, "nothing changed: still waiting, no second request"
            materialised(defs, instance, "bronze/customers", "silver/customers", day=YESTERDAY)
            assert automation.tick()[SEGMENTS] == {YESTERDAY.isoformat()}, "the day arrived: gold follows"


def test_a_dimension_staler_than_allowed_holds_gold(tmp_path: Path) -> None:
    defs = build_definitions(make_settings(tmp_path, sources(tmp_path, 1)))
    with dg.DagsterInstance.ephemeral() as instance:
        materialised(
            defs, instance, "bronze/customers", "silver/customers", day=YESTERDAY - timedelta(days=2)
        )
        automation = Automation(defs, instance)
        materialised(defs, instance, "bronze/orders", "silver/orders", day=YESTERDAY)
        assert SEGMENTS not in automation.tick(), "two days behind, one allowed"


def test_a_day_bronze_wrote_but_silver_did_not_take_in_does_not_feed_gold(tmp_path: Path) -> None:
    """Bronze's blocking check failing keeps silver from running in that run: bronze has the day,
    silver does not, and gold does not count the day as the source's."""
    defs = build_definitions(make_settings(tmp_path, sources(tmp_path, 0)))
    with dg.DagsterInstance.ephemeral() as instance:
        materialised(
            defs, instance, "bronze/customers", "silver/customers", day=YESTERDAY - timedelta(days=1)
        )
        automation = Automation(defs, instance)
        materialised(
            defs, instance, "bronze/customers", day=YESTERDAY
        )  # its blocking check failed: no silver
        materialised(defs, instance, "bronze/orders", "silver/orders", day=YESTERDAY)
        requested = automation.tick()
        assert SEGMENTS not in requested and SALES in requested


def test_a_day_whose_blocking_check_failed_does_not_feed_gold(tmp_path: Path) -> None:
    defs = build_definitions(make_settings(tmp_path, sources(tmp_path, 0)))
    with dg.DagsterInstance.ephemeral() as instance:
        materialised(
            defs, instance, "bronze/customers", "silver/customers", day=YESTERDAY - timedelta(days=1)
        )
        automation = Automation(defs, instance)
        materialised(defs, instance, "bronze/customers", day=YESTERDAY)
        materialised(defs, instance, "silver/customers", day=YESTERDAY, checks=False)
        instance.report_runless_asset_event(  # silver's reconciliation (blocking) failed on the day
            dg.AssetCheckEvaluation(
                dg.AssetKey(["silver", "customers"]),
                "reconciliation",
                passed=False,
                partition=YESTERDAY.isoformat(),
            )
        )
        materialised(defs, instance, "bronze/orders", "silver/orders", day=YESTERDAY)
        requested = automation.tick()
        assert SEGMENTS not in requested and SALES in requested


def test_silver_follows_bronze_only_within_its_sources_history(tmp_path: Path) -> None:
    ended = YESTERDAY - timedelta(days=10)
    defs = build_definitions(make_settings(tmp_path, sources(tmp_path, 0, orders_end=ended)))
    with dg.DagsterInstance.ephemeral() as instance:
        automation = Automation(defs, instance)
        materialised(defs, instance, "bronze/orders", "bronze/customers", day=YESTERDAY)
        requested = automation.tick()
        assert requested.get(dg.AssetKey(["silver", "customers"])) == {YESTERDAY.isoformat()}
        assert dg.AssetKey(["silver", "orders"]) not in requested, "orders ended: no day after its end"


def test_gold_built_on_a_stale_dimension_says_so_on_the_run_and_the_asset(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sources(tmp_path, 1))
    generate(settings.landing_root, YESTERDAY - timedelta(days=1), YESTERDAY, orders_per_day=100)
    shutil.rmtree(Path(settings.landing_root) / "customers" / YESTERDAY.isoformat())  # late
    defs = build_definitions(settings)
    before = YESTERDAY - timedelta(days=1)
    with dg.DagsterInstance.ephemeral() as instance:
        customers = "key:bronze/customers or key:silver/customers"
        assert materialize_range(defs, before, before, instance=instance, selection=customers).success
        orders = "key:bronze/orders or key:silver/orders"
        assert materialize_range(defs, before, YESTERDAY, instance=instance, selection=orders).success
        gold = materialize_range(defs, YESTERDAY, YESTERDAY, instance=instance, selection="key:gold/*")
        assert gold.success
        run = instance.get_run_by_id(gold.run_id)
        assert run is not None and run.tags[STALE_TAG] == "customers=1d"
        event = instance.get_latest_materialization_event(SEGMENTS)
        assert event and event.asset_materialization
        assert event.asset_materialization.metadata[STALE_TAG].value == {"customers": 1}
