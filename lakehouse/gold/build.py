"""One gold step: ``dbt build`` over the run's window of days, under the warehouse's lock.

Microbatch models rebuild one batch per day of the window, which starts ``lookback_days``
before the run's first day (silver may have changed there). The window goes to dbt as
``--event-time-start/--event-time-end``, which keeps dbt's partial parse (changing ``--vars``
forces a full re-parse on every new window).

After dbt, ``gold/report.py`` reads what it built (rows per day, columns, lineage, each test per
day) and sends the step's events in the order the UI needs. A dbt failure (a model that did not
build, a test that failed with error severity) still fails the step, after everything dbt did
was recorded: the days that failed show as failed, not missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from lakehouse.assets.partitions import partition_window
from lakehouse.days import days_between
from lakehouse.gold.report import emit, gather
from lakehouse.resources.warehouse import GOLD_WAIT_SECONDS, DuckDBWarehouse, warehouse_lock


def build_gold(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: DuckDBWarehouse,
    project: DbtProject,
    *,
    lookback_days: int,
    calendar_start: date,
) -> Iterator[Any]:
    start, end = partition_window(context)
    first = max(start - timedelta(days=lookback_days), calendar_start)
    args = [
        "build",
        "--event-time-start",
        first.isoformat(),
        "--event-time-end",
        (end + timedelta(days=1)).isoformat(),
    ]
    # DuckDB lets one process open the file: wait for the ledger's sensor or a command that
    # holds it, rather than fail. Collected, not streamed: what dbt built can only be read once
    # dbt has let go of the file.
    with warehouse_lock(
        warehouse.path,
        wait_seconds=GOLD_WAIT_SECONDS,
        on_wait=lambda: context.log.info(f"waiting for another user of {warehouse.path} to finish"),
    ):
        invocation = dbt.cli(args, context=context, raise_on_error=False)
        events = list(invocation.stream())
        gold = gather(context, events, invocation.target_path, warehouse, days_between(first, end))
    keep_partial_parse(invocation.target_path, project)
    yield from emit(context, gold)
    error = invocation.get_error()
    if error is not None:
        raise error


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
