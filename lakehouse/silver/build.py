"""Silver for a range of days: bronze window → deduplicated, flagged rows merged into Delta.

A run for days ``start..end`` re-merges ``start - lookback_days .. end`` (the days bronze
restated), so late rows reach silver in the daily run. What happens then depends on the
contract's ``silver.mode``:

- ``merge``: the latest row per surrogate key is upserted, bounded to the window's partitions:
  the days the diff touches are rewritten in one commit, streamed (``_rewrite_days``).
  A key missing from a later batch stays (flag, don't drop); a key whose event date moved within
  the window moves with it. The one deletion: a row whose file was withdrawn (gone from landing,
  its rows dropped from bronze by a run that accepted it, ``allow_missing_files``) and whose key
  no other bronze row of the window brings. That file is in neither bronze nor quarantine for the
  window any more; a key merely missing from a file still there is not a withdrawal.
- ``scd2``: the version history of every key in the batch is recomputed and merged
  (``valid_from``, ``valid_to``, ``is_current``); the table is not partitioned by day.
- ``append``: the window's partitions are replaced by its bronze rows (no key, no dedup).

Only the diff is written (see ``changes.py``); an unchanged window commits nothing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, silver_schema
from lakehouse.days import days_between, restated_days
from lakehouse.privacy.retention import retained_from, today_in
from lakehouse.silver.changes import keyed_changes_sql, version_changes_sql
from lakehouse.silver.prepare import BRONZE_VIEW, latest_per_key_sql, prepared_rows_sql, row_rules
from lakehouse.silver.scd2 import EXISTING_VIEW, attr_hash, valid_from_sql, versions_sql
from lakehouse.tables.delta import evolve_columns, partition_dataset, replace_days, replace_partitions
from lakehouse.tables.engine import step_connection
from lakehouse.tables.location import TableLocation
from lakehouse.tables.merge import OP_COLUMN, ensure_table, merge_rows
from lakehouse.tables.scan import partition_day, register_scan
from lakehouse.tables.sql import ARROW_BATCH_ROWS, day_range, ident, literal, scalar, sql_file

if TYPE_CHECKING:
    from deltalake import DeltaTable


@dataclass(frozen=True)
class Written:
    """What one write did to the silver table."""

    merged_rows: int = 0  # rows (or versions) after dedup
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    files_rewritten: int = 0  # data files the write replaced
    files_untouched: int = 0  # the table's other data files


@dataclass(frozen=True)
class Flags:
    flagged_rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # rule id -> rows flagged


@dataclass(frozen=True)
class Reconciliation:
    """Per day: what bronze says silver should hold, and what it holds (rows, or for scd2 the
    keys of the day's snapshot and how many of them have one current version)."""

    expected: dict[date, int] = field(default_factory=dict)
    held: dict[date, int] = field(default_factory=dict)
    stale: dict[date, int] = field(default_factory=dict)  # merge: rows whose key bronze no longer has


@dataclass(frozen=True)
class SilverResult:
    mode: str
    window_start: date
    window_end: date
    batch_rows: int = 0  # bronze rows read in the window
    written: Written = field(default_factory=Written)
    flag_summary: Flags = field(default_factory=Flags)
    rows_by_day: dict[date, int] = field(default_factory=dict)  # silver rows per day of the window
    flagged_by_day: dict[date, int] = field(default_factory=dict)  # of those, rows with dq_valid false
    reconciliation: Reconciliation = field(default_factory=Reconciliation)
    withdrawn: dict[str, int] = field(default_factory=dict)  # rows deleted per withdrawn file
    # The silver table as the write left it, for the step's checks: each open reads the whole
    # Delta log (34 ms at 1,000 files, measured), and a step used to open it six times.
    table: DeltaTable | None = field(default=None, compare=False, repr=False)


def build_range(
    contract: SourceContract,
    *,
    start: date,
    end: date,
    bronze: TableLocation,
    silver: TableLocation,
    quarantine: TableLocation,
    run_id: str,
    commit_metadata: dict[str, str] | None = None,
    today: date | None = None,
) -> SilverResult:
    """``quarantine``: bronze's quarantine table, whose files still count as present (a file whose
    rows are all quarantined now was not withdrawn). ``today``: the day retention windows count
    back from (default: today in the source's timezone)."""
    window = restated_days(contract, start, end)
    kept = retained_from(contract, today if today is not None else today_in(contract))
    if window is None or (kept is not None and window[1] < kept):  # before its history, or expired
        return SilverResult(mode=contract.silver.mode, window_start=start, window_end=end)
    # Days retention expired are not rewritten (bronze no longer holds them all): kept as they are.
    first, last = max(window[0], kept) if kept is not None else window[0], window[1]
    metadata = {"dagster_run_id": run_id, "partitions": f"{first}..{last}", **(commit_metadata or {})}
    table = silver.open()  # opened once: read, merged into and counted through this object
    evolve_columns(silver, silver_schema(contract), metadata, table=table)  # before silver is read
    spill = tempfile.TemporaryDirectory(prefix="lakehouse-silver-")
    con = step_connection(spill.name)
    try:
        if not register_scan(con, BRONZE_VIEW, bronze, (EVENT_DATE, first, last)):
            raise FileNotFoundError(
                f"bronze table {bronze.uri} does not exist yet: materialize bronze/{contract.name} first"
            )
        con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
        con.execute(
            f"CREATE TEMP TABLE batch AS {prepared_rows_sql(contract, day_range(EVENT_DATE, first, last))}"
        )
        _present_files(con, quarantine, first, last)
        batch_rows = int(scalar(con, "SELECT count(*) FROM batch"))
        con.execute("SET TimeZone = 'UTC'")  # Arrow export labels timestamps with the session zone
        write = {"merge": _merge, "scd2": _scd2, "append": _append}[contract.silver.mode]
        written = write(con, contract, first, last, silver, table, metadata)
        table = table if table is not None else silver.open()  # a write moves it in place
        withdrawn = (
            dict(con.execute("SELECT _source_file, count(*) FROM withdrawn GROUP BY 1 ORDER BY 1").fetchall())
            if contract.silver.mode == "merge"
            else {}
        )
        flags = _flags(con, contract)
        rows_by_day, flagged_by_day = _rows_by_day(con, silver, table, first, last)
        reconciliation = _reconcile(con, contract, first, last, rows_by_day)
    finally:
        con.close()
        spill.cleanup()
    return SilverResult(
        mode=contract.silver.mode,
        window_start=first,
        window_end=last,
        batch_rows=batch_rows,
        written=written,
        flag_summary=flags,
        rows_by_day=rows_by_day,
        flagged_by_day=flagged_by_day,
        reconciliation=reconciliation,
        withdrawn=withdrawn,
        table=table,
    )


def _present_files(
    con: duckdb.DuckDBPyConnection, quarantine: TableLocation, first: date, last: date
) -> None:
    """``present_files``: every landing file bronze or quarantine holds rows of, for the window."""
    con.execute("CREATE TEMP TABLE present_files AS SELECT DISTINCT _source_file FROM batch")
    if register_scan(con, "quarantine_table", quarantine, ("_partition_date", first, last)):
        con.execute(
            "INSERT INTO present_files SELECT DISTINCT _source_file FROM quarantine_table "
            f"WHERE {day_range('_partition_date', first, last)}"
        )


def _columns(contract: SourceContract) -> str:
    return ", ".join(ident(f.name) for f in silver_schema(contract))


def _merge(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    first: date,
    last: date,
    silver: TableLocation,
    table: DeltaTable | None,
    metadata: dict[str, str],
) -> Written:
    schema = silver_schema(contract)
    con.execute(
        f"CREATE TEMP TABLE merged AS SELECT {_columns(contract)} "
        f"FROM ({latest_per_key_sql(contract, 'SELECT * FROM batch')})"
    )
    # What DuckDB no longer needs it may not keep: under a capped budget (LAKEHOUSE_DUCKDB_MEMORY_LIMIT)
    # every temp table held is memory a later join cannot have. What follows reads ``merged``.
    con.execute("DROP TABLE batch")
    if not register_scan(con, "silver_table", silver, (EVENT_DATE, first, last), table=table):
        con.register("silver_table", schema.empty_table())
    # Read once: the withdrawn rows, both halves of the diff and the rewritten days scan it.
    con.execute(
        f"CREATE TEMP TABLE silver_window AS SELECT * FROM silver_table WHERE {day_range(EVENT_DATE, first, last)}"
    )
    _withdrawn(con)
    changes = keyed_changes_sql(
        schema.names, key="_sk", moved_by=EVENT_DATE, new="merged", existing="silver_window"
    )
    con.execute(
        f"CREATE TEMP TABLE changes AS {changes} "
        f"UNION ALL SELECT {_columns(contract)}, 'delete' AS _op FROM withdrawn"
    )
    merged_rows = int(scalar(con, "SELECT count(*) FROM merged"))
    days = [day for (day,) in con.execute(f"SELECT DISTINCT {EVENT_DATE} FROM changes ORDER BY 1").fetchall()]
    if not days:  # an unchanged window commits nothing: a rerun leaves the table as it was
        if table is None:
            ensure_table(silver, schema, [EVENT_DATE])
        written = Written(merged_rows=merged_rows)
    else:
        written = replace(_rewrite_days(con, silver, table, schema, days, metadata), merged_rows=merged_rows)
    con.execute("DROP TABLE silver_window; DROP TABLE changes")  # the reconciliation reads the table
    return written


def _withdrawn(con: duckdb.DuckDBPyConnection) -> None:
    """``withdrawn``: the window's rows that came only from withdrawn files: their file is in
    neither bronze nor quarantine and their key in no bronze row of the window (see the module's
    docstring).

    The file test comes first and the key test joins only what it leaves (in a daily run,
    nothing), so no join builds a hash table of the window's keys: the two tests in one WHERE
    became two MARK joins, the first over every key of ``merged``, and under a 512 MB DuckDB
    budget a 5 M-order window ran out of memory there (measured).
    """
    con.execute(
        "CREATE TEMP TABLE withdrawn AS "
        "WITH candidates AS (SELECT w.* FROM silver_window w "
        "WHERE NOT EXISTS (SELECT 1 FROM present_files p WHERE p._source_file = w._source_file)), "
        "kept AS (SELECT m._sk FROM merged m WHERE m._sk IN (SELECT _sk FROM candidates)) "
        "SELECT c.* FROM candidates c WHERE NOT EXISTS (SELECT 1 FROM kept k WHERE k._sk = c._sk)"
    )


def _rewrite_days(
    con: duckdb.DuckDBPyConnection,
    silver: TableLocation,
    table: DeltaTable | None,
    schema: pa.Schema,
    days: list[date],
    metadata: dict[str, str],
) -> Written:
    """Replace the days the diff touches with what they hold now: their window rows that no
    change replaces or deletes, and the upserts. One commit, streamed from DuckDB (which spills).

    Why not a Delta MERGE of the diff: delta-rs holds a MERGE's source in memory, and the diff was
    handed over as one Arrow table besides, about 690 bytes a row; the 17 M rows of a 5 M-order
    window peaked at 11.2 GiB (measured). A MERGE rewrites every file holding a matched row, so
    a day that gets late rows is rewritten either way; a day no change touches is left alone.
    """
    key = f"c._sk = w._sk AND c.{EVENT_DATE} = w.{EVENT_DATE}"
    ((inserted, updated, deleted),) = con.execute(
        "SELECT count(*) FILTER (WHERE c._op = 'upsert' AND w._sk IS NULL), "
        "count(*) FILTER (WHERE c._op = 'upsert' AND w._sk IS NOT NULL), "
        "count(*) FILTER (WHERE c._op = 'delete') "
        f"FROM changes c LEFT JOIN (SELECT _sk, {EVENT_DATE} FROM silver_window) w ON {key}"
    ).fetchall()
    rewritten, untouched = _files_in(table, days)
    columns = ", ".join(ident(c) for c in schema.names)
    in_days = f"w.{EVENT_DATE} IN ({', '.join(literal(day) for day in days)})"
    rows = con.sql(
        f"SELECT {', '.join(f'w.{ident(c)}' for c in schema.names)} FROM silver_window w "
        f"WHERE {in_days} AND NOT EXISTS (SELECT 1 FROM changes c WHERE {key}) "
        f"UNION ALL SELECT {columns} FROM changes WHERE _op = 'upsert'"
    ).to_arrow_reader(ARROW_BATCH_ROWS)
    replace_days(
        silver, rows, schema=schema, partition_column=EVENT_DATE, days=days, metadata=metadata, table=table
    )
    return Written(
        inserted=int(inserted),
        updated=int(updated),
        deleted=int(deleted),
        files_rewritten=rewritten,
        files_untouched=untouched,
    )


def _files_in(table: DeltaTable | None, days: list[date]) -> tuple[int, int]:
    """The table's data files in ``days`` (a rewrite replaces them), and the others."""
    if table is None:
        return 0, 0
    values = pa.table(table.get_add_actions(flatten=True)).column(f"partition.{EVENT_DATE}").to_pylist()
    wanted = set(days)
    inside = sum(1 for value in values if partition_day(value) in wanted)
    return inside, len(values) - inside


def _scd2(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    first: date,
    last: date,
    silver: TableLocation,
    table: DeltaTable | None,
    metadata: dict[str, str],
) -> Written:
    schema = silver_schema(contract)
    if not register_scan(con, EXISTING_VIEW, silver, table=table):
        con.register(EXISTING_VIEW, schema.empty_table())
    con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
    con.execute(f"CREATE TEMP TABLE versions AS {versions_sql(contract, 'SELECT * FROM batch')}")
    con.execute("SET TimeZone = 'UTC'")
    changes = version_changes_sql(
        schema.names, key="_version_sk", versions="versions", existing=EXISTING_VIEW
    )
    written = _merge_versions(con, silver, table, schema, changes, metadata)
    versions = int(scalar(con, "SELECT count(*) FROM versions WHERE _op = 'upsert'"))
    return replace(written, merged_rows=versions)


def _merge_versions(
    con: duckdb.DuckDBPyConnection,
    silver: TableLocation,
    table: DeltaTable | None,
    schema: pa.Schema,
    changes_sql: str,
    metadata: dict[str, str],
) -> Written:
    """MERGE the scd2 diff on ``_version_sk``; when there is none, commit nothing (a rerun leaves
    the table as it was). A dimension's diff is bounded by a snapshot's keys, so a MERGE, which
    holds its source in memory, fits; merge mode rewrites days instead (``_rewrite_days``)."""
    con.execute(f"CREATE TEMP TABLE changes AS {changes_sql}")
    if scalar(con, "SELECT count(*) FROM changes") == 0:
        if table is None:
            ensure_table(silver, schema, None)
        return Written()
    source = (
        con.sql("SELECT * FROM changes")
        .to_arrow_table()
        .cast(pa.schema([*schema, pa.field(OP_COLUMN, pa.string(), nullable=False)]))
    )
    metrics = merge_rows(
        silver,
        source,
        schema=schema,
        match=["_version_sk"],
        partition_by=None,
        metadata=metadata,
        table=table,
    )
    return Written(
        inserted=metrics.get("num_target_rows_inserted", 0),
        updated=metrics.get("num_target_rows_updated", 0),
        deleted=metrics.get("num_target_rows_deleted", 0),
        files_rewritten=metrics.get("num_target_files_removed", 0),
        files_untouched=metrics.get("num_target_files_skipped_during_scan", 0)
        + metrics.get("num_target_files_scanned", 0)
        - metrics.get("num_target_files_removed", 0),
    )


def _append(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    first: date,
    last: date,
    silver: TableLocation,
    table: DeltaTable | None,
    metadata: dict[str, str],
) -> Written:
    rows = int(scalar(con, "SELECT count(*) FROM batch"))
    replace_partitions(
        silver,
        con.sql(
            f"SELECT {_columns(contract)} FROM batch ORDER BY {EVENT_DATE}, _source_file, _row_number"
        ).to_arrow_reader(ARROW_BATCH_ROWS),
        schema=silver_schema(contract),
        partition_column=EVENT_DATE,
        start=first,
        end=last,
        metadata=metadata,
        table=table,
    )
    return Written(merged_rows=rows, inserted=rows)


def _flags(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> Flags:
    if not row_rules(contract):
        return Flags()
    table = "batch" if contract.silver.mode != "merge" else "merged"
    rows = con.execute(
        f"SELECT flag, count(*) FROM (SELECT unnest(dq_flags) AS flag FROM {table}) GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    flagged = int(scalar(con, f"SELECT count(*) FROM {table} WHERE NOT dq_valid"))
    return Flags(flagged_rows=flagged, counts=dict(rows))


def _rows_by_day(
    con: duckdb.DuckDBPyConnection,
    silver: TableLocation,
    table: DeltaTable | None,
    first: date,
    last: date,
) -> tuple[dict[date, int], dict[date, int]]:
    """Silver rows, and rows flagged (``dq_valid`` false), per day of the window after the write
    (scd2: versions first observed that day): counted on the table, not the batch, so a day shows
    what it holds now, rows merged by earlier runs included."""
    counts = dict.fromkeys(days_between(first, last), 0)
    flagged = dict(counts)
    if register_scan(con, "silver_after", silver, (EVENT_DATE, first, last), table=table):
        for day, n, bad in con.execute(
            f"SELECT {EVENT_DATE}, count(*), count(*) FILTER (WHERE NOT dq_valid) FROM silver_after "
            f"WHERE {day_range(EVENT_DATE, first, last)} GROUP BY 1"
        ).fetchall():
            counts[day], flagged[day] = int(n), int(bad)
    return counts, flagged


def _reconcile(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    first: date,
    last: date,
    rows_by_day: dict[date, int],
) -> Reconciliation:
    """Count, per day, what silver should hold and what it holds (``silver_after`` is registered
    by ``_rows_by_day``).

    merge: the batch's keys (one row each after dedup) against the rows silver holds for them; a
    key held twice (its event date moved outside the window) fails. Keys silver holds that the
    batch no longer has (their files were dropped, their rows now quarantined) are reported as
    stale: merge never deletes. append: rows against rows. scd2: the snapshot's keys against
    those whose single current version agrees with the latest observation in the batch (or
    started later than it).
    """
    days = days_between(first, last)
    expected, held, stale = dict.fromkeys(days, 0), dict.fromkeys(days, 0), dict.fromkeys(days, 0)
    if contract.silver.mode == "scd2":
        valid_from = valid_from_sql(contract)
        order = (
            f"{valid_from} DESC, {ident(contract.event_order_column)} DESC, _arrival_date DESC, "
            "_ingested_at DESC, _source_file DESC, _row_number DESC"
        )
        sql = sql_file(__file__, "reconcile_scd2.sql").format(
            valid_from=valid_from, order=order, attr_hash=attr_hash(contract), event_date=EVENT_DATE
        )
        for day, want, have in con.execute(sql).fetchall():
            expected[day], held[day] = want, have
    elif contract.silver.mode == "append":
        expected.update(dict(con.execute(f"SELECT {EVENT_DATE}, count(*) FROM batch GROUP BY 1").fetchall()))
        held.update(rows_by_day)
    else:
        expected.update(dict(con.execute(f"SELECT {EVENT_DATE}, count(*) FROM merged GROUP BY 1").fetchall()))
        for day, have, gone in con.execute(
            sql_file(__file__, "reconcile_merge.sql"), [first, last]
        ).fetchall():
            held[day], stale[day] = have, gone
    return Reconciliation(expected=expected, held=held, stale=stale)


def build_whole(
    contract: SourceContract,
    *,
    bronze: TableLocation,
    silver: TableLocation,
    run_id: str,
    commit_metadata: dict[str, str] | None = None,
) -> SilverResult:
    """A source refreshed whole (``partitions.grain: none``): silver is the latest row per key of
    all of bronze, which the last load replaced whole; keys the refresh no longer has leave with
    it. An unchanged refresh commits nothing."""
    dataset = partition_dataset(bronze)
    if dataset is None:
        raise FileNotFoundError(
            f"bronze table {bronze.uri} does not exist yet: materialize bronze/{contract.name} first"
        )
    schema = silver_schema(contract)
    evolve_columns(silver, schema, {"dagster_run_id": run_id, **(commit_metadata or {})})
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
        con.register(BRONZE_VIEW, dataset)
        con.execute(f"CREATE TEMP TABLE batch AS {prepared_rows_sql(contract, 'TRUE')}")
        batch_rows = int(scalar(con, "SELECT count(*) FROM batch"))
        con.execute("SET TimeZone = 'UTC'")
        columns = _columns(contract)
        con.execute(
            f"CREATE TEMP TABLE merged AS SELECT {columns} FROM ({latest_per_key_sql(contract, 'SELECT * FROM batch')})"
        )
        existing = partition_dataset(silver)
        con.register("silver_table", existing if existing is not None else schema.empty_table())
        inserted, deleted, changed = (
            int(scalar(con, sql))
            for sql in (
                "SELECT count(*) FROM merged WHERE _sk NOT IN (SELECT _sk FROM silver_table)",
                "SELECT count(*) FROM silver_table WHERE _sk NOT IN (SELECT _sk FROM merged)",
                f"SELECT count(*) FROM (SELECT {columns} FROM merged EXCEPT SELECT {columns} FROM silver_table)",
            )
        )
        merged_rows = int(scalar(con, "SELECT count(*) FROM merged"))
        if existing is None or inserted or deleted or changed:
            metadata = {"dagster_run_id": run_id, "partitions": "whole table", **(commit_metadata or {})}
            replace_partitions(
                silver,
                con.sql(f"SELECT {columns} FROM merged ORDER BY _sk").to_arrow_reader(ARROW_BATCH_ROWS),
                schema=schema,
                partition_column=None,
                start=date.min,
                end=date.max,
                metadata=metadata,
            )
        written = Written(
            merged_rows=merged_rows, inserted=inserted, updated=changed - inserted, deleted=deleted
        )
        flags = _flags(con, contract)
        con.register("silver_after", partition_dataset(silver))
        held = dict(con.execute(f"SELECT {EVENT_DATE}, count(*) FROM silver_after GROUP BY 1").fetchall())
        expected = dict(con.execute(f"SELECT {EVENT_DATE}, count(*) FROM merged GROUP BY 1").fetchall())
    finally:
        con.close()
    days = sorted(set(held) | set(expected))
    return SilverResult(
        mode=contract.silver.mode,
        window_start=days[0] if days else date.today(),
        window_end=days[-1] if days else date.today(),
        batch_rows=batch_rows,
        written=written,
        flag_summary=flags,
        rows_by_day=held,
        reconciliation=Reconciliation(expected=expected, held=held, stale={}),
    )
