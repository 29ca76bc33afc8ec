"""Gold assets: the dbt project's models, built by dbt-duckdb into the warehouse.

Every model is an asset partitioned on the lakehouse calendar; dbt tests become asset checks
(``severity: warn`` in dbt is a non-blocking check). Silver tables enter dbt as sources named
``silver.<entity>`` and map to the ``silver/<entity>`` assets, so the graph runs unbroken from
landing to mart.
"""

import os
import shutil
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from lakehouse.assets.metadata import record_restated_days
from lakehouse.assets.partitions import partition_window
from lakehouse.days import days_between
from lakehouse.resources.dbt import dbt_project
from lakehouse.resources.warehouse import GOLD_WAIT_SECONDS, DuckDBWarehouse, warehouse_lock


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


def gold_assets(
    dbt_project_dir: str, partitions_def: dg.TimeWindowPartitionsDefinition, lookback_days: int
) -> dg.AssetsDefinition:
    """``lookback_days``: the days before a run's own that silver may have changed (the largest
    of the sources'), rebuilt with them so late rows reach the marts in the daily run."""
    project = dbt_project(dbt_project_dir)
    calendar_start = partitions_def.start.date()

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
    def _gold(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBWarehouse):
        start, end = partition_window(context)
        first = max(start - timedelta(days=lookback_days), calendar_start)
        # Microbatch models rebuild one batch per day of [first, end + 1 day).
        args = [
            "build",
            "--event-time-start",
            first.isoformat(),
            "--event-time-end",
            (end + timedelta(days=1)).isoformat(),
        ]
        # DuckDB lets one process open the file: wait for the ledger's sensor or a command that
        # holds it, rather than fail. Collected, not streamed: row counts can only be read once
        # dbt has let go of the file.
        with warehouse_lock(
            warehouse.path,
            wait_seconds=GOLD_WAIT_SECONDS,
            on_wait=lambda: context.log.info(f"waiting for another user of {warehouse.path} to finish"),
        ):
            invocation = dbt.cli(args, context=context)
            events = list(invocation.stream())
            counted = list(with_row_counts(events, context, warehouse))
        keep_partial_parse(invocation.target_path, project)
        rebuilt = {day: {} for day in days_between(first, start - timedelta(days=1))}
        for key in context.selected_asset_keys:  # first: see the bronze asset
            record_restated_days(context, key, rebuilt)
        yield from counted

    return _gold


def keep_partial_parse(run_target: Path, project: DbtProject) -> None:
    """Make this run's parse the one the next run starts from.

    dagster-dbt gives every run a fresh target folder seeded with the project's
    ``partial_parse.msgpack``. When the settings differ from those the manifest was built with
    (another warehouse path changes dbt's profile), dbt re-parses from scratch, and without this
    every later run would too.
    """
    produced = run_target / "partial_parse.msgpack"
    kept = Path(project.project_dir) / project.target_path / "partial_parse.msgpack"
    if not produced.exists() or (kept.exists() and kept.read_bytes() == produced.read_bytes()):
        return
    kept.parent.mkdir(parents=True, exist_ok=True)
    staging = kept.with_name(f".{kept.name}.{os.getpid()}")
    shutil.copyfile(produced, staging)
    os.replace(staging, kept)  # atomic: a concurrent run reads the old file or the new one


def with_row_counts(
    events: list[Any], context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse
) -> Iterator[Any]:
    """Add ``dagster/row_count`` to each model's output.

    Counted through a short-lived read-only connection: dagster-dbt's ``fetch_row_counts``
    leaves the dbt adapter's connection open in this process, which locks the next dbt run
    (another process) out of the warehouse file.
    """
    tables = {}
    for event in events:
        if isinstance(event, dg.Output):
            key = context.assets_def.keys_by_output_name.get(event.output_name)
            table = key and context.assets_def.specs_by_key[key].metadata.get("dagster/table_name")
            if table:
                tables[event.output_name] = str(table)
    counts: dict[str, int] = {}
    if tables:
        with warehouse.connect(read_only=True) as con:
            for output, table in tables.items():
                counts[output] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in counts:
            yield event.with_metadata({**event.metadata, "dagster/row_count": counts[event.output_name]})
        else:
            yield event
