"""Bronze assets: one per contract, landing files → typed Delta table + quarantine, with checks.

The asset declares; ``bronze/materialize.py`` runs (the circuit breaker before any write, the
ingest, then the schema contract, reconciliation and volume checks on every day rewritten).
"""

import dagster as dg

from lakehouse.assets.columns import bronze_column_lineage, bronze_column_schema, contract_pii_columns
from lakehouse.assets.factory import contract_asset
from lakehouse.assets.naming import bronze_key, landing_key
from lakehouse.bronze.run_config import BronzeRunConfig
from lakehouse.checks.specs import bronze_check_specs
from lakehouse.contracts.loader import ContractSet, LoadedContract
from lakehouse.resources import PlatformResources
from lakehouse.resources.secrets import secret_env, secret_key, secret_resources
from lakehouse.tables.location import TableLocation


def live_source_resources(contract) -> list[str]:
    """A postgres or http source also needs its secret (when it has one)."""
    return [secret_key(contract)] if secret_env(contract) else []


def bronze_asset(
    loaded: LoadedContract, calendar: dg.PartitionsDefinition, table: TableLocation, quarantine: TableLocation
) -> dg.AssetsDefinition:
    """``table`` and ``quarantine``: where its Delta tables live (shown in the catalog)."""
    contract = loaded.contract
    key = bronze_key(contract)
    days = calendar if contract.partitions.partitioned else None  # grain none: refreshed whole

    @contract_asset(
        loaded,
        key=key,
        layer="bronze",
        upstream=landing_key(contract),
        calendar=days,
        check_specs=bronze_check_specs(contract, key, days),
        description=f"{contract.description} Source-faithful rows typed by the contract, partitioned by "
        f"event date; rows that fail parsing or typing go to quarantine. A run also rewrites the "
        f"{contract.partitions.lookback_days} days before its own, where late rows land.",
        metadata={
            "dagster/uri": table.display_uri,
            "quarantine_uri": quarantine.display_uri,
            "dagster/column_schema": bronze_column_schema(contract),
            "dagster/column_lineage": bronze_column_lineage(contract),
            **contract_pii_columns(contract, landing_key(contract)),
            "pii_columns": dg.MetadataValue.json(contract.pii_columns),
        },
        resources={
            "lake",
            *(["pii"] if contract.pii_columns else []),
            *(["vault"] if contract.tokenized_columns else []),
            *live_source_resources(contract),
        },
    )
    def _bronze(context: dg.AssetExecutionContext, config: BronzeRunConfig):
        from lakehouse.bronze.materialize import materialize_bronze  # engines load for runs only

        yield from materialize_bronze(context, loaded, config)

    return _bronze


def bronze_definitions(
    contracts: ContractSet, calendar: dg.PartitionsDefinition, resources: PlatformResources
) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            bronze_asset(
                loaded,
                calendar,
                resources.lake.table("bronze", loaded.contract.name),
                resources.lake.table("quarantine", loaded.contract.name),
            )
            for loaded in contracts
        ],
        resources={**resources.pick("lake", "pii", "vault"), **secret_resources(list(contracts))},
    )
