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

DEFAULT_START = date(2026, 1, 1)  # used only when there are no contracts at all


def calendar(contracts: Iterable[SourceContract]) -> dg.DailyPartitionsDefinition:
    starts = [c.partitions.start for c in contracts]
    start = min(starts) if starts else DEFAULT_START
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC")


def partition_window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """First and last day (inclusive) of the partitions this run materialises."""
    keys = context.partition_key_range
    return date.fromisoformat(keys.start), date.fromisoformat(keys.end)
