"""Landing zones as external assets: the start of every lineage in the UI."""

from __future__ import annotations

import dagster as dg

from lakehouse.assets.naming import landing_key, owners
from lakehouse.contracts.loader import ContractSet, LoadedContract


def _delivered(loaded: LoadedContract) -> str:
    contract, extract = loaded.contract, loaded.contract.extract
    if extract.kind == "postgres":
        what = f"table {extract.table}" if extract.table else "a query"
        return f"Rows of {what} in PostgreSQL, extracted by bronze by `{extract.watermark}` and landed"
    if extract.kind == "http":
        return (
            f"Records of the JSON API {extract.url}, extracted by bronze by `{extract.watermark}` and landed"
        )
    return f"Files delivered by {contract.name}"


def landing_spec(loaded: LoadedContract) -> dg.AssetSpec:
    contract = loaded.contract
    extract = contract.extract
    return dg.AssetSpec(
        key=landing_key(contract),
        description=f"{_delivered(loaded)} ({extract.format}) under `{extract.path}` "
        f"in the landing zone. {contract.description}".strip(),
        group_name="landing",
        kinds={extract.format} if extract.kind == "files" else {extract.kind, extract.format},
        owners=owners(contract),
        metadata={"path_template": extract.path, "format": extract.format, "contract": str(loaded.path)},
    )


def landing_definitions(contracts: ContractSet) -> dg.Definitions:
    return dg.Definitions(assets=[landing_spec(loaded) for loaded in contracts])
