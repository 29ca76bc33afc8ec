"""End to end through Dagster: a 7-day range in one run, a one-day rerun, counts and gold totals.

The data is the demo's generator (late, duplicated, malformed and rule-breaking rows); the
check of last resort is an independent DuckDB query straight over the landing CSV files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.demo.generate import Planted, generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from lakehouse.tables.location import TableLocation
from tests.helpers import data_file_digests, make_settings, rows

pytestmark = pytest.mark.slow

START, END = date(2026, 2, 2), date(2026, 2, 8)
DAYS = [(START + timedelta(days=i)).isoformat() for i in range(7)]
LOOKBACK = ["2026-01-31", "2026-02-01"]  # the days before the range that a run restates
ASSETS = [
    "bronze/orders",
    "bronze/customers",
    "silver/orders",
    "silver/customers",
    "gold/fct_daily_sales",
    "gold/customer_segment_daily_sales",
]


class Pipeline:
    def __init__(self, root: Path):
        self.settings: Settings = make_settings(root)
        self.planted: Planted = generate(self.settings.landing_root, START, END, orders_per_day=300, seed=11)
        self.defs = build_definitions(self.settings)
        (root / "dagster_home").mkdir()
        self.instance = dg.DagsterInstance.local_temp(str(root / "dagster_home"))
        self.first = materialize_range(self.defs, START, END, instance=self.instance)

    def table(self, layer: str, name: str) -> TableLocation:
        return TableLocation(f"{self.settings.lake_root}/{layer}/{name}")

    def warehouse(self, sql: str) -> list[tuple]:
        with duckdb.connect(self.settings.warehouse_path, read_only=True) as con:
            return con.execute(sql).fetchall()

    def metadata(self, result: dg.ExecuteInProcessResult, key: str) -> dict:
        """The run-level metadata of the run's own materialisation of ``key`` (not a lookback
        day's), its ``run_totals`` included."""
        events = [
            e
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey.from_user_string(key)
            and "restated_by_run_for" not in e.materialization.metadata
        ]
        metadata = {k: getattr(v, "value", v) for k, v in events[-1].materialization.metadata.items()}
        return {**metadata, **metadata.get("run_totals", {})}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return Pipeline(tmp_path_factory.mktemp("pipeline"))


def test_a_seven_day_range_is_one_run_covering_every_partition(pipeline: Pipeline) -> None:
    assert pipeline.first.success
    runs = pipeline.instance.get_runs(filters=dg.RunsFilter(run_ids=[pipeline.first.run_id]))
    assert runs[0].tags["dagster/asset_partition_range_start"] == DAYS[0]
    for key in ASSETS:
        materialized = pipeline.instance.get_materialized_partitions(dg.AssetKey.from_user_string(key))
        assert sorted(materialized) == LOOKBACK + DAYS, key
    checks = pipeline.first.get_asset_check_evaluations()
    errors = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    assert checks and not errors, errors


def test_counts_are_consistent_across_layers(pipeline: Pipeline) -> None:
    bronze = pipeline.metadata(pipeline.first, "bronze/orders")
    planted = pipeline.planted
    assert bronze["rows_read"] == planted.orders_delivered
    assert bronze["rows_read"] == bronze["rows_written"] + bronze["rows_quarantined"]
    assert bronze["rows_quarantined"] == planted.quarantined_orders > 0

    quarantine = rows(pipeline.table("quarantine", "orders"), "SELECT count(*) AS n FROM t")[0]["n"]
    assert quarantine == planted.quarantined_orders

    distinct_keys = rows(pipeline.table("bronze", "orders"), "SELECT count(DISTINCT order_id) AS n FROM t")[
        0
    ]["n"]
    silver = rows(
        pipeline.table("silver", "orders"),
        "SELECT count(*) AS n, count(*) FILTER (WHERE NOT dq_valid) AS flagged FROM t",
    )[0]
    assert (
        silver["n"]
        == distinct_keys
        == bronze["rows_written"] - planted.duplicate_orders - planted.updated_orders
    )
    assert silver["flagged"] == sum(planted.rule_breaking_orders.values()) - _too_late_rule_breakers(pipeline)

    gold = pipeline.warehouse(
        "SELECT sum(orders + flagged_orders), sum(flagged_orders) FROM fct_daily_sales"
    )[0]
    assert gold == (silver["n"], silver["flagged"])
    segments = pipeline.warehouse("SELECT sum(orders), sum(gross_revenue) FROM customer_segment_daily_sales")[
        0
    ]
    daily = pipeline.warehouse("SELECT sum(orders), sum(gross_revenue) FROM fct_daily_sales")[0]
    assert segments == daily
    unknown = pipeline.warehouse(
        "SELECT coalesce(sum(orders), 0) FROM customer_segment_daily_sales WHERE segment = 'unknown'"
    )[0][0]
    assert unknown == _orders_before_first_known_version(pipeline)


def _orders_before_first_known_version(pipeline: Pipeline) -> int:
    """Valid orders placed before the earliest version silver knows of their customer: the only
    ones whose segment at order time is unknown (history before the first snapshot is unknown)."""
    import pyarrow as pa

    first_seen = rows(
        pipeline.table("silver", "customers"),
        "SELECT customer_id, min(valid_from) AS since FROM t GROUP BY 1",
    )
    con = duckdb.connect()
    con.register("first_seen", pa.Table.from_pylist(first_seen))
    con.register(
        "o",
        pipeline.table("silver", "orders")
        .open()
        .to_pyarrow_dataset(filesystem=pipeline.table("silver", "orders").filesystem()),
    )
    return con.execute(
        "SELECT count(*) FROM o LEFT JOIN first_seen f USING (customer_id) "
        "WHERE o.dq_valid AND (f.since IS NULL OR o.ordered_at < f.since)"
    ).fetchall()[0][0]


def _too_late_rule_breakers(pipeline: Pipeline) -> int:
    """Rule-breaking rows that also arrived too late are quarantined, so silver never sees them."""
    quarantined = rows(
        pipeline.table("quarantine", "orders"), "SELECT _raw FROM t WHERE _reason LIKE 'late:%'"
    )
    return sum(1 for r in quarantined if '"status":"unknown"' in r["_raw"] or '"amount":"-' in r["_raw"])


LANDING_TRUTH = """
WITH raw AS (
    SELECT * FROM read_csv($glob, header = true, all_varchar = true, strict_mode = true,
                           ignore_errors = true, filename = true, auto_detect = true)
),
typed AS (
    SELECT order_id, lower(trim(status)) AS status, TRY_CAST(quantity AS INTEGER) AS quantity,
           TRY_CAST(amount AS DECIMAL(12, 2)) AS amount, upper(trim(currency)) AS currency,
           TRY_CAST(ordered_at AS TIMESTAMPTZ) AS ordered_at, filename,
           CAST(regexp_extract(filename, 'orders/([0-9-]{10})/', 1) AS DATE) AS arrival
    FROM raw
),
readable AS (
    SELECT *, CAST(ordered_at AS DATE) AS order_date FROM typed
    WHERE order_id IS NOT NULL AND status IS NOT NULL AND quantity IS NOT NULL
      AND amount IS NOT NULL AND ordered_at IS NOT NULL
      AND CAST(ordered_at AS DATE) BETWEEN arrival - 2 AND arrival + 1
),
latest AS (
    SELECT * FROM readable
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY ordered_at DESC, arrival DESC, filename DESC) = 1
)
SELECT order_date, currency, count(*) AS orders, sum(amount) AS gross_revenue
FROM latest
WHERE amount BETWEEN 0 AND 100000 AND quantity BETWEEN 1 AND 1000
  AND status IN ('placed', 'paid', 'shipped', 'cancelled', 'refunded')
GROUP BY ALL ORDER BY ALL
"""


def test_gold_totals_equal_a_direct_query_over_the_landing_files(pipeline: Pipeline) -> None:
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        truth = con.execute(
            LANDING_TRUTH, {"glob": f"{pipeline.settings.landing_root}/orders/*/*.csv"}
        ).fetchall()
    gold = pipeline.warehouse(
        "SELECT order_date, currency, orders, gross_revenue FROM fct_daily_sales ORDER BY ALL"
    )
    assert len(gold) == 7
    assert gold == truth


def lake_state(pipeline: Pipeline) -> dict[str, list]:
    """Every table's full content, in a stable order (the quarantine without its run ids)."""
    state = {}
    for layer in ("bronze", "silver", "quarantine"):
        for source in ("orders", "customers"):
            columns = "* EXCLUDE (_run_id)" if layer == "quarantine" else "*"
            state[f"{layer}/{source}"] = rows(
                pipeline.table(layer, source), f"SELECT {columns} FROM t ORDER BY ALL"
            )

    for mart in ("fct_daily_sales", "customer_segment_daily_sales"):
        state[f"gold/{mart}"] = pipeline.warehouse(f"SELECT * FROM {mart} ORDER BY ALL")
    return state


def test_rerunning_one_day_changes_nothing(pipeline: Pipeline) -> None:
    before = lake_state(pipeline)
    bronze_files = data_file_digests(pipeline.table("bronze", "orders"))
    silver_version = pipeline.table("silver", "orders").open().version()
    day = date.fromisoformat(DAYS[3])
    rerun = materialize_range(pipeline.defs, day, day, instance=pipeline.instance)
    assert rerun.success
    assert pipeline.metadata(rerun, "silver/orders")["rows_inserted"] == 0
    assert pipeline.table("silver", "orders").open().version() == silver_version
    assert data_file_digests(pipeline.table("bronze", "orders")) == bronze_files
    assert lake_state(pipeline) == before
    assert len(pipeline.instance.get_runs()) == 2


HOLD_THE_WAREHOUSE = """
import sys, time, duckdb
from lakehouse.resources.warehouse import warehouse_lock
with warehouse_lock(sys.argv[1], wait_seconds=0), duckdb.connect(sys.argv[1]) as con:
    con.execute("SELECT 1")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_gold_waits_for_another_process_that_holds_the_warehouse(pipeline: Pipeline) -> None:
    """DuckDB lets one process open the file, and dbt fails at once if another holds it; the
    ledger's sensor (in the daemon) holds it for a moment every minute, as this process does, for
    longer than dbt takes to start."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WAREHOUSE, pipeline.settings.warehouse_path, "12"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        day = date.fromisoformat(DAYS[3])
        result = materialize_range(
            pipeline.defs, day, day, instance=pipeline.instance, selection="key:gold/fct_daily_sales"
        )
    finally:
        holder.wait(timeout=60)
    assert result.success
    messages = [e.user_message for e in pipeline.instance.all_logs(result.run_id)]
    assert any(m.startswith("waiting for another user of") for m in messages), messages


class DailyPipeline(Pipeline):
    """The same data, delivered a day at a time, each day materialised by its own run (as the
    daily schedule would): late rows must reach every layer through the runs' lookback."""

    def __init__(self, root: Path):
        self.settings = make_settings(root)
        delivered = root / "all-deliveries"
        self.planted = generate(delivered, START, END, orders_per_day=300, seed=11)
        self.defs = build_definitions(self.settings)
        (root / "dagster_home").mkdir()
        self.instance = dg.DagsterInstance.local_temp(str(root / "dagster_home"))
        self.runs = []
        for day in (START + timedelta(days=i) for i in range(len(DAYS))):
            for path in sorted(delivered.glob(f"*/{day.isoformat()}/*")):  # today's files arrive
                target = Path(self.settings.landing_root) / path.relative_to(delivered)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            self.runs.append(materialize_range(self.defs, day, day, instance=self.instance))


def test_daily_runs_end_where_one_range_run_does(
    pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory
) -> None:
    daily = DailyPipeline(tmp_path_factory.mktemp("daily"))
    assert all(run.success for run in daily.runs)
    assert lake_state(daily) == lake_state(pipeline)


def test_gold_is_downstream_of_silver_in_the_asset_graph(pipeline: Pipeline) -> None:
    graph = pipeline.defs.resolve_asset_graph()
    key = dg.AssetKey.from_user_string
    assert key("silver/orders") in graph.get(key("gold/fct_daily_sales")).parent_keys
    assert {key("silver/orders"), key("silver/customers")} <= graph.get(
        key("gold/customer_segment_daily_sales")
    ).parent_keys
    assert key("bronze/orders") in graph.get(key("silver/orders")).parent_keys
    assert key("landing/orders") in graph.get(key("bronze/orders")).parent_keys


def test_dbt_tests_are_asset_checks_that_block_unless_dbt_says_warn(pipeline: Pipeline) -> None:
    specs = {
        spec.name: spec
        for assets in pipeline.defs.assets or []
        if isinstance(assets, dg.AssetsDefinition)
        for spec in assets.check_specs
        if spec.asset_key.path[0] == "gold"
    }
    (warned,) = [name for name in specs if name.startswith("accepted_values_")]  # severity: warn in dbt
    assert not specs[warned].blocking
    assert all(spec.blocking for name, spec in specs.items() if name != warned), specs
    results = [e for e in pipeline.first.get_asset_check_evaluations() if e.check_name == warned]
    assert results and results[0].passed and not results[0].blocking


def test_tests_of_sources_and_ephemeral_models_are_evaluated_checks(pipeline: Pipeline) -> None:
    """The demo's staging models are ephemeral (no asset): their tests are checks of the marts
    compiled from them; its source test is a check of silver/orders. The daily step (the demo's
    only gold step) asks dbt for them by name, and reports each."""
    evaluated = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in pipeline.first.get_asset_check_evaluations()
    }
    assert evaluated[("gold/fct_daily_sales", "not_null_stg_demo__orders_order_id")]  # named by its meta
    assert evaluated[("gold/customer_segment_daily_sales", "not_null_stg_demo__customers_customer_id")]
    assert evaluated[("silver/orders", "source_not_null_silver_orders_order_id")]
