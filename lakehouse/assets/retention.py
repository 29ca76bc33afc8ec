"""The retention job: each day, expired days leave every layer, then the tables are vacuumed.

An op job rather than an asset: it changes tables other assets own, and must stay out of the
partition-range runs and backfills that select every asset (``--assets '*'``). What it did is
recorded on ``reports/retention``, an external asset (like ``reports/data_slo``) whose
materialisation the job logs with the per-table report, and in the warehouse's
``quality.retention_runs`` (``privacy/retention_log.py``). ``lakehouse vacuum`` runs the vacuum
alone from the command line.
"""

# No ``from __future__ import annotations``: Dagster reads the op's config class from its
# annotation when it decorates the op, inside a function, where a string would not resolve.
from collections.abc import Sequence

import dagster as dg

from lakehouse.assets.metadata import markdown_table
from lakehouse.assets.naming import bronze_key, owners, silver_key
from lakehouse.contracts.model import SourceContract
from lakehouse.resources import PlatformResources
from lakehouse.settings import Settings

RETENTION_KEY = dg.AssetKey(["reports", "retention"])
SCHEDULE = "30 2 * * *"  # daily, after the night's loads


class RetentionConfig(dg.Config):
    # Override of LAKEHOUSE_VACUUM_RETAIN_HOURS for this run (0: vacuum everything unreferenced).
    vacuum_retain_hours: int | None = None


def retention_spec(contracts: Sequence[SourceContract]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=RETENTION_KEY,
        deps=[key for c in contracts for key in (bronze_key(c), silver_key(c))],
        owners=sorted({owner for c in contracts for owner in owners(c)}),
        group_name="reports",
        kinds={"delta"},
        description="What the daily retention job deleted per table (days, rows, files, bytes freed, "
        "Delta versions) under each contract's retention windows, and what vacuum gave back.",
    )


def retention_op(contracts: Sequence[SourceContract], default_hours: int) -> dg.OpDefinition:
    @dg.op(name="apply_retention", required_resource_keys={"lake", "warehouse"})
    def apply(context: dg.OpExecutionContext, config: RetentionConfig) -> None:
        from lakehouse.privacy.retention import ROW_HEADERS, apply_retention
        from lakehouse.privacy.retention_log import record_retention
        from lakehouse.resources.warehouse import WarehouseBusy

        hours = default_hours if config.vacuum_retain_hours is None else config.vacuum_retain_hours
        lake = context.resources.lake
        done = []
        for contract in contracts:
            result = apply_retention(
                contract, landing=lake.landing(), table=lake.table, retain_hours=hours, run_id=context.run_id
            )
            done.append((contract, result))
            for table in result.tables:
                if table.days_deleted or table.vacuumed_files:
                    context.log.info(
                        f"{table.table}: deleted {table.rows_deleted} row(s) of {len(table.days_deleted)} day(s) "
                        f"before {table.cutoff}, {table.files_removed} file(s); vacuum removed "
                        f"{table.vacuumed_files} file(s), {table.bytes_freed} bytes freed"
                    )
                if table.note:
                    context.log.info(f"{table.table}: {table.note}")
        try:
            recorded = record_retention(context.resources.warehouse.path, context.run_id, done)
        except WarehouseBusy as error:  # the deletes are done; the materialisation still says so
            context.log.warning(f"quality.retention_runs not written: {error}")
            recorded = 0
        tables = [t for _, result in done for t in result.tables]
        context.log_event(
            dg.AssetMaterialization(
                asset_key=RETENTION_KEY,
                metadata={
                    "tables": dg.MetadataValue.md(markdown_table(ROW_HEADERS, [t.row() for t in tables])),
                    "days_deleted": sum(len(t.days_deleted) for t in tables),
                    "rows_deleted": sum(t.rows_deleted for t in tables),
                    "files_removed": sum(t.files_removed + t.vacuumed_files for t in tables),
                    "bytes_freed": sum(t.bytes_freed for t in tables),
                    "vacuum_retain_hours": hours,
                    "ledger_rows": recorded,
                },
            )
        )

    return apply


def retention_definitions(
    contracts: Sequence[SourceContract], resources: PlatformResources, settings: Settings
) -> dg.Definitions:
    op = retention_op(contracts, settings.vacuum_retain_hours)
    job = dg.GraphDefinition(name="retention", node_defs=[op]).to_job(
        description="Deletes the days each contract's retention windows expired (landing, bronze, "
        "quarantine, silver), then vacuums the tables; reports on reports/retention."
    )
    schedule = dg.ScheduleDefinition(
        name="retention_daily",
        job=job,
        cron_schedule=SCHEDULE,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return dg.Definitions(
        assets=[retention_spec(contracts)],
        jobs=[job],
        schedules=[schedule],
        resources=resources.pick("lake", "warehouse"),
    )
