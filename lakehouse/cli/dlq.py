"""``lakehouse dlq``: the dead-letter queue from the command line (list it, replay it now).

A replay here is the run the ``dead_letter_replay`` sensor would launch (the source's bronze
and silver over the entry's days, tagged with the entry), executed in this process at once,
whatever the backoff says and exhausted entries included: the operator fixed the cause.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from lakehouse.settings import Settings
    from lakehouse.tables.dead_letters import DeadLetterQueue


def _queue() -> tuple[Settings, Path, DeadLetterQueue]:
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.resources import lake_storage
    from lakehouse.settings import Settings
    from lakehouse.tables.dead_letters import DeadLetterQueue

    settings = Settings.from_env()
    home = prepare_local_environment(settings)
    return settings, home, DeadLetterQueue(lake_storage(settings, env_vars=False).ops_table("dead_letters"))


@click.group()
def dlq() -> None:
    """Dead letters: extractions that failed for reasons that are not the data's."""


@dlq.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Include resolved entries.")
def list_entries(show_all: bool) -> None:
    """One line per entry: id, source, days, kind, attempts, status, next attempt, error."""
    from lakehouse.assets.metadata import markdown_table
    from lakehouse.checks.dead_letters import HEADERS, row
    from lakehouse.tables.dead_letters import RESOLVED

    _, _, queue = _queue()
    entries = [e for e in queue.entries() if show_all or e.status != RESOLVED]
    if not entries:
        click.echo("no dead letters" if show_all else "no open dead letters (--all includes resolved ones)")
        return
    click.echo(markdown_table(HEADERS, [row(e) for e in entries]))


@dlq.command()
@click.argument("ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every open entry (pending and exhausted).")
def replay(ids: tuple[str, ...], replay_all: bool) -> None:
    """Replay entries IDS (or --all open ones) now, in this process; exit 1 if one still fails."""
    if bool(ids) == replay_all:
        raise click.UsageError("give entry IDS or --all (not both)")
    settings, home, queue = _queue()
    from lakehouse.tables.dead_letters import RESOLVED

    entries = {e.id: e for e in queue.entries()}
    if unknown := [i for i in ids if i not in entries]:
        raise click.ClickException(f"no dead letter {', '.join(unknown)} (see `lakehouse dlq list --all`)")
    chosen = (
        [e for e in entries.values() if e.status != RESOLVED] if replay_all else [entries[i] for i in ids]
    )
    if not chosen:
        click.echo("no open dead letters to replay")
        return

    import dagster as dg

    from lakehouse.checks.dead_letters import days, first_line
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.platform import build_definitions
    from lakehouse.sensors.dead_letters import replay_keys, replay_tags

    defs = build_definitions(settings)
    contracts = {loaded.contract.name: loaded.contract for loaded in load_contracts(settings.sources_dir)}
    runnable = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.is_executable]
    failed = 0
    log_path = home / "logs" / "dlq-replay.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.get() as instance:
        for entry in chosen:
            label = f"{entry.id} {entry.source} {days(entry)}"
            if entry.status == RESOLVED:
                click.echo(f"{label}: already resolved, nothing to replay")
                continue
            contract = contracts.get(entry.source)
            if contract is None:
                failed += 1
                click.echo(f"{label}: no contract named {entry.source} in {settings.sources_dir}", err=True)
                continue
            with open(log_path, "a") as log, contextlib.redirect_stdout(log):
                result = dg.materialize(  # the assets and all their checks, as the sensor's run
                    [*runnable, *(defs.asset_checks or [])],
                    resources=defs.resources,
                    instance=instance,
                    selection=dg.AssetSelection.assets(*replay_keys(contract)),
                    tags=replay_tags(entry, contract),
                    raise_on_error=False,
                    run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
                )
            after = queue.get(entry.id)
            if result.success and after is not None and after.status == RESOLVED:
                click.echo(f"{label}: replayed, resolved (run {result.run_id})")
                continue
            failed += 1
            reason = (
                first_line(after.error)
                if after is not None and after.attempts > entry.attempts
                else "the run failed for a reason that is not a dead letter's; see its log"
            )
            status = f"{after.status}, attempt {after.attempts}" if after is not None else "unknown"
            click.echo(
                f"{label}: still failing ({status}): {reason} (run {result.run_id}; log {log_path})", err=True
            )
    if failed:
        click.echo(f"{failed} of {len(chosen)} replay(s) still failing", err=True)
        sys.exit(1)
