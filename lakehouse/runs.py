"""Materialising a range of partitions of the whole lakehouse (or a selection) in one run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import dagster as dg

from lakehouse.assets.partitions import check_range

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(start: date, end: date) -> dict[str, str]:
    """Tags that make one run cover ``start..end`` (assets need ``BackfillPolicy.single_run()``)."""
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


def materialize_range(
    defs: dg.Definitions,
    start: date,
    end: date,
    *,
    instance: dg.DagsterInstance | None = None,
    selection: str | Sequence[str] | dg.AssetSelection | None = None,
    with_freshness_checks: bool = False,
    raise_on_error: bool = True,
    console_log_level: str = "INFO",
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Run the selected assets (default: all of them, with their checks) for the days
    ``start..end`` in a single run (unpartitioned ones once); optionally evaluate the freshness checks after them.
    ``run_config`` is merged into the run's (e.g. ``{"ops": {"bronze__orders": {"config":
    {"allow_missing_files": True}}}}``); ``tags`` are added to the range tags."""
    # The day-partitioned assets, and the unpartitioned ones (sources refreshed whole, which the
    # daily ones may join): Dagster runs them together in a range run.
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    partitioned = [a for a in assets if a.partitions_def is not None]
    if partitioned and partitioned[0].partitions_def is not None:
        check_range(partitioned[0].partitions_def, start, end)  # one line, before any run starts
    checks = list(defs.asset_checks or []) if with_freshness_checks else []
    if with_freshness_checks and selection is None:
        selection = dg.AssetSelection.assets(*assets) | dg.AssetSelection.checks(*checks)
    return dg.materialize(
        [*assets, *checks],
        resources=defs.resources,
        instance=instance,
        selection=selection,
        tags={**(tags or {}), **range_tags(start, end)},
        raise_on_error=raise_on_error,
        run_config={
            "loggers": {"console": {"config": {"log_level": console_log_level}}},
            **(run_config or {}),
        },
    )
