"""``lakehouse vacuum``: delete the files the lake's Delta tables no longer reference.

The retention job vacuums every day; this runs the same vacuum now, from the command line (after
a big backfill, or to see what it would free with ``--dry-run``).
"""

from __future__ import annotations

import click


@click.command()
@click.option(
    "--retain-hours",
    type=click.IntRange(min=0),
    default=None,
    help="Keep unreferenced files younger than this (default: LAKEHOUSE_VACUUM_RETAIN_HOURS, 168). "
    "0 deletes them all: no time travel to earlier versions afterwards.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted, delete nothing.")
def vacuum(retain_hours: int | None, dry_run: bool) -> None:
    """Vacuum every source's bronze, quarantine and silver table, and the platform's own."""
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.resources import lake_storage
    from lakehouse.settings import Settings
    from lakehouse.tables.vacuum import vacuum as vacuum_table

    settings = Settings.from_env()
    hours = settings.vacuum_retain_hours if retain_hours is None else retain_hours
    lake = lake_storage(settings, env_vars=False)
    tables = [
        (f"{layer}/{name}", lake.table(layer, name))
        for loaded in load_contracts(settings.sources_dir)
        for layer, name in (
            ("bronze", loaded.contract.name),
            ("quarantine", loaded.contract.name),
            ("silver", loaded.contract.entity_name),
        )
    ]
    tables += [(f"_ops/{name}", lake.ops_table(name)) for name in ("dead_letters", "watermarks")]
    files = freed = 0
    for name, location in tables:
        report = vacuum_table(location, hours, dry_run=dry_run)
        if report.exists:
            click.echo(f"{name}: {report.files_removed} file(s), {report.bytes_freed} bytes")
            files, freed = files + report.files_removed, freed + report.bytes_freed
    verb = "would free" if dry_run else "freed"
    click.echo(f"{verb} {freed} bytes in {files} file(s) older than {hours} h")
