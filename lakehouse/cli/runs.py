"""``lakehouse runs heal``: fail the runs whose process is gone, on an instance without a daemon.

With ``dagster dev`` or a deployment's daemon, run monitoring does this on its own (the
instance's ``run_monitoring`` and ``LakehouseRunLauncher``). A run killed while no daemon runs
(a ``dagster asset materialize`` or ``lakehouse demo`` killed, the machine restarted) otherwise
stays STARTED in the UI for ever and keeps its pool slots taken.
"""

from __future__ import annotations

import click


@click.group()
def runs() -> None:
    """Dagster runs of this instance."""


@runs.command()
@click.option("--dry-run", is_flag=True, help="Say which runs are dead, and change nothing.")
def heal(dry_run: bool) -> None:
    """Mark STARTED runs whose process is gone as failed (judged on this machine only)."""
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    prepare_local_environment(Settings.from_env())

    import dagster as dg

    from lakehouse.deploy.run_health import heal as heal_runs

    with dg.DagsterInstance.get() as instance:
        verdicts = heal_runs(instance, dry_run=dry_run)
    if not verdicts:
        click.echo("No run is in progress.")
    for verdict in verdicts:
        action = ("would mark failed" if dry_run else "marked failed") if verdict.dead else "left alone"
        click.echo(f"{verdict.run_id}: {action}: {verdict.reason}")
