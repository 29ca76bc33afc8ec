"""``lakehouse checks``: every asset check over the demo's sample range, as CI runs them."""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime, timedelta

import click


@click.group()
def checks() -> None:
    """Asset checks: run them, read the ledger."""


@checks.command()
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=click.IntRange(1, 3660),
    help="How many days of sample data to generate and check (ending yesterday, UTC).",
)
@click.option("--orders-per-day", default=500, show_default=True, type=click.IntRange(10, 5_000_000))
@click.option("--seed", default=7, show_default=True)
def run(days: int, orders_per_day: int, seed: int) -> None:
    """Materialise the demo's sample range and run every asset check; exit 1 if an error check fails.

    Prints one line per check and day (asset, partition, check, severity, result, key metadata) and
    appends every evaluation to the quality ledger.
    """
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    home = prepare_local_environment(settings)
    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)

    import dagster as dg

    from lakehouse.checks.ledger import sync_ledger
    from lakehouse.cli.table import check_rows, render, summary_line
    from lakehouse.demo.generate import generate
    from lakehouse.platform import InvalidContractsError, build_definitions
    from lakehouse.runs import materialize_range

    try:  # strict: a check command must not pass by skipping a source whose contract is broken
        defs = build_definitions(settings, strict=True)
    except InvalidContractsError as error:
        raise click.ClickException(f"invalid source contracts:\n{error}") from None
    from lakehouse.landing.publish import local_folder_for
    from lakehouse.landing.zone import landing_zone

    with local_folder_for(landing_zone(settings.landing_root)) as folder:  # S3: uploaded afterwards
        generate(folder, start, end, orders_per_day=orders_per_day, seed=seed)
    click.echo(f"Materialising {start}..{end} and running every asset check...")
    log_path = home / "logs" / f"checks-{start}-{end}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.get() as instance, open(log_path, "w") as log, contextlib.redirect_stdout(log):
        result = materialize_range(
            defs,
            start,
            end,
            instance=instance,
            with_freshness_checks=True,
            raise_on_error=False,
            console_log_level="ERROR",
        )
        appended = sync_ledger(instance, settings.warehouse_path)
    rows = check_rows(result.get_asset_check_evaluations())
    click.echo(render(rows))
    click.echo("")
    click.echo(summary_line(rows) + f"; {appended} ledger row(s) appended to quality.check_evaluations")
    click.echo(f"(run {result.run_id}; its log: {log_path})")
    if any(r.is_error for r in rows) or not result.success:
        click.echo(
            "error-severity checks failed" if any(r.is_error for r in rows) else "the run failed", err=True
        )
        sys.exit(1)


@checks.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660))
def slo(days: int) -> None:
    """The data SLO report over the last DAYS days: freshness met %, checks passed %, rows quarantined %."""
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    prepare_local_environment(settings)

    import dagster as dg

    from lakehouse.assets.metadata import markdown_table
    from lakehouse.checks.ledger import sync_ledger
    from lakehouse.checks.slo import HEADERS, slo_report
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.resources import lake_storage

    with dg.DagsterInstance.get() as instance:
        sync_ledger(instance, settings.warehouse_path)
    contracts = [loaded.contract for loaded in load_contracts(settings.sources_dir)]
    lake = lake_storage(settings, env_vars=False)
    report = slo_report(contracts, settings.warehouse_path, lake, days)
    click.echo(f"Data SLOs over the last {days} days")
    click.echo(markdown_table(HEADERS, [r.cells() for r in report]))
