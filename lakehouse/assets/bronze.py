"""Bronze assets: one per contract, landing files → typed Delta table + quarantine."""

import dagster as dg
from pydantic import Field

from lakehouse.assets.metadata import bronze_metadata, column_schema, record_restated_days
from lakehouse.assets.naming import bronze_key, landing_key, owners
from lakehouse.assets.partitions import partition_window
from lakehouse.contracts.loader import LoadedContract


class BronzeRunConfig(dg.Config):
    """Set in the launchpad (or run config) for one run; the defaults are the safe choice."""

    allow_missing_files: bool = Field(
        default=False,
        description="Rewrite days whose rows came from landing files that are gone, accepting that "
        "those rows disappear from bronze. Without it such a run stops and names the files.",
    )


def bronze_asset(loaded: LoadedContract, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    contract = loaded.contract
    needs_pii_key = bool(contract.pii_columns)
    key = bronze_key(contract)

    @dg.asset(
        key=key,
        deps=[landing_key(contract)],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="bronze",
        kinds={"delta", "duckdb"},
        owners=owners(contract),
        code_version=loaded.version,
        description=f"{contract.description} Source-faithful rows typed by the contract, partitioned by "
        f"event date; rows that fail parsing or typing go to quarantine. A run also rewrites the "
        f"{contract.partitions.lookback_days} days before its own, where late rows land.".strip(),
        metadata={
            "dagster/column_schema": column_schema(contract),
            "contract": str(loaded.path),
            "pii_columns": dg.MetadataValue.json(contract.pii_columns),
        },
        required_resource_keys={"lake", "pii"} if needs_pii_key else {"lake"},
    )
    def _bronze(context: dg.AssetExecutionContext, config: BronzeRunConfig) -> dg.MaterializeResult:
        from lakehouse.ingest.bronze import ingest_range  # DuckDB, Delta: loaded for runs only

        start, end = partition_window(context)
        lake = context.resources.lake
        result = ingest_range(
            contract,
            start=start,
            end=end,
            landing_root=lake.landing_root,
            bronze=lake.table("bronze", contract.name),
            quarantine=lake.table("quarantine", contract.name),
            pii_key=context.resources.pii.key if needs_pii_key else None,
            run_id=context.run_id,
            commit_metadata={"contract_version": loaded.version},
            allow_missing_files=config.allow_missing_files,
        )
        context.log.info(
            f"{contract.name} {result.restated_start}..{end}: read {result.rows_read} rows from "
            f"{len(result.files)} files, wrote {result.rows_written}, quarantined {result.rows_quarantined}"
        )
        if result.rescued_columns:
            context.log.warning(
                f"{contract.name}: fields not in the contract kept in _rescued_data: {result.rescued_columns}"
            )
        if result.missing_columns:
            context.log.warning(
                f"{contract.name}: nullable columns absent from files: {result.missing_columns}"
            )
        record_restated_days(
            context,
            key,
            {
                d: {"rows": c.written, "rows_quarantined": c.quarantined}
                for d, c in result.days.items()
                if d < start
            },
        )
        return dg.MaterializeResult(metadata=bronze_metadata(result))

    return _bronze
