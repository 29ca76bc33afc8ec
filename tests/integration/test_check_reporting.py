"""How a step's check outcomes reach Dagster (``checks/outcome.report``, ``assets/metadata.record_days``),
through real runs on a real instance, read back the way the UI reads them: the check's
per-partition state (its Partitions tab), its headline (``executionForLatestMaterialization``:
the latest execution row, if it targets the latest materialisation), each day's materialisation.

One asset whose step reports planted outcomes, so each case is exact: a range run with a
lookback day, single-day runs (Dagster files the step's result under that day) whose own day
fails while the lookback days pass, and a clean run after an old day failed with a warning.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from lakehouse.assets.metadata import record_days
from lakehouse.checks.outcome import ERROR, WARN, CheckOutcome, DayResult, report

pytestmark = pytest.mark.slow

KEY = dg.AssetKey(["bronze", "planted"])
CALENDAR = dg.DailyPartitionsDefinition(start_date="2025-12-01")
CHECK = dg.AssetCheckKey(KEY, "planted_check")
PLANTED: dict[str, tuple[bool, str]] = {}  # day -> (passed, severity); unlisted days pass


@dg.asset(
    key=KEY,
    partitions_def=CALENDAR,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[dg.AssetCheckSpec(CHECK.name, asset=KEY, blocking=True, partitions_def=CALENDAR)],
)
def planted(context):  # (no annotation: this module postpones them, Dagster reads them)
    first = date.fromisoformat(context.partition_key_range.start) - timedelta(days=1)  # one lookback day
    last = date.fromisoformat(context.partition_key_range.end)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    record_days(context, KEY, {d: {"dagster/row_count": 10 * d.day} for d in days})
    yield dg.MaterializeResult()
    results = [
        DayResult(d.isoformat(), *PLANTED.get(d.isoformat(), (True, ERROR)), summary="planted") for d in days
    ]
    yield from report(context, [CheckOutcome(KEY, CHECK.name, blocking=True, days=results)])


def run(instance: dg.DagsterInstance, start: str, end: str | None = None) -> dg.ExecuteInProcessResult:
    """A range run (range tags, as ``materialize_range`` and UI backfills), or with ``end`` None a
    single-partition run (the ``dagster/partition`` tag, as the UI's one-partition launch)."""
    tags = (
        {"dagster/partition": start}
        if end is None
        else {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    )
    return dg.materialize([planted], instance=instance, tags=tags, raise_on_error=False)


def partition_statuses(instance: dg.DagsterInstance) -> dict[str, str]:
    """What the Partitions tab counts: a day's latest execution, only while it is current."""
    return {
        info.partition_key: info.latest_execution_status.value
        for info in instance.event_log_storage.get_asset_check_partition_info([CHECK])
        if info.partition_key and info.is_current
    }


def headline(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([CHECK])[CHECK]
    assert record.status != AssetCheckExecutionRecordStatus.PLANNED
    evaluation = record.event.asset_check_evaluation
    latest = instance.get_latest_materialization_event(KEY)
    # The UI shows it only if it targets the asset's latest materialisation (or is of that run).
    assert (
        record.run_id == latest.run_id
        or evaluation.target_materialization_data.storage_id == latest.storage_id
    )
    return evaluation


def row_count(instance: dg.DagsterInstance, day: str) -> int:
    [record] = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=KEY, asset_partitions=[day]), limit=1
    ).records
    return record.asset_materialization.metadata["dagster/row_count"].value


@pytest.fixture
def instance(tmp_path: Path):
    PLANTED.clear()
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        yield instance


def test_a_range_run_shows_every_day_and_its_worst_result_as_headline(instance: dg.DagsterInstance) -> None:
    PLANTED["2026-01-02"] = (False, WARN)
    assert run(instance, "2026-01-01", "2026-01-03").success  # a warning does not block
    assert partition_statuses(instance) == {
        "2025-12-31": "SUCCEEDED",  # the lookback day, with its own materialisation
        "2026-01-01": "SUCCEEDED",
        "2026-01-02": "FAILED",
        "2026-01-03": "SUCCEEDED",
    }
    top = headline(instance)
    assert (top.passed, top.severity, top.partition) == (False, dg.AssetCheckSeverity.WARN, None)
    assert "2026-01-02 (warn)" in top.description
    assert [row_count(instance, d) for d in ("2025-12-31", "2026-01-01", "2026-01-02")] == [310, 10, 20]


def test_a_single_day_run_headline_is_its_own_result_not_the_lookback_day(
    instance: dg.DagsterInstance,
) -> None:
    assert run(instance, "2026-01-01", "2026-01-03").success
    PLANTED["2026-01-05"] = (False, WARN)
    assert run(instance, "2026-01-05").success  # the lookback day 01-04 passes, logged after
    statuses = partition_statuses(instance)
    assert (statuses["2026-01-04"], statuses["2026-01-05"]) == ("SUCCEEDED", "FAILED")
    top = headline(instance)
    assert (top.passed, top.severity, top.partition) == (False, dg.AssetCheckSeverity.WARN, None)
    assert row_count(instance, "2026-01-05") == 50

    # A clean run later, of a blocking check: still a warning (the day failing now is a
    # warning), not the red a passing blocking check would otherwise carry.
    assert run(instance, "2026-01-03").success
    top = headline(instance)
    assert (top.passed, top.severity) == (True, dg.AssetCheckSeverity.WARN)
    assert partition_statuses(instance)["2026-01-05"] == "FAILED"


def test_an_error_day_blocks_and_is_the_headline_of_a_single_day_run(instance: dg.DagsterInstance) -> None:
    PLANTED["2026-01-05"] = (False, ERROR)
    result = run(instance, "2026-01-05")
    assert not result.success  # blocking, error: the step fails after recording everything
    assert partition_statuses(instance) == {"2026-01-04": "SUCCEEDED", "2026-01-05": "FAILED"}
    top = headline(instance)
    assert (top.passed, top.severity, top.partition) == (False, dg.AssetCheckSeverity.ERROR, None)
