"""Days: inclusive ranges, and which days a run over a range rewrites."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse.contracts.model import SourceContract


def days_between(start: date, end: date) -> list[date]:
    """``start``, ``start + 1``, ..., ``end`` (empty when ``end`` is before ``start``)."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def restated_days(contract: SourceContract, start: date, end: date) -> tuple[date, date] | None:
    """The days a run for ``start..end`` rewrites in bronze and silver: its own and the
    ``lookback_days`` before them (late rows reach those days through today's files), never
    before the source's ``partitions.start``. None when the whole range precedes the source."""
    first = max(start - timedelta(days=contract.partitions.lookback_days), contract.partitions.start)
    return (first, end) if first <= end else None
