"""What the demo owns, and what is the user's: the asset selections the commands run.

The demo's sources are the two contracts its generator writes files for (``orders``,
``customers``) and its gold models are the ``lakehouse_demo`` dbt package (``dbt_models/demo``).
``lakehouse demo`` and ``lakehouse checks run --demo`` run only those, so a user's own contract
in ``sources/`` (whose files the demo does not generate) never fails them; ``lakehouse checks
run`` runs everything else, the user's sources and models, over the days asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.contracts.loader import ContractSet

DEMO_SOURCES = ("orders", "customers")
DEMO_DBT_PACKAGE = "lakehouse_demo"
_DBT_UNIQUE_ID = "dagster_dbt/unique_id"


def dbt_package(spec: dg.AssetSpec) -> str | None:
    """The dbt package a gold asset's model comes from (``model.<package>.<name>``)."""
    unique_id = spec.metadata.get(_DBT_UNIQUE_ID)
    return str(unique_id).split(".")[1] if unique_id else None


def runnable_specs(defs: dg.Definitions) -> Iterable[dg.AssetSpec]:
    for assets in defs.assets or []:
        if isinstance(assets, dg.AssetsDefinition) and assets.is_executable:
            yield from assets.specs


def demo_keys(defs: dg.Definitions, contracts: ContractSet) -> set[dg.AssetKey]:
    """The demo's bronze and silver assets and the models of its dbt package."""
    keys = {
        key(loaded.contract)
        for loaded in contracts
        if loaded.contract.name in DEMO_SOURCES
        for key in (bronze_key, silver_key)
    }
    keys |= {spec.key for spec in runnable_specs(defs) if dbt_package(spec) == DEMO_DBT_PACKAGE}
    return keys


def missing_demo_sources(contracts: ContractSet) -> list[str]:
    names = {loaded.contract.name for loaded in contracts}
    return [name for name in DEMO_SOURCES if name not in names]


def user_keys(defs: dg.Definitions, contracts: ContractSet) -> set[dg.AssetKey]:
    """Every asset that runs, except the demo's."""
    return {spec.key for spec in runnable_specs(defs)} - demo_keys(defs, contracts)
