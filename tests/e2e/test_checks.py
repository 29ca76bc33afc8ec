"""Asset checks through Dagster on planted bad data: each fails or warns exactly as declared, and
gold is not built past a failing blocking check. Then the ledger, the sensors and the SLO report.

The fixture plays the whole story once (clean range, then one run per planted problem); each
test reads the run it is about, so any one of them can run alone.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.checks.ledger import TABLE, sync_ledger
from lakehouse.checks.slo import slo_report
from lakehouse.contracts.loader import load_contracts
from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.resources.warehouse import warehouse_lock
from lakehouse.runs import materialize_range
from lakehouse.sensors.slo import SLO_KEY
from lakehouse.tables.location import TableLocation
from tests.helpers import REPO, make_settings

pytestmark = pytest.mark.slow

START, END = date(2026, 2, 2), date(2026, 2, 9)
DROP_DAY = date(2026, 2, 9)  # 60 % of its orders go missing (the last day: no later day averages it in)
NULL_DAY = date(2026, 2, 9)  # then some of its orders lose their customer_id
FLAG_DAY = date(2026, 2, 8)  # 30 % of its orders get a negative amount
MISSING_DAY = END + timedelta(days=1)  # no file is delivered for it
GOLD = [dg.AssetKey(["gold", "fct_daily_sales"]), dg.AssetKey(["gold", "customer_segment_daily_sales"])]


def strict_orders_contract(sources: Path) -> None:
    """The demo's orders, with a nullable customer_id that must not be null (an error rule), and
    the amount rule escalating when more than 20 % of a day's rows break it."""
    text = (sources / "orders.yaml").read_text()
    text = text.replace(
        "{name: customer_id,    type: string,        nullable: false}", "{name: customer_id,    type: string}"
    )
    text = text.replace(
        "quality:\n",
        "quality:\n  - {expect: column_values_to_not_be_null, column: customer_id, severity: error}\n",
    )
    text = text.replace(
        "min_value: 0, max_value: 100000, severity: warn}",
        "min_value: 0, max_value: 100000, severity: warn, max_flagged_pct: 20}",
    )
    assert text.count("max_flagged_pct") == 1 and "column: customer_id" in text
    (sources / "orders.yaml").write_text(text)


def rewrite_orders(landing: Path, day: date, change) -> None:
    """Apply ``change(rows_of_that_day) -> rows`` to the orders of ``day`` in its own file."""
    path = landing / "orders" / day.isoformat() / f"orders_{day.isoformat()}.csv"
    stat = path.stat()
    lines = list(csv.reader(io.StringIO(path.read_text())))
    header, body = lines[0], lines[1:]
    mine = [r for r in body if len(r) == len(header) and r[8].startswith(day.isoformat())]
    others = [r for r in body if not (len(r) == len(header) and r[8].startswith(day.isoformat()))]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *change(mine), *others])
    path.write_text(out.getvalue())
    os.utime(path, (stat.st_atime, stat.st_mtime))


def lose_customers(rows):
    for row in rows[:5]:
        row[1] = ""
    return rows


def negative_amounts(rows):
    for row in rows[: len(rows) * 3 // 10]:
        row[6] = "-" + row[6].lstrip("-")
    return rows


class Scenario:
    def __init__(self, root: Path):
        sources = root / "sources"
        shutil.copytree(REPO / "sources", sources)
        strict_orders_contract(sources)
        self.settings = make_settings(root, sources)
        self.landing = Path(self.settings.landing_root)
        generate(self.landing, START, END, orders_per_day=300, seed=5)
        rewrite_orders(self.landing, DROP_DAY, lambda rows: rows[: len(rows) * 2 // 5])
        self.defs = build_definitions(self.settings)
        (root / "home").mkdir()
        self.instance = dg.DagsterInstance.local_temp(str(root / "home"))
        self.bronze = TableLocation(f"{self.settings.lake_root}/bronze/orders")

        self.first = self.run(START, END, with_freshness_checks=True)
        gold_before = self.warehouse("SELECT * FROM fct_daily_sales ORDER BY ALL")

        rewrite_orders(self.landing, NULL_DAY, lose_customers)
        self.nulls = self.run(NULL_DAY, NULL_DAY)

        rewrite_orders(self.landing, FLAG_DAY, negative_amounts)
        self.flagged = self.run(FLAG_DAY, FLAG_DAY)
        self.gold_untouched = self.warehouse("SELECT * FROM fct_daily_sales ORDER BY ALL") == gold_before

        self.bronze_version = self.bronze.open().version()
        self.missing = self.run(MISSING_DAY, MISSING_DAY)
        self.bronze_version_after_missing = self.bronze.open().version()

        (sources / "orders.yaml").write_text(
            (sources / "orders.yaml").read_text().replace('type: "decimal(12,2)"', "type: float64")
        )
        self.retyped = materialize_range(
            build_definitions(self.settings), END, END, instance=self.instance, raise_on_error=False
        )
        self.bronze_version_after_retype = self.bronze.open().version()

    def run(self, start: date, end: date, **options) -> dg.ExecuteInProcessResult:
        return materialize_range(
            self.defs, start, end, instance=self.instance, raise_on_error=False, **options
        )

    def warehouse(self, sql: str) -> list[tuple]:
        with duckdb.connect(self.settings.warehouse_path, read_only=True) as con:
            return con.execute(sql).fetchall()


def day_results(result: dg.ExecuteInProcessResult, asset: str, check: str) -> dict[str, tuple[bool, str]]:
    """(passed, severity) per day for one check of one run."""
    return {
        e.partition: (e.passed, e.severity.value.lower())
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == asset and e.check_name == check and e.partition
    }


def day_evaluation(
    result: dg.ExecuteInProcessResult, asset: str, check: str, day: date
) -> dg.AssetCheckEvaluation:
    return next(
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == asset and e.check_name == check and e.partition == day.isoformat()
    )


def failures(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], set[str]]:
    found = defaultdict(set)
    for e in result.get_asset_check_evaluations():
        if not e.passed and e.partition:
            found[(e.asset_key.to_user_string(), e.check_name)].add(
                f"{e.partition}:{e.severity.value.lower()}"
            )
    return dict(found)


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return Scenario(tmp_path_factory.mktemp("checks"))


def test_clean_days_pass_and_warnings_are_only_what_was_planted(scenario: Scenario) -> None:
    result = scenario.first
    assert result.success
    found = failures(result)
    # a 60 % volume drop on one day: a warning (volume is warn by default), on that day only
    assert found.pop(("bronze/orders", "volume")) == {f"{DROP_DAY}:warn"}
    # the files carry fields the contract does not declare: kept, and warned about
    assert all(f.endswith(":warn") for f in found.pop(("bronze/orders", "schema_contract")))
    assert all(f.endswith(":warn") for f in found.pop(("bronze/customers", "schema_contract")))
    # the generator's few negative amounts and unknown statuses: flagged rows, warnings
    assert all(
        f.endswith(":warn")
        for f in found.pop(("silver/orders", "quality_column_values_to_be_between_amount"))
    )
    assert all(
        f.endswith(":warn") for f in found.pop(("silver/orders", "quality_column_values_to_be_in_set_status"))
    )
    # freshness: the range was loaded months after its days were due (late: warnings), and the
    # day due now is not in bronze (an error)
    for source in ("bronze/orders", "bronze/customers"):
        fresh = found.pop((source, "freshness_check"))
        run_days = {(START + timedelta(days=i)).isoformat() for i in range((END - START).days + 1)}
        assert {f.split(":")[0] for f in fresh if f.endswith(":warn")} == run_days
        [missing] = [f.split(":")[0] for f in fresh if f.endswith(":error")]
        assert date.fromisoformat(missing) > END
    assert found == {}
    for check in ("circuit_breaker", "reconciliation"):
        days = day_results(result, "bronze/orders", check)
        assert len(days) == 10 and all(passed for passed, _ in days.values())  # 8 days + 2 of lookback
    assert set(GOLD) <= materialized(result)
    dbt_tests = [e for e in result.get_asset_check_evaluations() if e.asset_key in GOLD]
    assert dbt_tests and all(e.passed for e in dbt_tests)


def test_a_stale_source_fails_its_freshness_check(scenario: Scenario) -> None:
    freshness = {
        e.asset_key.to_user_string(): e
        for e in scenario.first.get_asset_check_evaluations()
        if e.check_name == "freshness_check"
    }
    assert set(freshness) == {"bronze/orders", "bronze/customers"}
    assert not freshness["bronze/orders"].passed  # its newest day is months old
    assert freshness["bronze/orders"].severity == dg.AssetCheckSeverity.ERROR


def test_nulls_in_a_key_block_gold(scenario: Scenario) -> None:
    result = scenario.nulls
    check = "quality_column_values_to_not_be_null_customer_id"
    assert not result.success
    assert day_results(result, "silver/orders", check)[NULL_DAY.isoformat()] == (False, "error")
    assert not set(GOLD) & materialized(result)  # gold did not build on bad silver
    summary = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "silver/orders"
        and e.check_name == check
        and getattr(e.metadata.get("scope"), "value", None) == "run"
    )
    assert "column_values_to_not_be_null(customer_id)" in summary.description
    assert NULL_DAY.isoformat() in summary.description
    assert day_evaluation(result, "silver/orders", check, NULL_DAY).metadata["failing_rows"].value == 5


def test_too_many_flagged_rows_escalate_a_warning_to_a_blocking_error(scenario: Scenario) -> None:
    result = scenario.flagged
    check = "quality_column_values_to_be_between_amount"
    assert day_results(result, "silver/orders", check)[FLAG_DAY.isoformat()] == (False, "error")
    assert not result.success and not set(GOLD) & materialized(result)
    assert (
        "more than max_flagged_pct=20%"
        in day_evaluation(result, "silver/orders", check, FLAG_DAY).description
    )
    assert scenario.gold_untouched


def test_a_missing_file_trips_the_circuit_breaker_and_nothing_is_written(scenario: Scenario) -> None:
    result = scenario.missing
    assert not result.success
    assert day_results(result, "bronze/orders", "circuit_breaker")[MISSING_DAY.isoformat()] == (
        False,
        "error",
    )
    assert scenario.bronze_version_after_missing == scenario.bronze_version
    assert not materialized(result)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"no landing files for {MISSING_DAY}" in str(failure.event_specific_data.error)


def test_a_retyped_column_is_a_breaking_change_that_writes_nothing(scenario: Scenario) -> None:
    result = scenario.retyped
    assert not result.success
    assert day_results(result, "bronze/orders", "circuit_breaker")[END.isoformat()] == (False, "error")
    assert day_results(result, "bronze/orders", "schema_contract")[END.isoformat()] == (False, "error")
    evaluation = day_evaluation(result, "bronze/orders", "schema_contract", END)
    assert (
        "column amount is decimal128(12, 2) in the table but double in the contract" in evaluation.description
    )
    assert scenario.bronze_version_after_retype == scenario.bronze_version


def test_every_evaluation_reaches_the_ledger_and_the_slo_report(scenario: Scenario) -> None:
    sync_ledger(scenario.instance, scenario.settings.warehouse_path)
    assert sync_ledger(scenario.instance, scenario.settings.warehouse_path) == 0  # idempotent
    held = scenario.warehouse(f"SELECT count(*) FROM {TABLE}")[0][0]
    with dg.DagsterInstance.ephemeral() as wiped:  # an instance that lost its event log
        assert sync_ledger(wiped, scenario.settings.warehouse_path) == 0
    assert scenario.warehouse(f"SELECT count(*) FROM {TABLE}")[0][0] == held > 0  # the ledger keeps it
    rows = scenario.warehouse(f"""
        SELECT day, severity, passed, evaluated_rows, failing_rows, contract_version FROM {TABLE}
        WHERE asset = 'silver/orders' AND check_name = 'quality_column_values_to_not_be_null_customer_id'
          AND NOT passed""")
    (day, severity, passed, evaluated, failing, version), *more = rows
    assert not more and (day, severity, passed, failing) == (NULL_DAY.isoformat(), "error", False, 5)
    assert evaluated > 5 and len(version) == 16
    kinds = {r[0] for r in scenario.warehouse(f"SELECT DISTINCT check_name FROM {TABLE}")}
    assert {
        "circuit_breaker",
        "volume",
        "reconciliation",
        "freshness_check",
        "not_null_fct_daily_sales_order_date",
    } <= kinds
    per_day = scenario.warehouse(
        f"SELECT count(*), count(DISTINCT (run_id, day)) FROM {TABLE} "
        "WHERE asset = 'bronze/orders' AND check_name = 'reconciliation'"
    )[0]
    assert per_day[0] == per_day[1] > 10  # one row per run and day, no step summaries

    contracts = [c.contract for c in load_contracts(scenario.settings.sources_dir)]
    lake = scenario.defs.resources["lake"]
    # By partition day: the run's days, and the day due now that the freshness check also judged
    # (each freshness evaluation names its day).
    (judged_text,) = scenario.warehouse(f"SELECT max(day) FROM {TABLE} WHERE check_name = 'freshness_check'")[
        0
    ]
    judged = date.fromisoformat(judged_text)
    report = {
        r.source: r for r in slo_report(contracts, scenario.settings.warehouse_path, lake, START, judged)
    }
    orders = report["orders"]
    # the first run's days (late) and the day due now (missing): none met
    assert orders.freshness_met_pct == 0.0 and orders.freshness_evaluations == (END - START).days + 2
    passed, total = scenario.warehouse(
        f"""SELECT count(*) FILTER (WHERE passed), count(*) FROM (
                SELECT arg_max(passed, evaluated_at) AS passed FROM {TABLE}
                WHERE asset IN ('bronze/orders', 'silver/orders') AND check_name <> 'freshness_check'
                  AND day BETWEEN '{START}' AND '{judged}'
                GROUP BY asset, check_name, day)"""
    )[0]
    assert orders.checks_passed_pct == pytest.approx(100 * passed / total) and 0 < passed < total
    assert orders.rows_read > 0 and 0 < orders.rows_quarantined_pct < 5


def test_the_sensors_keep_freshness_the_ledger_and_the_slo_report_current(scenario: Scenario) -> None:
    sensors = {s.name: s for s in scenario.defs.sensors}
    assert {s.default_status for s in sensors.values()} == {dg.DefaultSensorStatus.RUNNING}
    with dg.DagsterInstance.ephemeral() as never_evaluated:
        context = dg.build_sensor_context(instance=never_evaluated, definitions=scenario.defs)
        [request] = sensors["source_freshness"](context)  # one run for the day due now
    assert isinstance(request, dg.RunRequest) and request.partition_key, request
    assert dg.AssetCheckKey(dg.AssetKey(["bronze", "orders"]), "freshness_check") in set(
        request.asset_check_keys
    )

    resources = {"warehouse": scenario.defs.resources["warehouse"], "lake": scenario.defs.resources["lake"]}
    outcome = sensors["quality_ledger"](
        dg.build_sensor_context(instance=scenario.instance, resources=resources)
    )
    assert isinstance(outcome, dg.SkipReason) and outcome.skip_message.startswith("appended")
    (event,) = sensors["data_slo_report"](
        dg.build_sensor_context(instance=scenario.instance, resources=resources)
    ).asset_events
    assert event.asset_key == SLO_KEY
    markdown = event.metadata["slo"].value
    assert "| orders |" in markdown and "freshness met" in markdown


def test_the_sensors_skip_a_tick_while_another_process_holds_the_warehouse(scenario: Scenario) -> None:
    """DuckDB does not wait for a file another process holds: the sensors must not take it from dbt."""
    sensors = {s.name: s for s in scenario.defs.sensors}
    resources = {"warehouse": scenario.defs.resources["warehouse"], "lake": scenario.defs.resources["lake"]}
    with warehouse_lock(scenario.settings.warehouse_path, wait_seconds=0):  # as the gold step does
        ledger = sensors["quality_ledger"](
            dg.build_sensor_context(instance=scenario.instance, resources=resources)
        )
        slo = sensors["data_slo_report"](
            dg.build_sensor_context(instance=scenario.instance, resources=resources)
        )
    assert isinstance(ledger, dg.SkipReason) and ledger.skip_message.startswith("warehouse busy")
    assert not slo.asset_events and slo.skip_reason.skip_message.startswith("warehouse busy")
