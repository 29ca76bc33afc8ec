"""Gold assets: the dbt project's models, built by dbt-duckdb into the warehouse.

Two ``@dbt_assets`` definitions, chosen by dbt config (``gold/manifest.py``): the microbatch
models on the lakehouse calendar (a run rebuilds its days), and every other model, rebuilt whole,
as unpartitioned assets downstream of the partitioned silver ones. Both have a single-run
backfill policy, so a range of days over any selection is one run (``--select '*'
--partition-range``, the UI's backfills). dbt tests become asset checks (``severity: warn`` in
dbt is a non-blocking check). Silver tables enter dbt as sources named ``silver.<entity>`` and
map to the ``silver/<entity>`` assets (``gold/translator.py``), so the graph runs unbroken from
landing to mart. The assets declare; ``gold/build.py`` runs dbt.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from lakehouse.assets.naming import owners
from lakehouse.contracts.loader import ContractSet
from lakehouse.contracts.model import SourceContract
from lakehouse.gold.build import build_gold
from lakehouse.gold.manifest import GoldPart, attach_ephemeral_tests, fqn, split
from lakehouse.gold.staleness import Feed, source_feeds
from lakehouse.gold.translator import LakehouseTranslator
from lakehouse.resources import DuckDBWarehouse, PlatformResources
from lakehouse.resources.dbt import dbt_project, dbt_resource
from lakehouse.settings import Settings


def _gold_part(
    name: str,
    part: GoldPart,
    manifest: Mapping[str, Any],
    project: DbtProject,
    partitions_def: dg.TimeWindowPartitionsDefinition | None,
    *,
    lookback_days: int,
    owners_by_source: Mapping[tuple[str, str], Sequence[str]],
    contracts: Sequence[SourceContract],
    feeds: Mapping[str, Feed],
) -> dg.AssetsDefinition:
    """``feeds``: the daily sources, to tell which inputs were stale (``gold/staleness.py``)."""
    extra_tests = tuple(fqn(manifest, unique_id) for unique_id in part.extra_tests)
    calendar_start = partitions_def.start.date() if partitions_def else None

    @dbt_assets(
        manifest=manifest,
        project=project,
        select=part.select,
        exclude=part.exclude,
        dagster_dbt_translator=LakehouseTranslator(
            owns_source_tests=part.owns_source_tests,
            calendar=partitions_def,
            owners_by_source=owners_by_source,
        ),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        name=name,
    )
    def _gold(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBWarehouse):
        stale = _staleness(context, feeds, daily=partitions_def is not None)
        for event in build_gold(
            context,
            dbt,
            warehouse,
            project,
            lookback_days=lookback_days,
            calendar_start=calendar_start,
            extra_tests=extra_tests,
            contracts=contracts,
        ):
            yield (
                event.with_metadata({**event.metadata, **stale})
                if stale and isinstance(event, dg.Output)
                else event
            )

    return _gold


def _staleness(
    context: dg.AssetExecutionContext, feeds: Mapping[str, Feed], *, daily: bool
) -> dict[str, dg.MetadataValue]:
    """The step's stale inputs (``gold/staleness.py``), tagged on the run; the metadata to add."""
    from datetime import UTC, datetime, timedelta

    from lakehouse.assets.partitions import partition_window
    from lakehouse.gold.staleness import feeding, record_staleness

    day = partition_window(context)[1] if daily else datetime.now(UTC).date() - timedelta(days=1)
    return record_staleness(context, feeding(feeds, context.assets_def.dependency_keys), day)


def gold_assets(
    settings: Settings,
    calendar: dg.TimeWindowPartitionsDefinition,
    lookback_days: int,
    owners_by_source: Mapping[tuple[str, str], Sequence[str]] | None = None,
    contracts: Sequence[SourceContract] = (),
    feeds: Mapping[str, Feed] | None = None,
) -> list[dg.AssetsDefinition]:
    """``lookback_days``: the days before a run's own that silver may have changed (the largest
    of the sources'), rebuilt with them so late rows reach the daily marts in the daily run.
    ``owners_by_source``: the owners of each dbt source, for models that declare none;
    ``contracts``: the sources, whose personal columns each model's ``lakehouse/pii_columns``
    traces; ``feeds``: the daily sources, to tell which inputs were stale."""
    owner_map = dict(owners_by_source or {})
    daily_feeds = dict(feeds or {})
    project = dbt_project(settings)
    manifest, attached = attach_ephemeral_tests(json.loads(project.manifest_path.read_text()))
    parts = split(manifest, attached)
    assets = []
    if parts.daily:
        assets.append(
            _gold_part(
                "gold_dbt_models",
                parts.daily,
                manifest,
                project,
                calendar,
                lookback_days=lookback_days,
                owners_by_source=owner_map,
                contracts=contracts,
                feeds=daily_feeds,
            )
        )
    if parts.whole:
        assets.append(
            _gold_part(
                "gold_dbt_tables",
                parts.whole,
                manifest,
                project,
                None,
                lookback_days=0,
                owners_by_source=owner_map,
                contracts=contracts,
                feeds=daily_feeds,
            )
        )
    return assets


def gold_definitions(
    settings: Settings,
    contracts: ContractSet,
    calendar: dg.TimeWindowPartitionsDefinition,
    resources: PlatformResources,
) -> dg.Definitions:
    lookback = max((loaded.contract.partitions.lookback_days for loaded in contracts), default=0)
    owners_by_source = {
        ("silver", loaded.contract.entity_name): owners(loaded.contract) for loaded in contracts
    }
    return dg.Definitions(
        assets=gold_assets(
            settings,
            calendar,
            lookback,
            owners_by_source,
            [loaded.contract for loaded in contracts],
            source_feeds([loaded.contract for loaded in contracts]),
        ),
        resources={"dbt": dbt_resource(settings), **resources.pick("warehouse")},
    )
