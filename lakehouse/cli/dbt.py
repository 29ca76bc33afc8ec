"""``lakehouse dbt``: dbt chores with the platform's settings (paths, warehouse) handed to dbt."""

from __future__ import annotations

import click


@click.group()
def dbt() -> None:
    """The gold layer's dbt project."""


@dbt.command()
def parse() -> None:
    """Build the dbt manifest that the gold assets are defined from (run by scripts/setup)."""
    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    from lakehouse.resources.dbt import LakehouseProjectPreparer, dbt_project
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    project = dbt_project(settings)
    try:
        LakehouseProjectPreparer(settings.as_environ()).prepare(project)
    except DagsterDbtCliRuntimeError as error:
        raise click.ClickException(f"dbt parse failed: {error}") from None
    click.echo(f"dbt manifest ready: {project.manifest_path}")
