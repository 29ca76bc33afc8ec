"""Gold assets: the dbt project's models, built by dbt-duckdb into the warehouse.

Every model is an asset partitioned on the lakehouse calendar; dbt tests become asset checks
(``severity: warn`` in dbt is a non-blocking check). Silver tables enter dbt as sources named
``silver.<entity>`` and map to the ``silver/<entity>`` assets (``gold/translator.py``), so the
graph runs unbroken from landing to mart. The asset declares; ``gold/build.py`` runs dbt.
"""

from collections.abc import Mapping, Sequence

import dagster as dg
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from lakehouse.assets.naming import owners
from lakehouse.contracts.loader import ContractSet
from lakehouse.gold.build import build_gold
from lakehouse.gold.translator import LakehouseTranslator
from lakehouse.resources import DuckDBWarehouse, PlatformResources
from lakehouse.resources.dbt import dbt_project, dbt_resource
from lakehouse.settings import Settings


def gold_assets(
    settings: Settings,
    calendar: dg.TimeWindowPartitionsDefinition,
    lookback_days: int,
    owners_by_source: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> dg.AssetsDefinition:
    """``lookback_days``: the days before a run's own that silver may have changed (the largest
    of the sources'), rebuilt with them so late rows reach the marts in the daily run.
    ``owners_by_source``: the owners of each dbt source, for models that declare none."""
    project = dbt_project(settings)
    calendar_start = calendar.start.date()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=LakehouseTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True),
            calendar=calendar,
            owners_by_source=owners_by_source,
        ),
        partitions_def=calendar,
        backfill_policy=dg.BackfillPolicy.single_run(),
        name="gold_dbt_models",
    )
    def _gold(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBWarehouse):
        yield from build_gold(
            context, dbt, warehouse, project, lookback_days=lookback_days, calendar_start=calendar_start
        )

    return _gold


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
        assets=[gold_assets(settings, calendar, lookback, owners_by_source)],
        resources={"dbt": dbt_resource(settings), **resources.pick("warehouse")},
    )
