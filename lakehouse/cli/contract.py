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


@contract.command()
@click.argument("sample", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--name", help="The source's name (default: the --out file's, else the sample's without dates)."
)
@click.option("--landing-path", help="extract.path, with {date} (default: <name>/{date}/*.<format>).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the draft here (e.g. sources/x.yaml) instead of printing it; never overwrites.",
)
def draft(sample: Path, name: str | None, landing_path: str | None, out: Path | None) -> None:
    """Infer a draft contract from SAMPLE (CSV, JSON lines or Parquet).

    Proposes column names and types, nullability, a primary key, the event time and PII, each
    marked with a `# guessed:` comment to confirm. The draft loads as it is.
    """
    from lakehouse.contracts.draft import DraftError, draft_contract

    if out is not None and out.exists():
        raise click.ClickException(f"{out} exists; choose another --out or remove it first")
    try:
        text = draft_contract(
            sample, name=name or (out.stem if out is not None else None), landing_path=landing_path
        )
    except DraftError as error:
        raise click.ClickException(str(error)) from None
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(text)
    partial.replace(out)  # a contract appears whole: the config sensor may be watching the folder
    click.echo(f"wrote {out}: review every '# guessed:' line, then `lakehouse contract validate {out}`")
