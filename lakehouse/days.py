"""Days: inclusive ranges, and which days a run over a range rewrites."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse.contracts.model import SourceContract


class PartitionKeyError(ValueError):
    """A day or range the calendar does not have; its message is one line naming both (kept
    here, free of Dagster, so the command line can catch it without importing Dagster)."""


def days_between(start: date, end: date) -> list[date]:
    """``start``, ``start + 1``, ..., ``end`` (empty when ``end`` is before ``start``)."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def restated_days(contract: SourceContract, start: date, end: date) -> tuple[date, date] | None:
    """The days a run for ``start..end`` rewrites in bronze and silver: its own and the
    ``lookback_days`` before them (late rows reach those days through today's files), never
    outside the source's history (``partitions.start``, and ``partitions.end`` when it has one).
    None when the run has no day of the source's history: there is nothing to do."""
    partitions = contract.partitions
    if end < partitions.start or (partitions.end is not None and start > partitions.end):
        return None  # the run's own days are all before the source's start or all after its end
    first = max(start - timedelta(days=partitions.lookback_days), partitions.start)
    last = min(end, partitions.end) if partitions.end else end
    return (first, last) if first <= last else None
