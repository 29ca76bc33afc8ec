"""Materialising a range of partitions of the whole lakehouse (or a selection) in one run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg

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
) -> dg.ExecuteInProcessResult:
    """Run the selected assets (default: every asset that runs, with its checks) for the days
    ``start..end`` in a single run; optionally evaluate the freshness checks of the selected
    assets after them. Unpartitioned assets in the selection (whole-table gold models) run once."""
    runnable = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.is_executable]
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
        tags=range_tags(start, end),
        raise_on_error=raise_on_error,
        run_config={"loggers": {"console": {"config": {"log_level": console_log_level}}}},
    )
