"""Asset checks through Dagster on planted bad data: each fails or warns exactly as declared, and
gold is not built past a failing blocking check. Then the ledger and the SLO report."""

from __future__ import annotations

import csv
import io
import shutil
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.assets.reports import SLO_KEY
from lakehouse.checks.ledger import TABLE, sync_ledger
from lakehouse.checks.slo import slo_report
from lakehouse.contracts.loader import load_contracts
from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.location import TableLocation
from tests.conftest import REPO, make_settings

pytestmark = pytest.mark.slow

START, END = date(2026, 2, 2), date(2026, 2, 9)
DROP_DAY = date(2026, 2, 9)  # 60 % of its orders go missing (the last day: no later day averages it in)
NULL_DAY = date(2026, 2, 9)  # some orders lose their customer_id
FLAG_DAY = date(2026, 2, 8)  # 30 % of its orders get a negative amount
GOLD = [dg.AssetKey(["gold", "fct_daily_sales"]), dg.AssetKey(["gold", "customer_segment_daily_sales"])]


def strict_orders_contract(sources: Path) -> None:
    """The demo's orders, with a nullable customer_id that must not be null (an error rule), and
    the amount rule escalating when more than 20 % of a day's rows break it."""
    text = (sources / "orders.yaml").read_text()
    text = text.replace("{name: customer_id,    type: string,        nullable: false}",
                        "{name: customer_id,    type: string}")
    text = text.replace("quality:\n", "quality:\n  - {expect: column_values_to_not_be_null, column: customer_id, "
                                      "severity: error}\n")
    text = text.replace("min_value: 0, max_value: 100000, severity: warn}",
                        "min_value: 0, max_value: 100000, severity: warn, max_flagged_pct: 20}")
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
    import os

    os.utime(path, (stat.st_atime, stat.st_mtime))


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
        self.first = self.run(START, END, with_freshness_checks=True)

    def run(self, start: date, end: date, **options) -> dg.ExecuteInProcessResult:
        return materialize_range(self.defs, start, end, instance=self.instance, raise_on_error=False, **options)

    def day_results(self, result: dg.ExecuteInProcessResult, asset: str, check: str) -> dict[str, tuple[bool, str]]:
        """(passed, severity) per day for one check of one run."""
        out = {}
        for e in result.get_asset_check_evaluations():
            if e.asset_key.to_user_string() == asset and e.check_name == check and e.partition:
                out[e.partition] = (e.passed, e.severity.value.lower())
        return out

    def failures(self, result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], set[str]]:
        found = defaultdict(set)
        for e in result.get_asset_check_evaluations():
            if not e.passed and e.partition:
                found[(e.asset_key.to_user_string(), e.check_name)].add(f"{e.partition}:{e.severity.value.lower()}")
        return dict(found)

    def materialized(self, result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
        return {e.asset_key for e in result.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return Scenario(tmp_path_factory.mktemp("checks"))


def test_clean_days_pass_and_warnings_are_only_what_was_planted(scenario: Scenario) -> None:
    result = scenario.first
    assert result.success
    failures = scenario.failures(result)
    # a 60 % volume drop on one day: a warning (volume is warn by default), on that day only
    assert failures.pop(("bronze/orders", "volume")) == {f"{DROP_DAY}:warn"}
    # the files carry coupon_code, which the contract does not declare: kept, and warned about
    assert all(f.endswith(":warn") for f in failures.pop(("bronze/orders", "schema_contract")))
    assert all(f.endswith(":warn") for f in failures.pop(("bronze/customers", "schema_contract")))
    # the generator's few negative amounts and unknown statuses: flagged rows, warnings
    assert all(f.endswith(":warn") for f in failures.pop(("silver/orders", "quality_column_values_to_be_between_amount")))
    assert all(f.endswith(":warn") for f in failures.pop(("silver/orders", "quality_column_values_to_be_in_set_status")))
    assert failures == {}
    for check in ("circuit_breaker", "reconciliation"):
        days = scenario.day_results(result, "bronze/orders", check)
        assert len(days) == 10 and all(passed for passed, _ in days.values())  # 8 days + 2 of lookback
    assert set(GOLD) <= scenario.materialized(result)
    dbt_tests = [e for e in result.get_asset_check_evaluations() if e.asset_key in GOLD]
    assert dbt_tests and all(e.passed for e in dbt_tests)


def test_a_stale_source_fails_its_freshness_check(scenario: Scenario) -> None:
    freshness = {e.asset_key.to_user_string(): e for e in scenario.first.get_asset_check_evaluations()
                 if e.check_name == "freshness_check"}
    assert set(freshness) == {"bronze/orders", "bronze/customers"}
    assert not freshness["bronze/orders"].passed  # its newest day is months old
    assert freshness["bronze/orders"].severity == dg.AssetCheckSeverity.ERROR


def test_nulls_in_a_key_block_gold(scenario: Scenario) -> None:
    def lose_customers(rows):
        for row in rows[:5]:
            row[1] = ""
        return rows

    rewrite_orders(scenario.landing, NULL_DAY, lose_customers)
    result = scenario.run(NULL_DAY, NULL_DAY)
    assert not result.success
    check = "quality_column_values_to_not_be_null_customer_id"
    assert scenario.day_results(result, "silver/orders", check)[NULL_DAY.isoformat()] == (False, "error")
    assert not set(GOLD) & scenario.materialized(result)  # gold did not build on bad silver
    summary = next(e for e in result.get_asset_check_evaluations()
                   if e.asset_key.to_user_string() == "silver/orders" and e.check_name == check
                   and e.metadata["scope"].value == "run")
    assert "column_values_to_not_be_null(customer_id)" in summary.description
    assert NULL_DAY.isoformat() in summary.description
    failing = next(e for e in result.get_asset_check_evaluations()
                   if e.asset_key.to_user_string() == "silver/orders" and e.check_name == check
                   and e.partition == NULL_DAY.isoformat())
    assert failing.metadata["failing_rows"].value == 5
    rewrite_orders(scenario.landing, NULL_DAY, lambda rows: rows)  # (the blanks stay: next tests skip the day)


def test_too_many_flagged_rows_escalate_a_warning_to_a_blocking_error(scenario: Scenario) -> None:
    def negative(rows):
        for row in rows[: len(rows) * 3 // 10]:
            row[6] = "-" + row[6].lstrip("-")
        return rows

    rewrite_orders(scenario.landing, FLAG_DAY, negative)
    result = scenario.run(FLAG_DAY, FLAG_DAY)
    check = "quality_column_values_to_be_between_amount"
    passed, severity = scenario.day_results(result, "silver/orders", check)[FLAG_DAY.isoformat()]
    assert (passed, severity) == (False, "error")
    assert not result.success and not set(GOLD) & scenario.materialized(result)
    description = next(e.description for e in result.get_asset_check_evaluations()
                       if e.asset_key.to_user_string() == "silver/orders" and e.check_name == check
                       and e.partition == FLAG_DAY.isoformat())
    assert "more than max_flagged_pct=20%" in description


def test_a_missing_file_trips_the_circuit_breaker_and_nothing_is_written(scenario: Scenario) -> None:
    bronze = TableLocation(f"{scenario.settings.lake_root}/bronze/orders")
    version = bronze.open().version()
    missing = END + timedelta(days=1)  # no file was delivered for this day
    result = scenario.run(missing, missing)
    assert not result.success
    passed, severity = scenario.day_results(result, "bronze/orders", "circuit_breaker")[missing.isoformat()]
    assert (passed, severity) == (False, "error")
    assert bronze.open().version() == version
    assert not scenario.materialized(result)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "no landing files for 2026-02-10" in str(failure.event_specific_data.error)


def test_every_evaluation_reaches_the_ledger_and_the_slo_report(scenario: Scenario) -> None:
    appended = sync_ledger(scenario.instance, scenario.settings.warehouse_path)
    assert appended > 0 and sync_ledger(scenario.instance, scenario.settings.warehouse_path) == 0
    with duckdb.connect(scenario.settings.warehouse_path, read_only=True) as con:
        rows = con.execute(f"""
            SELECT asset, check_name, day, severity, passed, evaluated_rows, failing_rows, contract_version
            FROM {TABLE} WHERE asset = 'silver/orders' AND check_name = 'quality_column_values_to_not_be_null_customer_id'
              AND NOT passed""").fetchall()
        assert rows == [("silver/orders", "quality_column_values_to_not_be_null_customer_id", NULL_DAY.isoformat(),
                         "error", False, rows[0][5], 5, rows[0][7])]
        assert rows[0][5] > 5 and len(rows[0][7]) == 16
        kinds = {r[0] for r in con.execute(f"SELECT DISTINCT check_name FROM {TABLE}").fetchall()}
    assert {"circuit_breaker", "volume", "reconciliation", "freshness_check", "not_null_fct_daily_sales_order_date"} <= kinds

    contracts = [c.contract for c in load_contracts(scenario.settings.sources_dir)]
    report = {r.source: r for r in slo_report(contracts, scenario.settings.warehouse_path,
                                              scenario.settings.lake_root, days=3650)}
    orders = report["orders"]
    assert orders.freshness_met_pct == 0.0 and orders.freshness_evaluations == 1
    assert 0 < orders.checks_passed_pct < 100
    assert orders.rows_read > 0 and 0 < orders.rows_quarantined_pct < 5

    sensor = next(s for s in scenario.defs.sensors if s.name == "data_slo_report")
    context = dg.build_sensor_context(instance=scenario.instance, resources={
        "warehouse": scenario.defs.resources["warehouse"], "lake": scenario.defs.resources["lake"]})
    (event,) = sensor(context).asset_events
    assert event.asset_key == SLO_KEY
    markdown = event.metadata["slo"].value
    assert "| orders | 0.0% of 1 |" in markdown and "freshness met" in markdown


def test_the_sensors_keep_freshness_and_the_ledger_current_without_a_materialisation(scenario: Scenario) -> None:
    sensors = {s.name: s for s in scenario.defs.sensors}
    assert sensors["source_freshness"].default_status == dg.DefaultSensorStatus.RUNNING
    with dg.DagsterInstance.ephemeral() as never_evaluated:
        context = dg.build_sensor_context(instance=never_evaluated, definitions=scenario.defs)
        request = sensors["source_freshness"](context)
    assert isinstance(request, dg.RunRequest), request
    checked = set(request.asset_check_keys)
    assert {dg.AssetCheckKey(dg.AssetKey(["bronze", "orders"]), "freshness_check")} <= checked

    ledger = sensors["quality_ledger"]
    context = dg.build_sensor_context(instance=scenario.instance, resources={"warehouse": scenario.defs.resources["warehouse"]})
    outcome = ledger(context)
    assert isinstance(outcome, dg.SkipReason) and outcome.skip_message.startswith("appended")
