"""Silver for a range of days: bronze window → deduplicated, flagged rows merged into Delta.

A run for days ``start..end`` re-merges ``start - lookback_days .. end`` (the days bronze
restated), so late rows reach silver in the daily run. What happens then depends on the
contract's ``silver.mode``:

- ``merge``: the latest row per surrogate key is upserted, bounded to the window's partitions.
  Rows are never deleted (a key missing from a later batch stays); a key whose event date moved
  within the window moves with it.
- ``scd2``: the version history of every key in the batch is recomputed and merged
  (``valid_from``, ``valid_to``, ``is_current``); the table is not partitioned by day.
- ``append``: the window's partitions are replaced by its bronze rows (no key, no dedup).

Only the diff reaches the Delta MERGE (see ``changes.py``); an unchanged window commits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pyarrow as pa

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, silver_schema
from lakehouse.days import days_between, restated_days
from lakehouse.silver.changes import keyed_changes_sql, version_changes_sql
from lakehouse.silver.prepare import BRONZE_VIEW, latest_per_key_sql, prepared_rows_sql, row_rules
from lakehouse.silver.scd2 import EXISTING_VIEW, attr_hash, versions_sql
from lakehouse.sql import ARROW_BATCH_ROWS, day_range, ident, literal, scalar
from lakehouse.tables.delta import partition_dataset, replace_partitions
from lakehouse.tables.location import TableLocation
from lakehouse.tables.merge import OP_COLUMN, MergeWindow, ensure_table, merge_rows


@dataclass
class SilverResult:
    mode: str
    window_start: date
    window_end: date
    batch_rows: int = 0  # bronze rows read in the window
    merged_rows: int = 0  # rows (or versions) after dedup
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    files_scanned: int = 0
    files_skipped: int = 0
    flagged_rows: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    rows_by_day: dict[date, int] = field(default_factory=dict)  # silver rows per day of the window
    # Reconciliation, per day: what bronze says silver should hold, and what it holds (rows, or
    # for scd2 the keys of the day's snapshot, and how many of them have one current version).
    expected_by_day: dict[date, int] = field(default_factory=dict)
    held_by_day: dict[date, int] = field(default_factory=dict)
    stale_by_day: dict[date, int] = field(default_factory=dict)  # merge: rows whose key bronze no longer has


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
    window = restated_days(contract, start, end)
    if window is None:  # entirely before the source's history
        return SilverResult(mode=contract.silver.mode, window_start=start, window_end=end)
    first, last = window
    result = SilverResult(mode=contract.silver.mode, window_start=first, window_end=last)
    metadata = {"dagster_run_id": run_id, "partitions": f"{first}..{last}", **(commit_metadata or {})}
    dataset = partition_dataset(bronze)
    if dataset is None:
        raise FileNotFoundError(
            f"bronze table {bronze.uri} does not exist yet: materialize bronze/{contract.name} first"
        )
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
        con.register(BRONZE_VIEW, dataset)
        con.execute(
            f"CREATE TEMP TABLE batch AS {prepared_rows_sql(contract, day_range(EVENT_DATE, first, last))}"
        )
        result.batch_rows = scalar(con, "SELECT count(*) FROM batch")
        con.execute("SET TimeZone = 'UTC'")  # Arrow export labels timestamps with the session zone
        if contract.silver.mode == "merge":
            _merge(con, contract, result, silver, metadata)
        elif contract.silver.mode == "scd2":
            _scd2(con, contract, result, silver, metadata)
        else:
            _append(con, contract, result, silver, metadata)
        _summarise_flags(con, contract, result)
        result.rows_by_day = _rows_by_day(con, silver, first, last)
        _reconcile(con, contract, result)

    finally:
        con.close()
    return result


def _columns(contract: SourceContract) -> str:
    return ", ".join(ident(f.name) for f in silver_schema(contract))


def _merge(con, contract, result, silver, metadata) -> None:
    schema = silver_schema(contract)
    con.execute(
        f"CREATE TEMP TABLE merged AS SELECT {_columns(contract)} "
        f"FROM ({latest_per_key_sql(contract, 'SELECT * FROM batch')})"
    )
    result.merged_rows = scalar(con, "SELECT count(*) FROM merged")
    window = MergeWindow(EVENT_DATE, result.window_start, result.window_end)
    existing = partition_dataset(silver)
    con.register("silver_table", existing if existing is not None else schema.empty_table())
    con.execute(
        "CREATE TEMP VIEW silver_window AS SELECT * FROM silver_table "
        f"WHERE {day_range(EVENT_DATE, window.start, window.end)}"
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
    result.merged_rows = scalar(con, "SELECT count(*) FROM versions WHERE _op = 'upsert'")
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
    if scalar(con, "SELECT count(*) FROM changes") == 0:
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
    result.inserted = metrics.get("num_target_rows_inserted", 0)
    result.updated = metrics.get("num_target_rows_updated", 0)
    result.deleted = metrics.get("num_target_rows_deleted", 0)
    result.files_scanned = metrics.get("num_target_files_scanned", 0)
    result.files_skipped = metrics.get("num_target_files_skipped_during_scan", 0)


def _append(con, contract, result, silver, metadata) -> None:
    result.merged_rows = result.inserted = result.batch_rows
    replace_partitions(
        silver,
        con.sql(
            f"SELECT {_columns(contract)} FROM batch ORDER BY {EVENT_DATE}, _source_file, _row_number"
        ).to_arrow_reader(ARROW_BATCH_ROWS),
        schema=silver_schema(contract),
        partition_column=EVENT_DATE,
        start=result.window_start,
        end=result.window_end,
        metadata=metadata,
    )


def _summarise_flags(con, contract, result) -> None:
    if not row_rules(contract):
        return
    table = "batch" if contract.silver.mode != "merge" else "merged"
    rows = con.execute(
        f"SELECT flag, count(*) FROM (SELECT unnest(dq_flags) AS flag FROM {table}) GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    result.flags = dict(rows)
    result.flagged_rows = scalar(con, f"SELECT count(*) FROM {table} WHERE NOT dq_valid")


def _rows_by_day(con, silver: TableLocation, first: date, last: date) -> dict[date, int]:
    """Silver rows per day of the window (scd2: versions first observed that day)."""
    counts = dict.fromkeys(days_between(first, last), 0)
    dataset = partition_dataset(silver)
    if dataset is not None:
        con.register("silver_after", dataset)
        rows = con.execute(
            f"SELECT {EVENT_DATE}, count(*) FROM silver_after WHERE {day_range(EVENT_DATE, first, last)} GROUP BY 1"
        ).fetchall()
        counts.update(dict(rows))
    return counts


def _reconcile(con, contract, result) -> None:
    """Count, per day, what silver should hold and what it holds (``silver_after`` is registered
    by ``_rows_by_day``).

    merge: the batch's keys (one row each after dedup) against the rows silver holds for them; a
    key held twice (its event date moved outside the window) fails. Keys silver holds that the
    batch no longer has (their files were dropped, their rows now quarantined) are reported as
    stale: merge never deletes. append: rows against rows. scd2: the snapshot's keys against
    those whose single current version agrees with the latest observation in the batch (or
    started later than it).
    """
    days = days_between(result.window_start, result.window_end)
    result.expected_by_day = dict.fromkeys(days, 0)
    result.held_by_day = dict.fromkeys(days, 0)
    result.stale_by_day = dict.fromkeys(days, 0)
    if contract.silver.mode == "scd2":
        valid_from = f"CAST({ident(contract.valid_from_column)} AS TIMESTAMPTZ)"
        order = (
            f"{valid_from} DESC, {ident(contract.partitions.event_time)} DESC, _arrival_date DESC, "
            "_ingested_at DESC, _source_file DESC, _row_number DESC"
        )
        rows = con.execute(
            f"""
            WITH latest AS (
                SELECT _sk, {valid_from} AS observed_from, {attr_hash(contract)} AS observed FROM batch
                QUALIFY row_number() OVER (PARTITION BY _sk ORDER BY {order}) = 1
            ),
            current AS (
                SELECT _sk, count(*) AS n, any_value(valid_from) AS valid_from,
                       any_value({attr_hash(contract)}) AS held
                FROM silver_after WHERE is_current GROUP BY _sk
            ),
            consistent AS (
                SELECT latest._sk FROM latest JOIN current USING (_sk)
                WHERE current.n = 1 AND (current.held = latest.observed OR current.valid_from > latest.observed_from)
            )
            SELECT b.{EVENT_DATE}, count(DISTINCT b._sk),
                   count(DISTINCT b._sk) FILTER (WHERE b._sk IN (SELECT _sk FROM consistent))
            FROM batch b GROUP BY 1
            """
        ).fetchall()
        for day, expected, held in rows:
            result.expected_by_day[day], result.held_by_day[day] = expected, held
        return
    if contract.silver.mode == "append":
        result.expected_by_day.update(
            dict(con.execute(f"SELECT {EVENT_DATE}, count(*) FROM batch GROUP BY 1").fetchall())
        )
        result.held_by_day.update(result.rows_by_day)
        return
    window = day_range(EVENT_DATE, result.window_start, result.window_end)
    result.expected_by_day.update(
        dict(con.execute(f"SELECT {EVENT_DATE}, count(*) FROM merged GROUP BY 1").fetchall())
    )
    for day, held, stale in con.execute(
        f"""
        SELECT {EVENT_DATE}, count(*) FILTER (WHERE _sk IN (SELECT _sk FROM merged)),
               count(*) FILTER (WHERE _sk NOT IN (SELECT _sk FROM merged))
        FROM silver_after WHERE {window} GROUP BY 1
        """
    ).fetchall():
        result.held_by_day[day], result.stale_by_day[day] = held, stale
