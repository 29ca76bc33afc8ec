"""``lakehouse checks``: every asset check over a range of days, as CI runs them; the SLO report."""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, date, datetime, timedelta

import click

DEMO_DAYS = 7


def latest_complete_day() -> date:
    """Yesterday in UTC, the lakehouse calendar's last complete day."""
    return datetime.now(UTC).date() - timedelta(days=1)


def check_range(start: date | None, end: date | None, days: int | None, *, demo: bool) -> tuple[date, date]:
    """The days to check: ``--start..--end``, or ``--days`` days ending ``--end``; by default
    the latest complete day (the demo: its last 7 days)."""
    if start is not None and days is not None:
        raise click.UsageError("give --start or --days, not both")
    last = end or latest_complete_day()
    first = start or last - timedelta(days=(days or (DEMO_DAYS if demo else 1)) - 1)
    if first > last:
        raise click.UsageError(f"--start {first} is after --end {last}")
    return first, last


@click.group()
def checks() -> None:
    """Asset checks: run them, read the ledger."""


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@checks.command()
@click.option("--start", "start_day", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day.")
@click.option(
    "--end",
    "end_day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day (default: the latest complete day, yesterday in UTC).",
)
@click.option("--days", type=click.IntRange(1, 3660), help="How many days ending --end (instead of --start).")
@click.option(
    "--demo",
    is_flag=True,
    help="Generate the demo's sample data for the range (default: 7 days) and check only the demo's "
    "sources and models, as CI does.",
)
@click.option("--orders-per-day", type=click.IntRange(10, 5_000_000), help="With --demo (default 500).")
@click.option("--seed", type=int, help="With --demo: seed of the sample data (default 7).")
def run(
    start_day: datetime | None,
    end_day: datetime | None,
    days: int | None,
    demo: bool,
    orders_per_day: int | None,
    seed: int | None,
) -> None:
    """Materialise the range and run every asset check; exit 1 if an error check fails.

    Without --demo: your sources (every contract but the demo's) and your dbt models, over data
    already in the landing zone. Prints one line per check and day (asset, partition, check,
    severity, result, key metadata) and appends every evaluation to the quality ledger.
    """
    if not demo and (orders_per_day is not None or seed is not None):
        raise click.UsageError(
            "--orders-per-day and --seed shape the demo's sample data: use them with --demo"
        )
    start, end = check_range(_day(start_day), _day(end_day), days, demo=demo)

    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    home = prepare_local_environment(settings)

    import dagster as dg

    from lakehouse.checks.ledger import sync_ledger
    from lakehouse.cli.scope import demo_keys, missing_demo_sources, user_keys
    from lakehouse.cli.table import check_rows, render, summary_line
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.demo.generate import generate
    from lakehouse.platform import InvalidContractsError, build_definitions
    from lakehouse.runs import materialize_range

    try:  # strict: a check command must not pass by skipping a source whose contract is broken
        defs = build_definitions(settings, strict=True)
    except InvalidContractsError as error:
        raise click.ClickException(f"invalid source contracts:\n{error}") from None
    contracts = load_contracts(settings.sources_dir)
    if demo:
        if missing := missing_demo_sources(contracts):
            raise click.ClickException(
                f"the demo's contracts {', '.join(missing)} are not in {settings.sources_dir}"
            )
        from lakehouse.landing.publish import local_folder_for
        from lakehouse.landing.zone import landing_zone

        with local_folder_for(landing_zone(settings.landing_root)) as folder:  # S3: uploaded afterwards
            generate(
                folder, start, end, orders_per_day=orders_per_day or 500, seed=7 if seed is None else seed
            )
        keys = demo_keys(defs, contracts)
    else:
        keys = user_keys(defs, contracts)
        if not keys:
            raise click.ClickException(
                f"no sources of your own in {settings.sources_dir}: the demo's are checked with --demo"
            )
    click.echo(f"Materialising {start}..{end} ({len(keys)} assets) and running every asset check...")
    log_path = home / "logs" / f"checks-{start}-{end}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.get() as instance, open(log_path, "w") as log, contextlib.redirect_stdout(log):
        result = materialize_range(
            defs,
            start,
            end,
            instance=instance,
            selection=dg.AssetSelection.assets(*keys),
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
@click.option("--start", default=None, help="First partition day (default: --days before --end).")
@click.option("--end", default=None, help="Last partition day (default: the last complete day, UTC).")
@click.option(
    "--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="Days, without --start."
)
def slo(start: str | None, end: str | None, days: int) -> None:
    """The data SLO report over partition days START..END: freshness met %, checks passed %, rows
    quarantined %, all counted by the day the data is for (not by when a check ran)."""
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    prepare_local_environment(settings)

    import dagster as dg

    from lakehouse.assets.metadata import markdown_table
    from lakehouse.assets.partitions import calendar, calendar_bounds, check_range, parse_day
    from lakehouse.checks.ledger import sync_ledger
    from lakehouse.checks.slo import HEADERS, slo_report
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.resources import lake_storage

    contracts = [loaded.contract for loaded in load_contracts(settings.sources_dir)]
    days_def = calendar(contracts)
    if end:
        last = parse_day(end, days_def)
    else:  # the calendar's last complete day
        latest = calendar_bounds(days_def)[1]
        last = parse_day(latest, days_def) if latest else datetime.now(UTC).date() - timedelta(days=1)
    first = parse_day(start, days_def) if start else last - timedelta(days=days - 1)
    if start or end:
        check_range(days_def, first, last)
    with dg.DagsterInstance.get() as instance:
        sync_ledger(instance, settings.warehouse_path)
    lake = lake_storage(settings, env_vars=False)
    report = slo_report(contracts, settings.warehouse_path, lake, first, last)
    click.echo(f"Data SLOs for the partition days {first}..{last}")
    click.echo(markdown_table(HEADERS, [r.cells() for r in report]))
