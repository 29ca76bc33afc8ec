"""Landing zones as external assets: the start of every lineage in the UI."""

from __future__ import annotations

import dagster as dg

from lakehouse.assets.naming import landing_key, owners
from lakehouse.contracts.loader import ContractSet, LoadedContract


def landing_spec(loaded: LoadedContract) -> dg.AssetSpec:
    contract = loaded.contract
    extract = contract.extract
    return dg.AssetSpec(
        key=landing_key(contract),
        description=f"Files delivered by {contract.name} ({extract.format}) under `{extract.path}` "
        f"in the landing zone. {contract.description}".strip(),
        group_name="landing",
        kinds={extract.format},
        owners=owners(contract),
        metadata={"path_template": extract.path, "format": extract.format, "contract": str(loaded.path)},
    )


def landing_definitions(contracts: ContractSet) -> dg.Definitions:
    return dg.Definitions(assets=[landing_spec(loaded) for loaded in contracts])
