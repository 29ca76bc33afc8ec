"""Silver assets: one per contract, bronze → deduplicated, flagged, merged Delta table."""

import dagster as dg

from lakehouse.assets.metadata import record_restated_days, silver_metadata
from lakehouse.assets.naming import bronze_key, owners, silver_key
from lakehouse.assets.partitions import partition_window
from lakehouse.contracts.loader import LoadedContract

_MODE_DESCRIPTION = {
    "merge": "latest row per key, MERGEd on a SHA-256 surrogate key",
    "scd2": "full history per key (SCD type 2: valid_from, valid_to, is_current)",
    "append": "every bronze row, partitions replaced",
}


def silver_asset(loaded: LoadedContract, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    contract = loaded.contract
    key = silver_key(contract)

    @dg.asset(
        key=key,
        deps=[bronze_key(contract)],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="silver",
        kinds={"delta", "duckdb"},
        owners=owners(contract),
        code_version=loaded.version,
        description=f"{contract.entity_name}: {_MODE_DESCRIPTION[contract.silver.mode]}; quality rules "
        f"flag rows (dq_valid, dq_flags), never drop them. Re-merges "
        f"{contract.partitions.lookback_days} previous days on every run for late rows.",
        metadata={
            "contract": str(loaded.path),
            "mode": contract.silver.mode,
            "primary_key": dg.MetadataValue.json(contract.primary_key),
        },
        required_resource_keys={"lake"},
    )
    def _silver(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        from lakehouse.silver.build import build_range  # DuckDB, Delta: loaded for runs only

        start, end = partition_window(context)
        lake = context.resources.lake
        result = build_range(
            contract,
            start=start,
            end=end,
            bronze=lake.table("bronze", contract.name),
            silver=lake.table("silver", contract.entity_name),
            run_id=context.run_id,
            commit_metadata={"contract_version": loaded.version},
        )
        context.log.info(
            f"{contract.entity_name} {start}..{end} (window from {result.window_start}): "
            f"{result.batch_rows} bronze rows, {result.inserted} inserted, {result.updated} updated, "
            f"{result.deleted} deleted, {result.flagged_rows} flagged"
        )
        record_restated_days(
            context, key, {d: {"rows": n} for d, n in result.rows_by_day.items() if d < start}
        )
        return dg.MaterializeResult(metadata=silver_metadata(result))

    return _silver
