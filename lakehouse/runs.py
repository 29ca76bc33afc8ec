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
    """Run the selected assets (default: every asset that runs, with its checks) for the days
    ``start..end`` in a single run; optionally evaluate the freshness checks of the selected
    assets after them. Unpartitioned assets in the selection (sources refreshed whole, which the
    daily ones may join, and whole-table gold models) run once. ``run_config`` is merged into the
    run's (e.g. ``{"ops": {"bronze__orders": {"config": {"allow_missing_files": True}}}}``);
    ``tags`` are added to the range tags."""
    runnable = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.is_executable]
    partitioned = [a.partitions_def for a in runnable if a.partitions_def is not None]
    if partitioned:
        check_range(partitioned[0], start, end)  # one line, before any run starts
    checks = list(defs.asset_checks or []) if with_freshness_checks else []
    if with_freshness_checks:
        chosen = (
            dg.AssetSelection.all()
            if selection is None
            else dg.AssetSelection.from_string(selection)
            if isinstance(selection, str)
            else dg.AssetSelection.from_coercible(selection)
        )
        keys = chosen.resolve(defs.resolve_asset_graph())
        targeting = [key for c in checks for key in c.check_keys if key.asset_key in keys]
        selection = dg.AssetSelection.assets(*keys) | dg.AssetSelection.checks(*targeting)
    return dg.materialize(
        [*runnable, *checks],
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


def materialised_at(instance: dg.DagsterInstance, key: dg.AssetKey, days: set[str]) -> dict[str, float]:
    """When each of ``days`` of ``key`` was last materialised (POSIX time), for those that were."""
    if not days:
        return {}
    ids = instance.get_latest_storage_id_by_partition(
        key, dg.DagsterEventType.ASSET_MATERIALIZATION, partitions=days
    )
    if not ids:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=list(ids.values())), limit=len(ids)
    ).records
    return {r.partition_key: r.timestamp for r in records if r.partition_key}
