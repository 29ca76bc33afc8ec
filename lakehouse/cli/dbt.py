"""``lakehouse dbt``: dbt chores with the platform's settings exported (paths, warehouse)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click


@click.group()
def dbt() -> None:
    """The gold layer's dbt project."""


@dbt.command()
def parse() -> None:
    """Build the dbt manifest that the gold assets are defined from (run by scripts/setup)."""
    from lakehouse.resources.dbt import dbt_executable
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    settings.export()
    command = [
        dbt_executable(),
        "parse",
        "--quiet",
        "--project-dir",
        settings.dbt_project_dir,
        "--profiles-dir",
        settings.dbt_project_dir,
    ]
    completed = subprocess.run(command, check=False)
    if completed.returncode:
        raise click.ClickException(f"dbt parse failed (exit {completed.returncode}): {' '.join(command)}")
    click.echo(f"dbt manifest ready: {Path(settings.dbt_project_dir) / 'target' / 'manifest.json'}")
