"""Retention's record in the warehouse, beside the quality ledger (``quality.retention_runs``).

The quality ledger is fed from Dagster's event log, check evaluations only; what retention
deleted is a fact about the lake, worth keeping when the Dagster instance is wiped, so the job
writes it straight into a table of its own in the same schema. One row per table per run,
replaced if the run records again (a retried step).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from lakehouse.contracts.model import SourceContract
from lakehouse.privacy.retention import SourceRetention
from lakehouse.resources.warehouse import COMMAND_WAIT_SECONDS, warehouse_lock
from lakehouse.tables.sql import sql_file

TABLE = "quality.retention_runs"


def record_retention(
    warehouse_path: str,
    run_id: str,
    done: Sequence[tuple[SourceContract, SourceRetention]],
    *,
    wait_seconds: float = COMMAND_WAIT_SECONDS,
) -> int:
    """Write one row per table of ``done``; return how many. Holds the warehouse's lock."""
    import duckdb

    now = datetime.now(UTC)
    rows = [
        (
            run_id,
            source.source,
            t.table,
            t.cutoff,
            t.row()[2] or None,
            t.rows_deleted,
            t.files_removed,
            t.vacuumed_files,
            t.bytes_freed,
            t.version_before,
            t.version_after,
            contract.retention.purpose,
            contract.retention.legal_basis,
            now,
        )
        for contract, source in done
        for t in source.tables
    ]
    with warehouse_lock(warehouse_path, wait_seconds=wait_seconds), duckdb.connect(warehouse_path) as con:
        con.execute(sql_file(__file__, "retention_log.sql"))
        if rows:
            con.executemany(f"INSERT OR REPLACE INTO {TABLE} VALUES ({', '.join('?' * 14)})", rows)
    return len(rows)
