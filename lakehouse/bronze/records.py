"""Turning one landing file into typed, audited rows, or quarantined ones, inside DuckDB.

Each file is read with every field as text (no type inference), then cast to the contract's
types. A row that cannot be parsed or typed is not dropped: it gets an ``_error`` saying which
column failed and why, and goes to quarantine with its raw record. All rows of all files of a
run are staged in one temporary DuckDB table, from which bronze and quarantine are written.

Which day a row belongs to: its event date (in the source's timezone) when the event time can be
read, the day is not before the source's ``partitions.start``, and the row arrived at most
``lookback_days`` late (and at most one day early); otherwise the file's arrival day, where it is
quarantined with the reason. So every row read is attributed to exactly one day and counted
there. The day is decided first, from the event time alone, so the costly work (casting,
hashing, tokenising) is paid only for the rows of the days the run writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from lakehouse.bronze.landing import LandingFile
from lakehouse.bronze.layout import Layout
from lakehouse.bronze.pii import install_token_macro
from lakehouse.bronze.preflight import EARLY_TOLERANCE_DAYS
from lakehouse.bronze.sources import (
    SourceQuery,
    clear_value,
    csv_source,
    jsonl_source,
    parquet_source,
    pii_value,
    raw,
    row_hash,
)
from lakehouse.contracts.model import Column, SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.tables.engine import step_connection
from lakehouse.tables.sql import day_range, ident, literal, scalar

STAGED = "staged"
_FILE_ROWS = "file_rows"  # one file's raw rows, when its reader stages them first

# Staged columns besides the contract's, with their DuckDB types.
_STAGED_EXTRA = {
    EVENT_DATE: "DATE",
    "_partition_date": "DATE",
    "_arrival_date": "DATE",
    "_source_file": "VARCHAR",
    "_row_number": "BIGINT",
    "_ingested_at": "TIMESTAMPTZ",
    "_row_hash": "VARCHAR",
    "_rescued_data": "VARCHAR",
    "_error": "VARCHAR",
    "_raw": "VARCHAR",
    "_line": "BIGINT",
}

_FINE_SCALE = 18  # decimals and integers are compared at this scale to catch values that would be rounded


@dataclass
class FileReport:
    file: str
    arrival_date: date
    rows: int = 0  # rows staged for the run's days (kept or quarantined)
    rescued_columns: list[str] = field(default_factory=list)  # fields the contract does not declare


def staging_connection(
    contract: SourceContract, pii_key: str | None, temp_dir: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one run: the source's timezone, the PII macro, the staging table."""
    con = step_connection(temp_dir)
    con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
    if contract.pii_columns:
        install_token_macro(con, pii_key)
    columns = [
        f"{ident(c.name)} {'VARCHAR' if c.pii else c.column_type.duckdb}" for c in contract.stored_columns
    ]
    columns += [f"{ident(name)} {kind}" for name, kind in _STAGED_EXTRA.items()]
    columns += [f"{clear_column(name)} VARCHAR" for name in contract.tokenized_columns]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} ({', '.join(columns)})")
    return con


def clear_column(name: str) -> str:
    """The staged column with a tokenised column's value, for the vault only: it never reaches a
    table in clear (bronze and quarantine select their own columns)."""
    return ident(f"_clear.{name}")


def stage_file(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    file: LandingFile,
    layout: Layout | None,
    start: date,
    end: date,
) -> FileReport:
    """Append the file's rows that belong to days ``start..end`` (typed, or with their error).

    ``layout`` is the file's checked layout (CSV, Parquet; None for JSON lines or an empty file).
    """
    report = FileReport(file=file.relative_path, arrival_date=file.arrival_date)
    fmt = contract.extract.format
    if file.size == 0:
        return report
    if fmt == "jsonl":
        source = jsonl_source(contract, file)
    elif layout is None:  # a CSV or Parquet file without fields: nothing to read
        return report
    else:
        report.rescued_columns = layout.extras
        source = (csv_source if fmt == "csv" else parquet_source)(contract, file, layout)

    before = scalar(con, f"SELECT count(*) FROM {STAGED}")
    try:
        if source.staged_first:  # only the rows of the run's days, attributed, with their numbers
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_FILE_ROWS} AS {_attributed_sql(contract, file, source, start, end)}"
            )
            wanted = f"SELECT * FROM {_FILE_ROWS}"
        else:
            wanted = _attributed_sql(contract, file, source, start, end)
        con.execute(f"INSERT INTO {STAGED} BY NAME {_typed_select(contract, file, source, wanted)}")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_FILE_ROWS}")
    if layout is not None and fmt == "csv" and start <= file.arrival_date <= end:
        _stage_csv_rejects(con, contract, file, len(layout.fields))

    report.rows = scalar(con, f"SELECT count(*) FROM {STAGED}") - before
    if contract.undeclared == "drop":
        report.rescued_columns = []
    elif fmt == "jsonl":
        keys = con.execute(
            f"SELECT DISTINCT unnest(json_keys(_rescued_data)) FROM {STAGED} "
            "WHERE _source_file = ? AND _rescued_data IS NOT NULL",
            [file.relative_path],
        ).fetchall()
        report.rescued_columns = sorted(k for (k,) in keys)
    return report


def _typed(contract: SourceContract, column: Column) -> str:
    if column.pii:
        return pii_value(contract, column.name, raw(column.name))
    if column.type == "string":
        return raw(column.name)
    return f"TRY_CAST({raw(column.name)} AS {column.column_type.duckdb})"


def _reasons(column: Column) -> list[str]:
    """SQL for why a row fails on ``column`` (NULL when it does not); runs over typed rows."""
    value, text, name = ident(column.name), raw(column.name), column.name
    reasons = []
    if not column.pii and column.type != "string":
        sample = f"'''' || left({text}, 40) || ''''"
        reasons.append(
            f"CASE WHEN {text} IS NOT NULL AND {value} IS NULL "
            f"THEN '{name}: cannot read ' || {sample} || ' as {column.type}' END"
        )
        # DuckDB rounds on a cast ('2.7' as an integer is 3): a value the column cannot hold
        # exactly is a failure, never a silent change.
        if column.column_type.precision is not None or column.type in ("int32", "int64"):
            fine = f"TRY_CAST({text} AS DECIMAL(38, {_FINE_SCALE}))"
            lost = (
                f"has more decimal places than {column.type} keeps"
                if column.column_type.precision is not None
                else f"is not a whole number ({column.type})"
            )
            reasons.append(
                f"CASE WHEN {value} IS NOT NULL AND {fine} <> {value} THEN '{name}: ' || {sample} || ' {lost}' END"
            )
    if not column.nullable:
        reasons.append(f"CASE WHEN {text} IS NULL THEN '{name}: missing value (column is not nullable)' END")
    return reasons


def _windows(contract: SourceContract, file: LandingFile) -> tuple[date, date, date]:
    """The earliest and latest event dates a file's rows may have (within lookback, at most a day
    early), and the fallback day of those outside it or unreadable: the file's arrival day, or
    the source's last day for a file delivered after it (a late file of a finished source)."""
    partitions = contract.partitions
    fallback = min(file.arrival_date, partitions.end) if partitions.end else file.arrival_date
    if contract.event_time_column is None:  # dated by arrival: the file's day, never late or early
        return file.arrival_date, file.arrival_date, fallback
    earliest = max(file.arrival_date - timedelta(days=partitions.lookback_days), partitions.start)
    latest = file.arrival_date + timedelta(days=EARLY_TOLERANCE_DAYS)
    if partitions.end:
        latest = min(latest, partitions.end)
    return earliest, latest, fallback


def _attributed_sql(
    contract: SourceContract, file: LandingFile, source: SourceQuery, start: date, end: date
) -> str:
    """The file's rows of days ``start..end``, each with its event date and the day it belongs
    to. Decided from the event time alone, before any costly typing."""
    earliest, latest, fallback = _windows(contract, file)
    if contract.event_time_column is None:
        dated = f"SELECT source.*, {literal(file.arrival_date)} AS {EVENT_DATE} FROM source"
    else:
        event = contract.column_map[contract.event_time_column]
        dated = (
            f"SELECT source.*, CAST(TRY_CAST({raw(event.name)} AS {event.column_type.duckdb}) AS DATE) "
            f"AS {EVENT_DATE} FROM source"
        )
    return f"""
        WITH source AS ({source.sql}),
        dated AS ({dated}),
        attributed AS (
            SELECT dated.*,
                   CASE WHEN {day_range(EVENT_DATE, earliest, latest)} THEN {EVENT_DATE}
                        ELSE {literal(fallback)} END AS _partition_date
            FROM dated
        )
        SELECT * FROM attributed WHERE {day_range("_partition_date", start, end)}
    """


def _typed_select(contract: SourceContract, file: LandingFile, source: SourceQuery, wanted_sql: str) -> str:
    """Cast the wanted rows (``_attributed_sql``'s) and explain failures."""
    partitions = contract.partitions
    earliest, latest, _ = _windows(contract, file)
    if contract.event_time_column is None:
        timing = "NULL"
    else:
        after_end = (
            f"WHEN {EVENT_DATE} > {literal(partitions.end)} THEN 'after end: event date ' || {EVENT_DATE} "
            f"|| ' is after the source''s partitions.end {partitions.end}' "
            if partitions.end
            else ""
        )
        timing = (
            f"CASE WHEN {EVENT_DATE} < {literal(partitions.start)} THEN 'before start: event date ' || {EVENT_DATE} "
            f"|| ' is before the source''s partitions.start {partitions.start}' {after_end}"
            f"WHEN {EVENT_DATE} < {literal(earliest)} THEN 'late: event date ' || {EVENT_DATE} || "
            f"' arrived on {file.arrival_date}, more than lookback_days={partitions.lookback_days} later' "
            f"WHEN {EVENT_DATE} > {literal(latest)} THEN 'early: event date ' || {EVENT_DATE} || "
            f"' is after the file''s arrival day {file.arrival_date}' END"
        )
    reasons = [r for column in contract.columns for r in _reasons(column)]
    contract_columns = ", ".join(
        [ident(c.name) for c in contract.stored_columns]
        + [clear_column(n) for n in contract.tokenized_columns]
    )
    clears = "".join(
        f", {clear_value(contract, n, raw(n))} AS {clear_column(n)}" for n in contract.tokenized_columns
    )
    return f"""
        WITH wanted AS ({wanted_sql}),
        typed AS (
            SELECT wanted.*,
                   {", ".join(f"{_typed(contract, c)} AS {ident(c.name)}" for c in contract.stored_columns)}{clears}
            FROM wanted
        ),
        judged AS (
            SELECT typed.*,
                   CASE WHEN NOT _parsed THEN _parse_error
                        WHEN {source.nul_field} IS NOT NULL
                        THEN 'malformed row: NUL byte in ' || {source.nul_field}
                        ELSE NULLIF(concat_ws('; ', {", ".join([*reasons, timing])}), '') END AS _error
            FROM typed
        )
        SELECT {contract_columns}, {EVENT_DATE}, _partition_date,
               {literal(file.arrival_date)} AS _arrival_date,
               {literal(file.relative_path)} AS _source_file,
               _row_number,
               {literal(file.modified_at)} AS _ingested_at,
               {row_hash(contract, source.record)} AS _row_hash,
               CASE WHEN _error IS NULL THEN {source.rescued} END AS _rescued_data,
               _error,
               CASE WHEN _error IS NOT NULL THEN {source.redacted} END AS _raw,
               _line
        FROM judged
    """


def _stage_csv_rejects(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, file: LandingFile, field_count: int
) -> None:
    """Lines DuckDB could not split into the header's fields, or longer than its 2 MB line
    limit: quarantined with the raw line (only a keyed hash of it for sources with PII; DuckDB
    keeps the first 10,000 characters of an over-long one). DuckDB reports one reject per missing
    or surplus field (an over-long line: one, with no field); a line is one quarantined row."""
    raw_line = "NULL" if contract.pii_columns else "csv_line"
    # DuckDB's message may quote the line; for a source with PII only its kind is kept.
    detail = "'see the file at this line'" if contract.pii_columns else "error_message"
    con.execute(
        f"""
        INSERT INTO {STAGED} BY NAME
        WITH lines AS (
            SELECT e.line, arg_min(e.error_type, coalesce(e.column_idx, -1)) AS error_type,
                   arg_min(e.error_message, coalesce(e.column_idx, -1)) AS error_message,
                   arg_min(e.csv_line, coalesce(e.column_idx, -1)) AS csv_line
            FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)
            WHERE s.file_path = ?
            GROUP BY e.line
        )
        SELECT {literal(file.arrival_date)} AS _partition_date,
               {literal(file.arrival_date)} AS _arrival_date,
               {literal(file.relative_path)} AS _source_file,
               {literal(file.modified_at)} AS _ingested_at,
               {row_hash(contract, "coalesce(csv_line, '')")} AS _row_hash,
               'malformed CSV row: ' || lower(coalesce(error_type, 'unreadable line')) || ' (' ||
                   CASE WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
                        THEN 'expected {field_count} fields'
                        -- the message holds sizes, never the line's text
                        WHEN error_type = 'LINE SIZE OVER MAXIMUM' THEN error_message
                        ELSE coalesce({detail}, 'no detail') END || ')' AS _error,
               {raw_line} AS _raw,
               line AS _line
        FROM lines
        """,
        [file.path],
    )
