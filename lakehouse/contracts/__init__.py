"""Source contracts: YAML files under ``sources/`` validated into typed models and Arrow schemas."""

from lakehouse.contracts.loader import (
    ContractError,
    ContractSet,
    LoadedContract,
    Problem,
    load_contract,
    load_contracts,
    parse_contract,
)
from lakehouse.contracts.model import SourceContract

__all__ = [
    "ContractError",
    "ContractSet",
    "LoadedContract",
    "Problem",
    "SourceContract",
    "load_contract",
    "load_contracts",
    "parse_contract",
]
