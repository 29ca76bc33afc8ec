"""Silver for a range of days: bronze window → deduplicated, flagged rows merged into Delta.

Every run re-reads ``lookback_days`` before its first day, so a late row that bronze has since
placed in an earlier day reaches silver on the next run. What happens next depends on the
contract's ``silver.mode``:

- ``merge``: the latest row per surrogate key is upserted; the merge is bounded to the window's
  partitions. Rows are never deleted (a key missing from a later batch stays).
- ``scd2``: the version history of every key in the batch is recomputed and merged
  (``valid_from``, ``valid_to``, ``is_current``); the table is not partitioned by day.
- ``append``: the window's partitions are replaced by its bronze rows (no key, no dedup).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import pyarrow as pa

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, silver_schema
from lakehouse.days import days_between
from lakehouse.silver.changes import keyed_changes_sql, version_changes_sql
from lakehouse.silver.prepare import BRONZE_VIEW, latest_per_key_sql, prepared_rows_sql, row_rules
from lakehouse.silver.scd2 import EXISTING_VIEW, versions_sql
from lakehouse.sql import ident, literal
from lakehouse.tables.delta import partition_dataset, range_filter, replace_partitions
from lakehouse.tables.location import TableLocation
from lakehouse.tables.merge import OP_COLUMN, MergeWindow, ensure_table, merge_rows

BATCH_ROWS = 256 * 1024


@dataclass
class SilverResult:
    mode: str
    window_start: date
    window_end: date
    batch_rows: int = 0  # bronze rows read in the window
    merged_rows: int = 0  # rows (or versions) offered to the merge after dedup
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    files_scanned: int = 0
    files_skipped: int = 0
    flagged_rows: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    rows_by_day: dict[date, int] = field(default_factory=dict)  # silver rows per day of the run


def lookback_start(contract: SourceContract, start: date) -> date:
    return start - timedelta(days=contract.partitions.lookback_days)


def build_range(
    contract: SourceContract,
    *,
    start: date,
    end: date,
    bronze: TableLocation,
    silver: TableLocation,
    run_id: str,
    commit_metadata: dict[str, str] | None = None,
) -> SilverResult:
    window_start = lookback_start(contract, start)
    result = SilverResult(mode=contract.silver.mode, window_start=window_start, window_end=end)
    metadata = {
        "dagster_run_id": run_id,
        "partitions": f"{start}..{end}",
        "window": f"{window_start}..{end}",
        **(commit_metadata or {}),
    }
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
        dataset = partition_dataset(bronze)
        if dataset is None:
            raise FileNotFoundError(
                f"bronze table {bronze.uri} does not exist yet: materialize bronze/{contract.name} first"
            )
        con.register(BRONZE_VIEW, dataset)
        rows_sql = prepared_rows_sql(contract, range_filter(EVENT_DATE, window_start, end))
        con.execute(f"CREATE TEMP TABLE batch AS {rows_sql}")
        result.batch_rows = _scalar(con, "SELECT count(*) FROM batch")
        con.execute("SET TimeZone = 'UTC'")  # Arrow export labels timestamps with the session zone
        mode = contract.silver.mode
        if mode == "merge":
            _merge(con, contract, result, silver, metadata)
        elif mode == "scd2":
            _scd2(con, contract, result, silver, metadata)
        else:
            _append(con, contract, result, silver, metadata, window_start, end)
        _summarise_flags(con, contract, result)
        result.rows_by_day = _rows_by_day(con, contract, silver, start, end)
    finally:
        con.close()
    return result


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(sql).fetchall()[0][0]


def _columns(contract: SourceContract) -> str:
    return ", ".join(ident(f.name) for f in silver_schema(contract))


def _record_metrics(result: SilverResult, metrics: dict[str, int]) -> None:
    result.inserted = metrics.get("num_target_rows_inserted", 0)
    result.updated = metrics.get("num_target_rows_updated", 0)
    result.deleted = metrics.get("num_target_rows_deleted", 0)
    result.files_scanned = metrics.get("num_target_files_scanned", 0)
    result.files_skipped = metrics.get("num_target_files_skipped_during_scan", 0)


def _merge(con, contract, result, silver, metadata) -> None:
    schema = silver_schema(contract)
    con.execute(
        f"CREATE TEMP TABLE merged AS SELECT {_columns(contract)} "
        f"FROM ({latest_per_key_sql(contract, 'SELECT * FROM batch')})"
    )
    result.merged_rows = _scalar(con, "SELECT count(*) FROM merged")
    window = MergeWindow(EVENT_DATE, result.window_start, result.window_end)
    existing = partition_dataset(silver)
    con.register("silver_table", existing if existing is not None else schema.empty_table())
    con.execute(
        "CREATE TEMP VIEW silver_window AS SELECT * FROM silver_table "
        f"WHERE {range_filter(EVENT_DATE, window.start, window.end)}"
    )
    changes = keyed_changes_sql(
        schema.names, key="_sk", moved_by=EVENT_DATE, new="merged", existing="silver_window"
    )
    _merge_changes(
        con,
        result,
        silver,
        schema,
        changes,
        match=["_sk", EVENT_DATE],
        partition_by=[EVENT_DATE],
        window=window,
        metadata=metadata,
    )


def _scd2(con, contract, result, silver, metadata) -> None:
    schema = silver_schema(contract)
    existing = partition_dataset(silver)
    con.register(EXISTING_VIEW, existing if existing is not None else schema.empty_table())
    con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
    con.execute(f"CREATE TEMP TABLE versions AS {versions_sql(contract, 'SELECT * FROM batch')}")
    con.execute("SET TimeZone = 'UTC'")
    result.merged_rows = _scalar(con, "SELECT count(*) FROM versions WHERE _op = 'upsert'")
    changes = version_changes_sql(
        schema.names, key="_version_sk", versions="versions", existing=EXISTING_VIEW
    )
    _merge_changes(
        con,
        result,
        silver,
        schema,
        changes,
        match=["_version_sk"],
        partition_by=None,
        window=None,
        metadata=metadata,
    )


def _merge_changes(
    con, result, silver, schema, changes_sql, *, match, partition_by, window, metadata
) -> None:
    """MERGE the diff; when there is none, commit nothing (a rerun leaves the table as it was)."""
    con.execute(f"CREATE TEMP TABLE changes AS {changes_sql}")
    if _scalar(con, "SELECT count(*) FROM changes") == 0:
        ensure_table(silver, schema, partition_by)
        return
    source = (
        con.sql("SELECT * FROM changes")
        .to_arrow_table()
        .cast(pa.schema([*schema, pa.field(OP_COLUMN, pa.string(), nullable=False)]))
    )
    metrics = merge_rows(
        silver,
        source,
        schema=schema,
        match=match,
        partition_by=partition_by,
        window=window,
        metadata=metadata,
    )
    _record_metrics(result, metrics)


def _append(con, contract, result, silver, metadata, window_start, end) -> None:
    result.merged_rows = result.batch_rows
    replace_partitions(
        silver,
        con.sql(
            f"SELECT {_columns(contract)} FROM batch ORDER BY {EVENT_DATE}, _ingested_at, _row_hash"
        ).to_arrow_reader(BATCH_ROWS),
        schema=silver_schema(contract),
        partition_column=EVENT_DATE,
        start=window_start,
        end=end,
        metadata=metadata,
    )
    result.inserted = result.batch_rows


def _summarise_flags(con, contract, result) -> None:
    if not row_rules(contract):
        return
    rows = con.execute(
        "SELECT flag, count(*) FROM (SELECT unnest(dq_flags) AS flag FROM batch) GROUP BY 1"
    ).fetchall()
    result.flags = dict(Counter(dict(rows)).most_common())
    result.flagged_rows = _scalar(con, "SELECT count(*) FROM batch WHERE NOT dq_valid")


def _rows_by_day(con, contract, silver: TableLocation, start: date, end: date) -> dict[date, int]:
    """Silver rows per day of the run (scd2: versions first observed that day)."""
    dataset = partition_dataset(silver)
    counts = {d: 0 for d in days_between(start, end)}
    if dataset is None:
        return counts
    con.register("silver_after", dataset)
    rows = con.execute(
        f"SELECT {EVENT_DATE}, count(*) FROM silver_after WHERE {range_filter(EVENT_DATE, start, end)} GROUP BY 1"
    ).fetchall()
    counts.update(dict(rows))
    return counts
