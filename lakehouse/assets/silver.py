"""Silver assets: one per contract, bronze → deduplicated, flagged, merged Delta table, with the
contract's quality rules (great-expectations) and reconciliation checked on every day written."""

import dagster as dg

from lakehouse.assets.metadata import record_restated_days, silver_metadata
from lakehouse.assets.naming import bronze_key, owners, silver_key
from lakehouse.assets.partitions import partition_window
from lakehouse.checks.specs import silver_check_specs
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
        check_specs=silver_check_specs(contract, key, partitions_def),
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
    def _silver(context: dg.AssetExecutionContext):
        # DuckDB, Delta and great-expectations load for runs only, not with the definitions.
        from lakehouse.checks.outcome import report, with_metadata
        from lakehouse.checks.quality import build_expectations, evaluate_rules
        from lakehouse.checks.reconciliation import silver_reconciliation
        from lakehouse.days import days_between
        from lakehouse.silver.build import build_range

        try:
            build_expectations(contract)  # before any write: a rule that cannot run stops here
        except ValueError as error:
            raise dg.Failure(description=f"{loaded.path}: {error}; silver was not changed") from None
        start, end = partition_window(context)
        lake = context.resources.lake
        silver = lake.table("silver", contract.entity_name)
        result = build_range(
            contract,
            start=start,
            end=end,
            bronze=lake.table("bronze", contract.name),
            silver=silver,
            run_id=context.run_id,
            commit_metadata={"contract_version": loaded.version},
        )
        context.log.info(
            f"{contract.entity_name} {start}..{end} (window from {result.window_start}): "
            f"{result.batch_rows} bronze rows, {result.inserted} inserted, {result.updated} updated, "
            f"{result.deleted} deleted, {result.flagged_rows} flagged"
        )
        record_restated_days(  # first: see the bronze asset
            context, key, {d: {"rows": n} for d, n in result.rows_by_day.items() if d < start}
        )
        yield dg.MaterializeResult(metadata=silver_metadata(result))

        days = days_between(result.window_start, result.window_end) if result.rows_by_day else []
        outcomes = [
            *evaluate_rules(contract, silver, days, key),
            silver_reconciliation(
                result.expected_by_day,
                result.held_by_day,
                result.stale_by_day,
                days,
                key,
                "keys" if contract.silver.mode == "scd2" else "rows",
            ),
        ]
        yield from report(context, with_metadata(outcomes, contract_version=loaded.version))

    return _silver
