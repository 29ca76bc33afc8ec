"""Asset keys and ownership derived from a contract, in one place so every layer agrees."""

from __future__ import annotations

import dagster as dg

from lakehouse.contracts.model import SourceContract


def landing_key(contract: SourceContract) -> dg.AssetKey:
    return dg.AssetKey(["landing", contract.name])


def bronze_key(contract: SourceContract) -> dg.AssetKey:
    return dg.AssetKey(["bronze", contract.name])


def silver_key(contract: SourceContract) -> dg.AssetKey:
    return dg.AssetKey(["silver", contract.entity_name])


def owners(contract: SourceContract) -> list[str]:
    """Dagster owners are e-mail addresses or ``team:<name>``."""
    owner = contract.owner.strip()
    return [owner if "@" in owner or owner.startswith("team:") else f"team:{owner}"]
