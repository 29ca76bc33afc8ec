"""The lakehouse calendar: one daily partitions definition shared by every time-based asset.

Dagster runs a range of partitions in one run only over assets with the same partitions
definition, so the platform derives a single calendar from the contracts (starting at the
earliest ``partitions.start``) instead of one per source. Partition keys are days; each source
maps its event times to days in its own ``partitions.timezone``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import dagster as dg

from lakehouse.contracts.model import SourceContract
from lakehouse.days import PartitionKeyError

DEFAULT_START = date(2026, 1, 1)  # used only when there are no contracts at all


def calendar(contracts: Iterable[SourceContract]) -> dg.DailyPartitionsDefinition:
    starts = [c.partitions.start for c in contracts if c.partitions.partitioned]
    start = min(starts) if starts else DEFAULT_START
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC")


def calendar_bounds(days: dg.PartitionsDefinition) -> tuple[str, str | None]:
    """The calendar's first and last day (the last complete day, UTC; None before the first ends)."""
    assert isinstance(days, dg.TimeWindowPartitionsDefinition)
    return days.start.date().isoformat(), days.get_last_partition_key()


def _bounds_text(days: dg.PartitionsDefinition) -> str:
    first, last = calendar_bounds(days)
    return (
        f"the calendar runs from {first} to {last} (the last complete day, UTC)"
        if last
        else (f"the calendar starts on {first} and has no complete day yet")
    )


def parse_day(text: str, days: dg.PartitionsDefinition) -> date:
    """A partition key as a date, or ``PartitionKeyError`` naming it and the calendar's bounds."""
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise PartitionKeyError(
            f"partition key {text!r} is not a day (YYYY-MM-DD: {error}); {_bounds_text(days)}"
        ) from None


def check_range(days: dg.PartitionsDefinition, start: date, end: date) -> None:
    """Refuse, in one line, a range that is reversed or reaches outside the calendar, before any
    run starts (Dagster would print a traceback, or start a run that fails)."""
    if end < start:
        raise PartitionKeyError(
            f"partition range {start}...{end} is reversed (its start is after its end); {_bounds_text(days)}"
        )
    first, last = calendar_bounds(days)
    for day in (start, end):
        if day.isoformat() < first or last is None or day.isoformat() > last:
            raise PartitionKeyError(f"partition key {day} is outside the calendar: {_bounds_text(days)}")


def partition_window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last day (inclusive) of the partitions this run materialises.

    Dagster refuses keys outside the calendar before a run, but not a reversed range
    (``--partition-range 2026-02-05...2026-02-01``): such a run stops here, at its first step,
    in one line naming the range, before anything is read or written."""
    keys = context.partition_key_range
    start, end = date.fromisoformat(keys.start), date.fromisoformat(keys.end)
    if end < start:
        raise dg.Failure(
            description=f"partition range {keys.start}...{keys.end} is reversed: its start is after its end "
            f"(write it as {keys.end}...{keys.start}); nothing was read or written"
        )
    return start, end
