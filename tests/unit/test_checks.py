"""The check building blocks: outcomes and their Dagster events, volume, names, freshness deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.checks.freshness import deadline, deadline_cron, due_day, freshness_checks, judge
from lakehouse.checks.outcome import RUN_SCOPE, CheckOutcome, DayResult
from lakehouse.checks.reconciliation import bronze_reconciliation, silver_reconciliation
from lakehouse.checks.specs import bronze_check_specs, quality_check_name, silver_check_specs
from lakehouse.checks.volume import volume
from lakehouse.cli.table import check_rows, render, summary_line
from lakehouse.contracts import ContractError, load_contract
from lakehouse.contracts.model import SourceContract, Volume
from lakehouse.sensors.freshness import freshness_requests
from tests.helpers import EVENTS_CONTRACT, REPO, contract_from

KEY = dg.AssetKey(["bronze", "events"])
DAYS = [date(2026, 3, d) for d in range(1, 11)]


def test_a_check_reports_each_day_and_a_step_result_naming_the_failing_days() -> None:
    outcome = CheckOutcome(
        KEY,
        "volume",
        blocking=False,
        days=[
            DayResult("2026-03-01", passed=True, severity="warn"),
            DayResult(
                "2026-03-02",
                passed=False,
                severity="warn",
                summary="40 rows, fewer than min_rows=100",
                metadata={"rows": 40},
            ),
        ],
    )
    step = outcome.step_result()
    assert (step.passed, step.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert step.description == "failed on 2026-03-02 (warn): 40 rows, fewer than min_rows=100"
    assert step.metadata["scope"].value == RUN_SCOPE
    days = list(outcome.day_evaluations())
    assert [(d.partition, d.passed) for d in days] == [("2026-03-01", True), ("2026-03-02", False)]
    assert days[1].metadata["rows"].value == 40
    # the run log names the day and its result, in the line and in its metadata
    assert days[1].description == "2026-03-02 warned: 40 rows, fewer than min_rows=100"
    assert days[0].description == "2026-03-01 passed"
    assert (days[1].metadata["day"].value, days[1].metadata["result"].value) == ("2026-03-02", "warned")


def test_one_error_day_makes_the_step_result_an_error() -> None:
    outcome = CheckOutcome(
        KEY,
        "quality_x",
        blocking=True,
        days=[
            DayResult("2026-03-01", passed=False, severity="warn", summary="1 of 100 rows"),
            DayResult(
                "2026-03-02",
                passed=False,
                severity="error",
                summary="30 of 100 rows, more than max_flagged_pct",
            ),
        ],
    )
    assert outcome.step_result().severity == dg.AssetCheckSeverity.ERROR


def test_volume_against_the_trailing_average_and_min_rows() -> None:
    counts = {d: 100 for d in DAYS[:7]} | {DAYS[7]: 40, DAYS[8]: 90, DAYS[9]: 0}
    outcome = volume(counts, DAYS, Volume(min_rows=10, max_change_pct=20, severity="warn"), KEY)
    by_day = {d.day: d for d in outcome.days}
    assert by_day["2026-03-01"].passed and by_day["2026-03-01"].metadata["trailing_days"] == 0
    assert (
        not by_day["2026-03-08"].passed
        and "-60% against the 7-day average 100" in by_day["2026-03-08"].summary
    )
    assert by_day["2026-03-09"].passed  # 90 vs the average of 100, 100, ..., 40
    assert (
        not by_day["2026-03-10"].passed and "0 rows, fewer than min_rows=10" in by_day["2026-03-10"].summary
    )
    assert {d.severity for d in outcome.days} == {"warn"} and not outcome.blocking


def test_lookback_days_with_nothing_read_are_reported_not_judged() -> None:
    counts = {DAYS[5]: 100}
    outcome = volume(counts, DAYS[3:6], Volume(min_rows=50), KEY, unjudged={DAYS[3], DAYS[4]})
    assert all(d.passed for d in outcome.days)
    assert outcome.days[0].metadata["note"] == "no rows read for this day"
    judged = volume({DAYS[5]: 0}, [DAYS[5]], Volume(min_rows=50), KEY)  # a day fully quarantined, say
    assert not judged.passed


def test_reconciliation_fails_on_rows_unaccounted_for_and_reports_stale_silver_rows() -> None:
    day = DAYS[0]
    bronze = bronze_reconciliation({day: 10}, {day: 8}, {day: 1}, [day], KEY)
    assert (
        not bronze.passed
        and bronze.days[0].summary == "read 10 but bronze holds 8 and quarantine 1 (+1 unaccounted)"
    )
    silver = silver_reconciliation({day: 5}, {day: 5}, {day: 2}, [day], KEY, "rows")
    assert silver.passed and silver.days[0].metadata["stale_rows"] == 2
    assert not silver_reconciliation({day: 5}, {day: 6}, {}, [day], KEY, "rows").passed


def test_check_names_and_blocking_follow_the_contract() -> None:
    contract = contract_from(EVENTS_CONTRACT)
    bronze = {
        s.name: s for s in bronze_check_specs(contract, KEY, dg.DailyPartitionsDefinition("2026-01-01"))
    }
    assert set(bronze) == {"circuit_breaker", "schema_contract", "reconciliation", "volume"}
    assert bronze["circuit_breaker"].blocking and not bronze["volume"].blocking
    silver = {
        s.name: s
        for s in silver_check_specs(
            contract, dg.AssetKey(["silver", "events"]), dg.DailyPartitionsDefinition("2026-01-01")
        )
    }
    assert set(silver) == {
        "quality_column_values_to_be_between_amount",
        "quality_column_values_to_be_in_set_kind",
        "reconciliation",
    }
    assert not silver["quality_column_values_to_be_between_amount"].blocking  # a warn rule
    escalating = contract_from(
        EVENTS_CONTRACT,
        **{"min_value: 0, severity: warn}": "min_value: 0, severity: warn, max_flagged_pct: 5}"},
    )
    rule = escalating.quality[0]
    assert quality_check_name(rule) == "quality_column_values_to_be_between_amount"
    specs = silver_check_specs(
        escalating, dg.AssetKey(["silver", "events"]), dg.DailyPartitionsDefinition("2026-01-01")
    )
    assert next(s for s in specs if s.name == quality_check_name(rule)).blocking


@pytest.mark.parametrize(("lag", "cron"), [("6h", "0 6 * * *"), ("90m", "30 1 * * *"), ("23h", "0 23 * * *")])
def test_max_lag_becomes_the_freshness_deadline(lag: str, cron: str) -> None:
    contract = contract_from(EVENTS_CONTRACT + f"freshness: {{max_lag: {lag}}}\n")
    assert deadline_cron(contract) == cron


def test_a_max_lag_whose_deadline_misses_the_day_is_refused_with_the_reason(tmp_path: Path) -> None:
    text = (REPO / "sources" / "orders.yaml").read_text().replace("max_lag: 6h", "max_lag: 30h")
    path = tmp_path / "orders.yaml"
    path.write_text(text)
    with pytest.raises(
        ContractError,
        match=r"freshness.max_lag: with partitions.timezone 'UTC' it must be at least 1m and under 24h",
    ):
        load_contract(path)


def zoned(timezone: str, lag: str) -> SourceContract:
    return contract_from(
        EVENTS_CONTRACT + f"freshness: {{max_lag: {lag}}}\n", **{"timezone: UTC": f"timezone: {timezone}"}
    )


@pytest.mark.parametrize(
    ("timezone", "lag", "error"),
    [
        ("Europe/Madrid", "1h", "at least 2h and under 25h"),  # UTC+1, +2 in summer
        ("Europe/Madrid", "25h", "at least 2h and under 25h"),
        ("America/Los_Angeles", "16h", "at least 1m and under 16h"),  # UTC-8, -7 in summer
        ("Asia/Kolkata", "5h", "at least 330m and under 1770m"),  # UTC+5:30
    ],
)
def test_the_max_lag_range_follows_the_sources_timezone(timezone: str, lag: str, error: str) -> None:
    with pytest.raises(ContractError, match=error):
        zoned(timezone, lag)


# (timezone, max_lag, a moment, the day that must be in bronze by then)
DEADLINES = [
    # 06:00 in Madrid (UTC+1 in March) is 05:00 UTC: the day that ended at 23:00 UTC is due.
    ("Europe/Madrid", "6h", datetime(2026, 3, 3, 5, 0, 1, tzinfo=UTC), "2026-03-02"),
    ("Europe/Madrid", "6h", datetime(2026, 3, 3, 4, 59, tzinfo=UTC), "2026-03-01"),
    # A day in Los Angeles (UTC-8) ends at 08:00 UTC; 15 h later is 23:00 UTC.
    ("America/Los_Angeles", "15h", datetime(2026, 3, 3, 23, 0, 1, tzinfo=UTC), "2026-03-02"),
    ("America/Los_Angeles", "15h", datetime(2026, 3, 3, 22, 59, tzinfo=UTC), "2026-03-01"),
    # East of UTC a lag may pass a day: Tokyo's 2 March ends 15:00 UTC, +30 h is 21:00 UTC on 3 March.
    ("Asia/Tokyo", "30h", datetime(2026, 3, 3, 21, 0, 1, tzinfo=UTC), "2026-03-02"),
    ("Asia/Tokyo", "30h", datetime(2026, 3, 3, 20, 59, tzinfo=UTC), "2026-03-01"),
]


@pytest.mark.parametrize(("timezone", "lag", "now", "due"), DEADLINES)
def test_the_freshness_check_expects_the_day_that_ended_max_lag_ago_in_the_sources_timezone(
    timezone: str, lag: str, now: datetime, due: str
) -> None:
    """The day due at a moment, judged against an instance without it, then with it."""
    contract = zoned(timezone, lag)
    day = date.fromisoformat(due)
    assert due_day(contract, now) == day
    assert deadline(contract, day) <= now < deadline(contract, day + timedelta(days=1))
    with dg.DagsterInstance.ephemeral() as instance:
        missing = judge(instance, contract, [day], now).days[0]
        assert (missing.passed, missing.severity) == (
            False,
            "error",
        ) and "after its deadline" in missing.summary
        assert judge(instance, contract, [day + timedelta(days=1)], now).passed  # not due yet
        instance.report_runless_asset_event(dg.AssetMaterialization(KEY, partition=due))  # now, months later
        late = judge(instance, contract, [day], now).days[0]
        assert (late.passed, late.severity) == (False, "warn") and late.summary.startswith("arrived ")


def test_a_day_in_bronze_by_its_deadline_is_fresh() -> None:
    contract = zoned("UTC", "6h")
    today = datetime.now(UTC).date()
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(KEY, partition=today.isoformat()))
        [fresh] = judge(instance, contract, [today], datetime.now(UTC) + timedelta(days=3)).days
        assert fresh.passed and fresh.metadata["note"] == "in bronze by its deadline"


def test_the_freshness_sensor_launches_the_check_for_the_due_day_and_it_reports_that_day() -> None:
    """The sensor's run requests, then the run it asks for, through Dagster: the check's day."""
    contract = zoned("UTC", "6h")
    calendar = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone="UTC")

    @dg.asset(key=KEY, partitions_def=calendar)
    def events() -> None:  # the check reads the instance, never runs the asset
        raise AssertionError("not materialised here")

    checks = freshness_checks([contract], calendar)
    now = datetime.now(UTC)
    due = due_day(contract, now).isoformat()
    with dg.DagsterInstance.ephemeral() as instance:
        [missing] = freshness_requests(instance, [contract], now)
        assert (missing.partition_key, missing.run_key) == (due, f"freshness:events=missing:{due}")
        instance.report_runless_asset_event(dg.AssetMaterialization(KEY, partition=due))
        [arrived] = freshness_requests(instance, [contract], now)
        assert arrived.run_key == f"freshness:events=present:{due}"  # judged again, once
        result = dg.materialize(
            [events, *checks],
            instance=instance,
            selection=dg.AssetSelection.checks(*checks),
            tags={"dagster/partition": due},
        )
        by_partition = {e.partition: e for e in result.get_asset_check_evaluations()}
        assert by_partition[due].description.startswith(f"{due} warned: arrived ")  # after its deadline
        infos = instance.event_log_storage.get_asset_check_partition_info(
            [dg.AssetCheckKey(KEY, "freshness_check")]
        )
        assert [(i.latest_execution_status.value, i.is_current) for i in infos if i.partition_key == due] == [
            ("FAILED", True)
        ]


def test_the_check_table_lists_days_and_leaves_out_step_summaries() -> None:
    outcome = CheckOutcome(
        KEY,
        "reconciliation",
        blocking=True,
        days=[
            DayResult("2026-03-01", passed=True, metadata={"evaluated_rows": 10, "failing_rows": 0}),
            DayResult(
                "2026-03-02",
                passed=False,
                summary="read 10 but bronze holds 9 and quarantine 0 (+1 unaccounted)",
                metadata={"evaluated_rows": 10, "failing_rows": 1},
            ),
        ],
    )
    evaluations = [
        *outcome.day_evaluations(),
        dg.AssetCheckEvaluation(
            asset_key=KEY, check_name="reconciliation", passed=False, metadata={"scope": RUN_SCOPE}
        ),
    ]
    rows = check_rows(evaluations)
    assert [(r.partition, r.result) for r in rows] == [("2026-03-01", "passed"), ("2026-03-02", "FAILED")]
    assert summary_line(rows) == "checks: 1 passed, 1 failed, 0 warnings"
    table = render(rows)
    assert "bronze/events  2026-03-02  reconciliation  error     FAILED  read 10 but bronze holds 9" in table
    assert (date(2026, 3, 2) - timedelta(days=1)).isoformat() in table
