"""What every contract-driven asset (bronze, silver) is declared with, in one place.

Both layers are daily-partitioned Delta tables derived from one contract: they share the
calendar, the single-run backfill policy (a range of days is one run), the kinds, the owners,
the contract's content hash as code version and the contract's path in the metadata. Each
layer's factory adds only what is its own: key, upstream, checks, description, resources.

The asset may skip: a run whose days are all outside the source's history (before its
``partitions.start``, after its ``partitions.end``; the calendar is shared, so other sources may
have those days) writes nothing and must record nothing, neither a materialisation nor a check
result. Dagster allows that for a ``multi_asset`` whose spec is ``skippable`` and which
``can_subset`` (a plain ``@asset``'s check outputs are required: the step failed with
``DagsterStepOutputNotFoundError``). Its op keeps the name ``@asset`` gave it
(``bronze__orders``), so run config written for it still applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg

from lakehouse.assets.naming import owners
from lakehouse.contracts.loader import LoadedContract


def contract_asset(
    loaded: LoadedContract,
    *,
    key: dg.AssetKey,
    layer: str,
    upstream: dg.AssetKey,
    calendar: dg.PartitionsDefinition | None,
    check_specs: Sequence[dg.AssetCheckSpec],
    description: str,
    metadata: Mapping[str, Any],
    resources: set[str],
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """The decorator of a layer's asset for one contract (``calendar`` None: unpartitioned, a
    source refreshed whole; it keeps the single-run policy, so a range run may include it)."""
    spec = dg.AssetSpec(
        key=key,
        deps=[upstream],
        partitions_def=calendar,
        group_name=layer,
        kinds={"delta", "duckdb"},
        owners=owners(loaded.contract),
        code_version=loaded.version,
        description=description.strip(),
        metadata={"contract": str(loaded.path), **metadata},
        skippable=True,
    )
    return dg.multi_asset(
        name=key.to_python_identifier(),
        specs=[spec],
        check_specs=check_specs,
        can_subset=True,
        partitions_def=calendar,
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys=resources,
        # One pool per source (deploy/dagster.yaml limits each to one step at a time): a
        # backfill and a daily run never write a source's tables at once, and neither starves.
        pool=source_pool(loaded.contract.name),
    )


def source_pool(source: str) -> str:
    return f"source_{source}"
