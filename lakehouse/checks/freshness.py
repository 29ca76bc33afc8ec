"""Freshness: each source's day must be in bronze once ``freshness.max_lag`` after it has passed.

A day's deadline is a daily cron in the source's timezone (``deadline_cron``); at each deadline
the day just ended is due (Dagster's rule for time-partition freshness: the latest UTC day
completed by the deadline). A day is fresh when its first materialisation came by its deadline
(or it is not due yet); late, a warning, when it came after (a backfill's days, a delivery that
missed the deadline); missing, an error, when its deadline has passed and bronze does not have
it. The first materialisation is the one that counts: restating a day later does not make it
late.

Dagster's own builder (``build_time_partition_freshness_checks``) asks the same question, but
its check is not partitioned: one result per evaluation with no day, so the UI's Partitions tab
of the check stays empty, and its sensor launches check runs without a partition, which a
partitioned check cannot execute (Dagster raises "Cannot access partition_key for a
non-partitioned run", seen on 1.13.27). So the platform declares ``freshness_check`` itself, as
a partitioned check on every bronze asset: it judges each day of the run it is part of (a UI
launch or ``lakehouse checks run`` includes it) and the day due now, and reports them like every
other check (``outcome.report``); its sensor (``sensors/freshness.py``) launches it for the due
day. ``FreshnessPolicy`` is not used either: it tracks when an asset was last materialised, so
backfilling an old day would make a stale source look fresh.

The contract refuses lags whose deadline would not name the day just ended
(``contracts.model.max_lag_range``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import dagster as dg
from dagster._time import get_current_datetime

from lakehouse.assets.naming import bronze_key
from lakehouse.checks.outcome import ERROR, WARN, CheckOutcome, DayResult, report
from lakehouse.contracts.model import SourceContract

FRESHNESS = "freshness_check"  # the name Dagster's freshness checks carry, kept for the ledger and UI


def deadline_cron(contract: SourceContract) -> str:
    """``max_lag`` 6h → ``0 6 * * *``: at 06:00 every day, yesterday's partition must exist.

    A zone east of UTC allows lags of a day or more (``max_lag_range``): 26h ticks at 02:00, two
    days after the day began, which maps to the right day because the calendar is UTC.
    """
    minutes = int(contract.freshness.max_lag_delta.total_seconds() // 60)
    return f"{minutes % 60} {minutes // 60 % 24} * * *"


def deadline(contract: SourceContract, day: date) -> datetime:
    """When ``day`` becomes due: the first deadline tick once the UTC day has ended."""
    from dagster._utils.schedules import cron_string_iterator

    ended = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    ticks = cron_string_iterator(ended.timestamp(), deadline_cron(contract), contract.partitions.timezone)
    return next(ticks).astimezone(UTC)


def due_day(contract: SourceContract, now: datetime) -> date:
    """The day the latest deadline before ``now`` made due."""
    from dagster._utils.schedules import get_latest_completed_cron_tick

    tick = get_latest_completed_cron_tick(deadline_cron(contract), now, contract.partitions.timezone)
    return tick.astimezone(UTC).date() - timedelta(days=1)


def first_arrivals(
    instance: dg.DagsterInstance, key: dg.AssetKey, days: Sequence[date]
) -> dict[date, datetime]:
    """When each of ``days`` was first materialised (absent if never)."""
    arrived: dict[date, datetime] = {}
    if not days:
        return arrived
    cursor = None
    while True:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[d.isoformat() for d in days]),
            limit=1000,
            cursor=cursor,
            ascending=True,
        )
        for record in page.records:
            if record.partition_key is not None:
                arrived.setdefault(
                    date.fromisoformat(record.partition_key), datetime.fromtimestamp(record.timestamp, UTC)
                )
        if not page.has_more:
            return arrived
        cursor = page.cursor


def judge(
    instance: dg.DagsterInstance, contract: SourceContract, days: Sequence[date], now: datetime
) -> CheckOutcome:
    """Each of ``days``: in bronze by its deadline, not due yet, late (a warning: it arrived after
    its deadline, as a backfill's days do), or missing past its deadline (an error)."""
    key = bronze_key(contract)
    arrived = first_arrivals(instance, key, days)
    results = []
    for day in sorted(set(days)):
        due = deadline(contract, day)
        metadata: dict[str, object] = {"deadline": dg.MetadataValue.timestamp(due.timestamp())}
        first = arrived.get(day)
        if first is not None:
            metadata["arrived"] = dg.MetadataValue.timestamp(first.timestamp())
        if first is not None and first <= due:
            results.append(
                DayResult(
                    day.isoformat(), passed=True, metadata={**metadata, "note": "in bronze by its deadline"}
                )
            )
        elif first is not None:
            late = (first - due).total_seconds()
            metadata["late_seconds"] = int(late)
            summary = f"arrived {late / 3600:.1f} h after its deadline ({due:%Y-%m-%d %H:%M} UTC)"
            results.append(
                DayResult(day.isoformat(), passed=False, severity=WARN, metadata=metadata, summary=summary)
            )
        elif due > now:
            note = f"not due until {due:%Y-%m-%d %H:%M} UTC"
            results.append(DayResult(day.isoformat(), passed=True, metadata={**metadata, "note": note}))
        else:
            overdue = (now - due).total_seconds()
            metadata["overdue_seconds"] = int(overdue)
            summary = f"not in bronze {overdue / 3600:.1f} h after its deadline ({due:%Y-%m-%d %H:%M} UTC)"
            results.append(
                DayResult(day.isoformat(), passed=False, severity=ERROR, metadata=metadata, summary=summary)
            )
    return CheckOutcome(
        asset_key=key,
        name=FRESHNESS,
        blocking=False,
        days=results,
        metadata={"max_lag": contract.freshness.max_lag, "deadline_cron": deadline_cron(contract)},
    )


def freshness_checks(
    contracts: Sequence[SourceContract], calendar: dg.PartitionsDefinition
) -> list[dg.AssetChecksDefinition]:
    """One partitioned ``freshness_check`` per source's bronze asset, in one definition.

    A source with ``freshness.enabled: false``, a finished one (``partitions.end``) or one
    refreshed whole has none: its next day will never come, and a check that fails forever says
    nothing."""
    checked = [c for c in contracts if c.freshness_checked]
    if not checked:
        return []
    by_key = {bronze_key(c): c for c in checked}

    @dg.multi_asset_check(
        name="source_freshness_checks",
        specs=[
            dg.AssetCheckSpec(
                FRESHNESS,
                asset=key,
                partitions_def=calendar,
                blocking=False,
                description=f"Each day is in bronze by {contract.freshness.max_lag} after it ends "
                f"(deadline cron {deadline_cron(contract)!r} in {contract.partitions.timezone}); "
                "judged for the days of the run it is part of and the day due now.",
            )
            for key, contract in by_key.items()
        ],
        can_subset=True,
    )
    def source_freshness_checks(context):  # an AssetCheckExecutionContext (annotations are postponed here)
        op = context.op_execution_context
        now = get_current_datetime()  # Dagster's clock (tests can set it)
        run_days = (
            [date.fromisoformat(k) for k in op.partition_keys]
            if op.has_partition_key or op.has_partition_key_range
            else []
        )
        outcomes = []
        for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string()):
            contract = by_key[check_key.asset_key]
            days = {d for d in run_days if d >= contract.partitions.start}
            due = due_day(contract, now)
            if due >= contract.partitions.start:
                days.add(due)
            outcomes.append(judge(context.instance, contract, sorted(days), now))
        yield from report(op, outcomes)

    return [source_freshness_checks]


def freshness_definitions(
    contracts: Sequence[SourceContract], calendar: dg.PartitionsDefinition
) -> dg.Definitions:
    """The freshness checks and the sensor that evaluates them."""
    from lakehouse.sensors.freshness import freshness_sensor

    checks = freshness_checks(contracts, calendar)
    return dg.Definitions(
        asset_checks=checks, sensors=[freshness_sensor(contracts, checks)] if checks else []
    )
