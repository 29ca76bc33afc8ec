"""The ``lakehouse`` command line: what users do outside the Dagster UI.

Subcommands import what they need when they run, so ``lakehouse --help`` stays instant.
"""

from __future__ import annotations

import click

from lakehouse.cli.checks import checks
from lakehouse.cli.contract import contract
from lakehouse.cli.dbt import dbt
from lakehouse.cli.demo import demo
from lakehouse.cli.deploy import deploy
from lakehouse.cli.dlq import dlq
from lakehouse.cli.erase import erase
from lakehouse.cli.lineage import lineage
from lakehouse.cli.pii import pii
from lakehouse.cli.runs import runs
from lakehouse.cli.vacuum import vacuum


class _Commands(click.Group):
    """Errors the user can fix by retyping a day (``days.PartitionKeyError``) end the command in
    one line, like click's own, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from lakehouse.days import PartitionKeyError

        try:
            return super().invoke(ctx)
        except PartitionKeyError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lakehouse")
def main() -> None:
    """Lakehouse: YAML source contracts to partitioned bronze, silver and gold Dagster assets."""


main.add_command(demo)
main.add_command(contract)
main.add_command(dbt)
main.add_command(checks)
main.add_command(pii)
main.add_command(deploy)
main.add_command(dlq)
main.add_command(lineage)
main.add_command(vacuum)
main.add_command(runs)
main.add_command(erase)
