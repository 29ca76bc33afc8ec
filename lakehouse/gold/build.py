"""One gold step: ``dbt build`` of the step's models, after the warehouse's lock is free.

A daily step (microbatch models) rebuilds one batch per day of its window, which starts
``lookback_days`` before the run's first day (silver may have changed there). The window goes to
dbt as ``--event-time-start/--event-time-end``, which keeps dbt's partial parse (changing
``--vars`` forces a full re-parse on every new window). A whole-table step (every other model)
has no window: dbt rebuilds its models whole, and each records one materialisation.

The dbt process takes the warehouse's lock itself (``gold/dbt_plugins/warehouse_lock.py``) and
holds it until it exits; this step waits for its turn first only to say so in the run's log.

After dbt, ``gold/report.py`` reads what it built (rows per day, columns, lineage, each test per
day) and sends the step's events in the order the UI needs. A dbt failure (a model that did not
build, a test that failed with error severity) still fails the step, after everything dbt did
was recorded: the days that failed show as failed, not missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from lakehouse.assets.partitions import partition_window
from lakehouse.contracts.model import SourceContract
from lakehouse.days import days_between
from lakehouse.gold.report import BuiltModel, emit, gather
from lakehouse.resources.warehouse import GOLD_WAIT_SECONDS, DuckDBWarehouse, warehouse_lock
from lakehouse.warehouse_lock import wait_for_turn


def build_gold(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: DuckDBWarehouse,
    project: DbtProject,
    *,
    lookback_days: int,
    calendar_start: date | None,
    extra_tests: Sequence[str] = (),
    contracts: Sequence[SourceContract] = (),
) -> Iterator[Any]:
    """``calendar_start`` is None for the whole-table step. ``extra_tests``: the dbt FQNs of tests
    this step's checks stand for that dbt's selection of its models would not run (tests of
    ephemeral models, source tests), asked for when their check is selected."""
    window = event_time_window(context, lookback_days, calendar_start)
    args = ["build", *window_args(window), *extra_test_selection(context, extra_tests)]
    wait_for_turn(
        warehouse.path,
        wait_seconds=GOLD_WAIT_SECONDS,
        on_wait=lambda: context.log.info(f"waiting for another user of {warehouse.path} to finish"),
    )
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    # Collected, not streamed: what dbt built can only be read once dbt has let go of the file.
    events = list(invocation.stream())
    days = days_between(*window) if window is not None else []
    with warehouse_lock(warehouse.path, wait_seconds=GOLD_WAIT_SECONDS):
        gold = gather(context, events, invocation.target_path, warehouse, days)
    keep_partial_parse(invocation.target_path, project)
    add_pii_columns(context, gold.models, project, contracts)
    yield from emit(context, gold)
    error = invocation.get_error()
    if error is not None:
        raise error  # the run's target folder stays, for whoever reads why
    remove_run_target(invocation.target_path, project)


def remove_run_target(run_target: Path, project: DbtProject) -> None:
    """Delete the folder dagster-dbt made for this run (1-2 MB of compiled SQL, manifest and run
    results): everything in it was read, and one per run piled up without end. Only a folder
    inside the project's target path is removed."""
    base = (Path(project.project_dir) / project.target_path).resolve()
    folder = Path(run_target).resolve()
    if folder.parent == base and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)


def add_pii_columns(
    context: dg.AssetExecutionContext,
    models: Sequence[BuiltModel],
    project: DbtProject,
    contracts: Sequence[SourceContract],
) -> None:
    """Each built model's personal columns (``lakehouse/pii_columns``), traced from the sources'
    contracts through the project's manifest (``privacy/lineage.py``, cached beside it)."""
    if not models or not any(c.pii_columns for c in contracts):
        return
    from lakehouse.assets.columns import pii_columns_table
    from lakehouse.privacy.lineage import DbtLineage, model_pii_columns

    try:
        traced = DbtLineage.from_file(project.manifest_path, contracts)
        for model in models:
            model.metadata.update(
                pii_columns_table(model_pii_columns(traced, contracts, model.key.to_user_string()))
            )
    except Exception as error:  # a nicety, like column lineage: never fail a build for it
        context.log.warning(f"no lakehouse/pii_columns ({type(error).__name__}: {error})")


def event_time_window(
    context: dg.AssetExecutionContext, lookback_days: int, calendar_start: date | None
) -> tuple[date, date] | None:
    """First and last day dbt's microbatch models rebuild: the run's days and the lookback
    before them (never before the calendar). None for a step of unpartitioned assets."""
    if calendar_start is None:
        return None
    start, end = partition_window(context)
    return max(start - timedelta(days=lookback_days), calendar_start), end


def window_args(window: tuple[date, date] | None) -> list[str]:
    if window is None:
        return []
    first, last = window
    return [
        "--event-time-start",
        first.isoformat(),
        "--event-time-end",
        (last + timedelta(days=1)).isoformat(),
    ]


def extra_test_selection(context: dg.AssetExecutionContext, extra_tests: Sequence[str]) -> list[str]:
    """``--select`` for the tests whose checks are selected but whose parents dbt will not select
    (an ephemeral model, a source): dbt unions it with dagster-dbt's own ``--select``."""
    selected = {key.name for key in context.selected_asset_check_keys}
    wanted = [name for name in extra_tests if name.rsplit(".", 1)[-1] in selected]
    return ["--select", " ".join(wanted)] if wanted else []


def keep_partial_parse(run_target: Path, project: DbtProject) -> None:
    """Make this run's parse the one the next run starts from.

    dagster-dbt gives every run a fresh target folder seeded with the project's
    ``partial_parse.msgpack``. When the settings differ from those the manifest was built with
    (another warehouse path changes dbt's profile), dbt re-parses from scratch, and without this
    every later run would too.
    """
    produced = run_target / "partial_parse.msgpack"
    kept = Path(project.project_dir) / project.target_path / "partial_parse.msgpack"
    if not produced.exists() or (kept.exists() and kept.read_bytes() == produced.read_bytes()):
        return
    kept.parent.mkdir(parents=True, exist_ok=True)
    staging = kept.with_name(f".{kept.name}.{os.getpid()}")
    shutil.copyfile(produced, staging)
    os.replace(staging, kept)  # atomic: a concurrent run reads the old file or the new one
