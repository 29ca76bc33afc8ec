"""How far behind a gold day each source feeding it is: what gold waits for, and what it records.

A source's newest day is the latest day bronze materialised *and silver took in* (silver was
materialised after that bronze day, the same partition for a daily silver table): bronze's
blocking checks failing keeps silver from running, so such a day does not count, and a source
whose blocking check failed does not feed gold. Gold for day E waits until every source's newest
day is E, except a source whose contract allows ``freshness.stale_ok_days: N``: its newest day
may be E - N (``assets/automation.py``). Gold built on a source behind its day tags the run
(``lakehouse/stale_sources``: ``customers=1d``) and puts the same on each materialisation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dagster as dg

from lakehouse.contracts.model import SourceContract
from lakehouse.runs import materialised_at

STALE_TAG = "lakehouse/stale_sources"
RECENT_DAYS = 8  # bronze days looked at, newest first, for one silver has taken in


@dataclass(frozen=True)
class Feed:
    """One source as gold sees it: its bronze and silver keys, and the lag its contract allows."""

    source: str
    bronze: dg.AssetKey
    silver: dg.AssetKey
    silver_daily: bool  # a daily silver table (every daily source's is; kept for clarity)
    stale_ok_days: int = 0


def failed_days(
    instance: dg.DagsterInstance, checks: Sequence[dg.AssetCheckKey], days: Sequence[str]
) -> set[str]:
    """The days whose latest evaluation of one of ``checks`` (blocking ones) failed as an error."""
    from dagster._core.event_api import PartitionKeyFilter
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    failed = set()
    for day in days if checks else ():
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            list(checks), partition_filter=PartitionKeyFilter(key=day)
        )
        if any(r.status == AssetCheckExecutionRecordStatus.FAILED and _is_error(r) for r in latest.values()):
            failed.add(day)
    return failed


def _is_error(record: Any) -> bool:
    """A blocking check blocks only when it fails with ERROR severity (a warning lets it pass,
    as in a run: ``checks/specs.py``)."""
    event = record.event.dagster_event if record.event else None
    evaluation = event.event_specific_data if event else None
    return getattr(evaluation, "severity", dg.AssetCheckSeverity.ERROR) == dg.AssetCheckSeverity.ERROR


def newest_day(
    instance: dg.DagsterInstance, feed: Feed, blocking: Sequence[dg.AssetCheckKey] = ()
) -> date | None:
    """The latest bronze day silver has taken in, no blocking check of ``blocking`` (bronze's and
    silver's) failing on it, or None (none of the recent ones)."""
    days = sorted(instance.get_materialized_partitions(feed.bronze), reverse=True)[:RECENT_DAYS]
    bronze = materialised_at(instance, feed.bronze, set(days))
    if feed.silver_daily:
        silver = materialised_at(instance, feed.silver, set(days))
    else:
        latest = instance.get_latest_materialization_event(feed.silver)
        silver = {day: latest.timestamp for day in days} if latest else {}
    taken = [day for day in days if day in bronze and silver.get(day, 0.0) >= bronze[day]]
    for day in taken:  # the newest first: usually the only one looked up
        if not failed_days(instance, blocking, [day]):
            return date.fromisoformat(day)
    return None


def lag(
    instance: dg.DagsterInstance,
    feeds: Mapping[str, Feed],
    day: date,
    blocking: Mapping[str, Sequence[dg.AssetCheckKey]] | None = None,
) -> dict[str, int | None]:
    """``{source: days behind day}`` for the sources behind it (None: no day taken in at all);
    ``blocking``: each source's blocking checks, whose failure on a day takes it away."""
    behind: dict[str, int | None] = {}
    for name, feed in sorted(feeds.items()):
        newest = newest_day(instance, feed, (blocking or {}).get(name, ()))
        if newest is None:
            behind[name] = None
        elif newest < day:
            behind[name] = (day - newest).days
    return behind


def within_allowance(behind: Mapping[str, int | None], feeds: Mapping[str, Feed]) -> bool:
    return all(days is not None and days <= feeds[name].stale_ok_days for name, days in behind.items())


def describe(behind: Mapping[str, int | None]) -> str:
    return ",".join(
        f"{name}={'none' if days is None else f'{days}d'}" for name, days in sorted(behind.items())
    )


def record_staleness(
    context: dg.AssetExecutionContext, feeds: Mapping[str, Feed], day: date
) -> dict[str, dg.MetadataValue]:
    """Tag the run with the step's stale inputs; return the metadata each materialisation carries."""
    behind = lag(context.instance, feeds, day)
    if not behind:
        return {}
    context.instance.add_run_tags(context.run_id, {STALE_TAG: describe(behind)})
    context.log.warning(
        f"gold for {day} is built on stale inputs: "
        + ", ".join(
            f"{name} has {'no day' if days is None else f'{day - timedelta(days=days)} as its newest day'}"
            for name, days in sorted(behind.items())
        )
    )
    return {STALE_TAG: dg.MetadataValue.json(dict(sorted(behind.items())))}


def source_feeds(contracts: Sequence[SourceContract]) -> dict[str, Feed]:
    """The daily sources gold may wait for (a table refreshed whole has no newest day)."""
    from lakehouse.assets.naming import bronze_key, silver_key

    return {
        c.name: Feed(c.name, bronze_key(c), silver_key(c), True, c.freshness.stale_ok_days)
        for c in contracts
        if c.partitions.partitioned
    }


def feeding(feeds: Mapping[str, Feed], upstream: Collection[dg.AssetKey]) -> dict[str, Feed]:
    """The feeds whose silver table is among ``upstream`` (a gold asset's or step's inputs)."""
    return {name: feed for name, feed in feeds.items() if feed.silver in upstream}
