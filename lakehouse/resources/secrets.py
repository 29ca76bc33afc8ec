"""A live source's secret (a connection string, an API token), from the variable its contract names.

One resource per source that needs one (key ``<source>_secret``), configured with
``dagster.EnvVar``: the UI and the run's config show the variable's name, and its value exists
only in the process of the step that connects. A variable that is not set when the definitions
load isolates the source like an invalid contract, naming the variable (fatal when contracts are
strict); a run worker without it fails naming it too.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from lakehouse.contracts.loader import ContractError, ContractSet, LoadedContract, Problem
from lakehouse.contracts.model import SourceContract


class SourceSecret(dg.ConfigurableResource):
    """The secret's value; never logged, never in metadata."""

    value: str


def secret_env(contract: SourceContract) -> str | None:
    return getattr(contract.extract, "secret_env", None)


def secret_key(contract: SourceContract) -> str:
    return f"{contract.name}_secret"


def _field(contract: SourceContract) -> str:
    return "extract.connection_env" if contract.extract.kind == "postgres" else "extract.auth.env"


def isolate_missing_secrets(contracts: ContractSet, environ: Mapping[str, str]) -> ContractSet:
    """Move the sources whose secret variable is unset to the set's errors."""
    for name, loaded in list(contracts.contracts.items()):
        variable = secret_env(loaded.contract)
        if variable and not environ.get(variable):
            del contracts.contracts[name]
            contracts.errors.append(
                ContractError(
                    loaded.path,
                    [Problem(_field(loaded.contract), f"environment variable {variable} is not set")],
                )
            )
    return contracts


def secret_resources(loaded: list[LoadedContract]) -> dict[str, SourceSecret]:
    return {
        secret_key(item.contract): SourceSecret(value=dg.EnvVar(variable))
        for item in loaded
        if (variable := secret_env(item.contract))
    }
