"""``lakehouse pii``: the key PII tokens are made with, and changing it deliberately.

Tokens are HMACs of the clear values, which no table keeps: re-tokenising means reading the
landing files again. ``rotate`` therefore re-materialises, with the key now in
``LAKEHOUSE_PII_KEY``, every day of the sources with PII that was written under another key
(bronze from landing, then silver and gold downstream), in one run tagged as a rotation: only
such a run may write with a new key, and only when it rewrites every old-key day. Days whose
landing files are gone cannot be re-tokenised; the run's circuit breaker names them and writes
nothing (restore the files, or keep the old key).
"""

from __future__ import annotations

import os
import sys

import click


@click.group()
def pii() -> None:
    """The PII tokenisation key (LAKEHOUSE_PII_KEY), and the token vault (LAKEHOUSE_VAULT_KEY)."""


@pii.command()
@click.argument("token")
def resolve(token: str) -> None:
    """Print the value behind TOKEN, from the token vault (needs LAKEHOUSE_VAULT_KEY).

    For entitled users only: whoever holds the vault key reads personal data. Exits 1 when the
    vault holds no entry of the token (never tokenised here, a pii: hash value, or erased).
    """
    from lakehouse.privacy.vault import TokenVault, VaultKeyError, vault_location
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    key = os.environ.get("LAKEHOUSE_VAULT_KEY")
    if not key:
        raise click.ClickException(
            "LAKEHOUSE_VAULT_KEY is not set: only holders of the vault key resolve tokens"
        )
    try:
        entries = TokenVault(vault_location(settings.vault_root), key).resolve(token)
    except VaultKeyError as error:
        raise click.ClickException(str(error)) from None
    if not entries:
        click.echo(
            "No vault entry for this token (never tokenised here, a hashed value, or erased).", err=True
        )
        sys.exit(1)
    for source, column, value in entries:
        click.echo(f"{source}.{column}: {value}")


@pii.command(name="token")
@click.argument("value")
def token_of(value: str) -> None:
    """Print the token of VALUE under LAKEHOUSE_PII_KEY (to find a subject, or to erase one from
    the UI's launchpad, where the run config keeps no value)."""
    from lakehouse.bronze.pii import token

    key = os.environ.get("LAKEHOUSE_PII_KEY")
    if not key:
        raise click.ClickException("LAKEHOUSE_PII_KEY is not set")
    click.echo(token(key, value))


@pii.command()
@click.option("--start", default=None, help="First day to re-tokenise (default: the first old-key day).")
@click.option("--end", default=None, help="Last day to re-tokenise (default: the last old-key day).")
@click.option("--dry-run", is_flag=True, help="Say what would be re-tokenised, and change nothing.")
def rotate(start: str | None, end: str | None, dry_run: bool) -> None:
    """Re-tokenise, with the current LAKEHOUSE_PII_KEY, every day written under another key.

    Reads those days' landing files again (bronze, quarantine), then rebuilds silver and gold for
    them, in one run. Exits 1 if the run fails; nothing is changed when it cannot cover every
    day written under the old key.
    """
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    prepare_local_environment(settings)

    import dagster as dg

    from lakehouse.assets.naming import bronze_key
    from lakehouse.assets.partitions import calendar, calendar_bounds, check_range, parse_day
    from lakehouse.bronze.pii import key_fingerprint
    from lakehouse.bronze.pii_keys import ROTATION_TAG, day_ranges, old_key_days
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.contracts.schema import EVENT_DATE
    from lakehouse.platform import InvalidContractsError, build_definitions
    from lakehouse.resources import LakeStorage
    from lakehouse.runs import materialize_range

    try:
        defs = build_definitions(settings, strict=True)
    except InvalidContractsError as error:
        raise click.ClickException(f"invalid source contracts:\n{error}") from None
    contracts = [
        loaded.contract for loaded in load_contracts(settings.sources_dir) if loaded.contract.pii_columns
    ]
    lake = LakeStorage(landing_root=settings.landing_root, lake_root=settings.lake_root)
    fingerprint = key_fingerprint(os.environ["LAKEHOUSE_PII_KEY"])
    old: dict[str, list] = {}
    for contract in contracts:
        tables = {
            f"bronze/{contract.name}": (lake.table("bronze", contract.name), EVENT_DATE),
            f"quarantine/{contract.name}": (lake.table("quarantine", contract.name), "_partition_date"),
        }
        for name, days in old_key_days(tables, fingerprint).items():
            old[name] = (
                days if contract.partitions.partitioned else []
            )  # refreshed whole: any run rewrites it
    if not old:
        click.echo(
            f"Nothing to rotate: every table of a source with PII uses this key (fingerprint {fingerprint})."
        )
        return
    every_day = sorted({d for days in old.values() for d in days})
    days_def = calendar(loaded.contract for loaded in load_contracts(settings.sources_dir))
    latest = calendar_bounds(days_def)[1] or days_def.start.date().isoformat()
    first = (
        parse_day(start, days_def) if start else (every_day[0] if every_day else parse_day(latest, days_def))
    )
    last = parse_day(end, days_def) if end else (every_day[-1] if every_day else first)
    check_range(days_def, first, last)
    outside = [d for d in every_day if not first <= d <= last]
    if outside:
        raise click.ClickException(
            f"{first}..{last} leaves out days written under the old key ({day_ranges(outside)}); tokens of two keys "
            "never join, so a rotation rewrites them all: widen --start/--end"
        )
    for name, days in sorted(old.items()):
        click.echo(f"{name}: {day_ranges(days) if days else 'the whole table'} written under another key")
    if dry_run:
        click.echo(f"Would re-tokenise {first}..{last} with the key of fingerprint {fingerprint} (dry run).")
        return
    click.echo(
        f"Re-tokenising {first}..{last} from the landing files with the key of fingerprint {fingerprint}..."
    )
    selection = dg.AssetSelection.assets(*(bronze_key(c) for c in contracts)).downstream()
    with dg.DagsterInstance.get() as instance:
        result = materialize_range(
            defs,
            first,
            last,
            instance=instance,
            selection=selection,
            tags={ROTATION_TAG: fingerprint},
            raise_on_error=False,
            console_log_level="ERROR",
        )
    if not result.success:
        failures = [
            event.step_failure_data.error.message.strip()
            for event in result.all_events
            if event.is_step_failure and event.step_failure_data.error is not None
        ]
        click.echo(f"The rotation run {result.run_id} failed:", err=True)
        for failure in failures:
            click.echo(f"  {failure.splitlines()[0]}", err=True)
        sys.exit(1)
    click.echo(f"Done (run {result.run_id}): every table of a source with PII now uses this key.")
