"""``lakehouse demo``: sample data, every layer materialised over a range in one run, a summary."""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import UTC, date, datetime, timedelta

import click


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


@click.command()
@click.option(
    "--days",
    default=30,
    show_default=True,
    type=click.IntRange(1, 3660),
    help="How many days of data to generate and materialise.",
)
@click.option(
    "--end",
    "end_day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Last day of the range (default: yesterday, UTC).",
)
@click.option("--orders-per-day", default=3000, show_default=True, type=click.IntRange(10, 5_000_000))
@click.option("--seed", default=7, show_default=True, help="Random seed of the sample data.")
def demo(days: int, end_day: datetime | None, orders_per_day: int, seed: int) -> None:
    """Generate sample orders and customers, then materialise their bronze, silver and gold.

    Only the demo's two sources and its dbt package's models: your own contracts in the sources
    folder are left alone. Runs on the embedded default: files and Delta tables under ./data,
    the DuckDB warehouse, and a SQLite Dagster instance in ./.dagster_home, which `dagster dev`
    opens afterwards.
    """
    from lakehouse.cli.environment import prepare_local_environment
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    home = prepare_local_environment(settings)
    end = end_day.date() if end_day else _yesterday()
    start = end - timedelta(days=days - 1)

    import dagster as dg

    from lakehouse.cli.demo_report import summarize
    from lakehouse.cli.scope import demo_keys, missing_demo_sources
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.demo.generate import generate
    from lakehouse.landing.publish import local_folder_for
    from lakehouse.landing.zone import landing_zone
    from lakehouse.platform import build_definitions
    from lakehouse.runs import materialize_range

    contracts = load_contracts(settings.sources_dir)
    if missing := missing_demo_sources(contracts):
        raise click.ClickException(
            f"the demo's contracts {', '.join(missing)} are not in {settings.sources_dir}"
        )

    click.echo(f"Generating sample data for {start}..{end} in {settings.landing_root}")
    with local_folder_for(landing_zone(settings.landing_root)) as folder:  # S3: uploaded afterwards
        planted = generate(folder, start, end, orders_per_day=orders_per_day, seed=seed)
    click.echo(
        f"  {planted.orders_delivered:,} order rows and {planted.snapshots_delivered:,} customer "
        f"snapshot rows in {len(planted.files)} files"
    )

    defs = build_definitions(settings)
    # Only the demo's own sources and dbt models: a user's contract beside them has no files here.
    selection = dg.AssetSelection.assets(*demo_keys(defs, contracts))
    click.echo(f"Materialising the demo's bronze, silver and gold partitions {start}..{end} in one run...")
    began = time.monotonic()
    dbt_log = home / "logs" / f"demo-{start}-{end}.log"
    dbt_log.parent.mkdir(parents=True, exist_ok=True)
    # dbt's own progress lines go to a file; the run's events are in the instance and the UI.
    with dg.DagsterInstance.get() as instance, open(dbt_log, "w") as log, contextlib.redirect_stdout(log):
        result = materialize_range(
            defs,
            start,
            end,
            instance=instance,
            selection=selection,
            raise_on_error=False,
            console_log_level="WARNING",
        )
    elapsed = time.monotonic() - began

    click.echo("")
    click.echo(f"Run {result.run_id} {'succeeded' if result.success else 'FAILED'} in {elapsed:.1f} s")
    click.echo("")
    click.echo(summarize(result))
    click.echo(f"(dbt output: {dbt_log})")
    click.echo("")
    click.echo("See the materialisations and partitions in the Dagster UI (same instance):")
    click.echo(f"  DAGSTER_HOME={home} .venv/bin/dagster dev -w workspace.yaml")
    click.echo("  then open http://127.0.0.1:3000")
    if not result.success:
        sys.exit(1)
