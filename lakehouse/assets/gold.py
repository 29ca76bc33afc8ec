"""Gold assets: the dbt project's models, built by dbt-duckdb into the warehouse.

Every model is an asset partitioned on the lakehouse calendar; dbt tests become asset checks
(``severity: warn`` in dbt is a non-blocking check). Silver tables enter dbt as sources named
``silver.<entity>`` and map to the ``silver/<entity>`` assets, so the graph runs unbroken from
landing to mart.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from lakehouse.assets.partitions import partition_window
from lakehouse.resources.dbt import dbt_project


class LakehouseTranslator(DagsterDbtTranslator):
    """Keys: ``silver/<table>`` for silver sources, ``gold/<model>`` for models."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source" and props["source_name"] == "silver":
            return spec.replace_attributes(key=dg.AssetKey(["silver", props["name"]]))
        if props["resource_type"] == "model":
            return spec.replace_attributes(key=dg.AssetKey(["gold", props["name"]]), group_name="gold")
        return spec


def gold_assets(dbt_project_dir: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    project = dbt_project(dbt_project_dir)

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=LakehouseTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        name="gold_dbt_models",
    )
    def _gold(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        start, end = partition_window(context)
        # Microbatch models rebuild one batch per day of [start, end + 1 day).
        args = [
            "build",
            "--event-time-start",
            start.isoformat(),
            "--event-time-end",
            (end + timedelta(days=1)).isoformat(),
        ]
        yield from dbt.cli(args, context=context).stream().fetch_row_counts()

    return _gold
