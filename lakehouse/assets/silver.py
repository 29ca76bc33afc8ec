"""Silver assets: one per contract, bronze → deduplicated, flagged, merged Delta table, with the
contract's quality rules (great-expectations) and reconciliation checked on every day written.

The asset declares; ``silver/materialize.py`` runs.
"""

import dagster as dg

from lakehouse.assets.columns import contract_pii_columns, silver_column_lineage, silver_column_schema
from lakehouse.assets.factory import contract_asset
from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.checks.specs import silver_check_specs
from lakehouse.contracts.loader import ContractSet, LoadedContract
from lakehouse.resources import PlatformResources
from lakehouse.tables.location import TableLocation

_MODE_DESCRIPTION = {
    "merge": "latest row per key, MERGEd on a SHA-256 surrogate key",
    "scd2": "full history per key (SCD type 2: valid_from, valid_to, is_current)",
    "append": "every bronze row, partitions replaced",
}


def silver_asset(
    loaded: LoadedContract, calendar: dg.PartitionsDefinition, table: TableLocation
) -> dg.AssetsDefinition:
    """``table``: where its Delta table lives (shown in the catalog)."""
    contract = loaded.contract
    key = silver_key(contract)
    days = calendar if contract.partitions.partitioned else None  # grain none: refreshed whole

    @contract_asset(
        loaded,
        key=key,
        layer="silver",
        upstream=bronze_key(contract),
        calendar=days,
        check_specs=silver_check_specs(contract, key, days),
        description=f"{contract.entity_name}: {_MODE_DESCRIPTION[contract.silver.mode]}; quality rules "
        f"flag rows (dq_valid, dq_flags), never drop them. Re-merges "
        f"{contract.partitions.lookback_days} previous days on every run for late rows.",
        metadata={
            "dagster/uri": table.display_uri,
            "dagster/column_schema": silver_column_schema(contract),
            "dagster/column_lineage": silver_column_lineage(contract),
            **contract_pii_columns(contract, bronze_key(contract)),
            "mode": contract.silver.mode,
            "primary_key": dg.MetadataValue.json(contract.primary_key),
        },
        resources={"lake"},
    )
    def _silver(context: dg.AssetExecutionContext):
        from lakehouse.silver.materialize import materialize_silver  # engines load for runs only

        yield from materialize_silver(context, loaded)

    return _silver


def silver_definitions(
    contracts: ContractSet, calendar: dg.PartitionsDefinition, resources: PlatformResources
) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            silver_asset(loaded, calendar, resources.lake.table("silver", loaded.contract.entity_name))
            for loaded in contracts
        ],
        resources=resources.pick("lake"),
    )
