"""The quality ledger: every check evaluation, one row per day, in the DuckDB warehouse.

It is filled from Dagster's event log, so every check lands there the same way: the platform's
own, dbt's tests and Dagster's freshness checks. A sensor appends what is new every minute; the
``lakehouse checks`` commands and the SLO report append before they read. Rows are keyed by run
and event, so appending is idempotent, and the ledger keeps its history when the Dagster
instance is wiped. DuckDB lets one process open the file: every writer holds ``warehouse_lock``
(``sensors/ledger.py`` skips a tick while dbt holds it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg

from lakehouse.checks.outcome import RUN_SCOPE, TABLE_SCOPE, metadata_value
from lakehouse.resources.warehouse import COMMAND_WAIT_SECONDS, warehouse_lock
from lakehouse.tables.sql import sql_file

if TYPE_CHECKING:  # DuckDB loads when the ledger is written, not with the definitions
    import duckdb

TABLE = "quality.check_evaluations"
COLUMN_COUNT = 13  # the columns of ledger.sql's table, in the order _rows gives them
# Runs updated this long before the newest ledger row are read again: a run that was still going
# at the last sync may have evaluated more checks since (rows already held are skipped).
OVERLAP = timedelta(days=1)


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(sql_file(__file__, "ledger.sql"))


def _number(metadata: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = metadata_value(metadata.get(key))
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None


def _run_partitions(run: dg.DagsterRun) -> str | None:
    start = run.tags.get("dagster/asset_partition_range_start")
    return (
        f"{start}..{run.tags.get('dagster/asset_partition_range_end')}"
        if start
        else run.tags.get("dagster/partition")
    )


def _rows(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[tuple]:
    rows = []
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    for record in records:
        entry = record.event_log_entry
        evaluation = entry.asset_check_evaluation
        if evaluation is None:
            continue
        metadata = dict(evaluation.metadata or {})
        scope = metadata_value(metadata.get("scope"))
        if scope == RUN_SCOPE:
            continue  # a step's summary: its days are in the ledger one by one
        rows.append(
            (
                run.run_id,
                record.storage_id,
                evaluation.asset_key.to_user_string(),
                None if scope == TABLE_SCOPE else evaluation.partition,  # dbt's, of the whole table
                _run_partitions(run),
                evaluation.check_name,
                evaluation.severity.value.lower(),
                evaluation.passed,
                _number(metadata, "evaluated_rows", "dagster_dbt/total_row_count"),
                _number(metadata, "failing_rows", "dagster_dbt/failed_row_count"),
                metadata_value(metadata.get("contract_version")),
                evaluation.description,
                datetime.fromtimestamp(entry.timestamp, tz=UTC),
            )
        )
    return rows


def sync_ledger(
    instance: dg.DagsterInstance, warehouse_path: str, *, wait_seconds: float = COMMAND_WAIT_SECONDS
) -> int:
    """Append the check evaluations the ledger does not hold yet; return how many rows.

    Reads run by run (any instance storage, including the default run-sharded SQLite), the runs
    updated since shortly before the newest row the ledger holds. Holds the warehouse's lock
    (``WarehouseBusy`` if another user keeps it longer than ``wait_seconds``).
    """
    import duckdb

    with warehouse_lock(warehouse_path, wait_seconds=wait_seconds), duckdb.connect(warehouse_path) as con:
        ensure_ledger(con)
        newest = con.execute(f"SELECT max(evaluated_at) FROM {TABLE}").fetchall()[0][0]
        runs = instance.get_runs(filters=dg.RunsFilter(updated_after=newest - OVERLAP) if newest else None)
        before = con.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0]
        for run in runs:
            rows = _rows(instance, run)
            if rows:
                con.executemany(
                    f"INSERT OR IGNORE INTO {TABLE} VALUES ({', '.join('?' * COLUMN_COUNT)})", rows
                )
        return con.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0] - before
