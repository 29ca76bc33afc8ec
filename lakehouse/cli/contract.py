"""``lakehouse contract``: check source contracts without starting Dagster."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lakehouse.contracts.loader import ContractError, LoadedContract


@click.group()
def contract() -> None:
    """Source contracts (sources/*.yaml)."""


@contract.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Validate FILES (default: every contract in the sources directory).

    Prints each problem with the file and the field it concerns; exits 1 if any file is invalid.
    """
    from lakehouse.contracts.loader import contract_files, load_contract, load_contracts
    from lakehouse.settings import Settings

    results: list[tuple[Path, LoadedContract | None, ContractError | None]] = []
    if files:
        for path in files:
            try:
                results.append((path, load_contract(path), None))
            except ContractError as problem:
                results.append((path, None, problem))
    else:
        directory = Settings.from_env().sources_dir
        loaded = load_contracts(directory)
        errors = {e.path: e for e in loaded.errors}
        results = [
            (p, next((c for c in loaded if c.path == p), None), errors.get(p))
            for p in contract_files(directory)
        ]
        if not results:
            click.echo(f"no contracts (*.yaml) in {directory}", err=True)
            sys.exit(1)

    failed = 0
    for path, loaded_contract, error in results:
        if error is not None or loaded_contract is None:
            failed += 1
            click.echo(click.style(error.describe() if error else f"{path}: not loaded", fg="red"), err=True)
        else:
            c = loaded_contract.contract
            click.echo(
                f"ok  {path}: {c.name} ({len(c.columns)} columns, {c.extract.format}, silver {c.silver.mode}, "
                f"{len(c.quality)} quality rules, version {loaded_contract.version})"
            )
    if failed:
        click.echo(f"{failed} of {len(results)} contract(s) invalid", err=True)
        sys.exit(1)
