"""``lakehouse erase``: erase one data subject (its vault entries; its rows where contracts say
hard), print the receipt and keep it under ``<lake>/_ops/erasures``."""

from __future__ import annotations

import os

import click


@click.command()
@click.option(
    "--subject", required=True, help="The subject's value (an e-mail address, say), as the source sends it."
)
@click.option("--column", default=None, help="Search only PII columns of this name (default: every one).")
def erase(subject: str, column: str | None) -> None:
    """Erase a data subject from the vault, and from bronze, quarantine, silver and the warehouse
    in sources whose contract says erasure: {mode: hard} (the default).

    The value is used in this process only: the receipt names the subject by a keyed hash. A
    second erasure of the same subject finds nothing, says so, and writes a receipt of zeros.
    """
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    prepare_local_environment(settings)

    from lakehouse.contracts.loader import load_contracts
    from lakehouse.privacy.erasure import erase as erase_subject
    from lakehouse.privacy.erasure import subject_from_value
    from lakehouse.privacy.vault import TokenVault, vault_location
    from lakehouse.resources import lake_storage

    contracts = list(load_contracts(settings.sources_dir))
    found = subject_from_value(contracts, os.environ["LAKEHOUSE_PII_KEY"], subject, column)
    if not found.values:
        where = f"named {column!r}" if column else "at all"
        raise click.ClickException(f"no source has a pii: tokenize or hash column {where}")
    receipt = erase_subject(
        contracts,
        found,
        lake=lake_storage(settings, env_vars=False),
        vault=TokenVault(vault_location(settings.vault_root), os.environ["LAKEHOUSE_VAULT_KEY"]),
        warehouse_path=settings.warehouse_path,
    )
    for line in receipt.lines():
        click.echo(line)
    click.echo(f"Receipt: {settings.lake_root.rstrip('/')}/_ops/erasures/{receipt.erasure_id}.json")
