"""Turning one landing file into typed, audited rows, or quarantined ones, inside DuckDB.

Each file is read with every field as text (no type inference), then cast to the contract's
types. A row that cannot be parsed or typed is not dropped: it gets an ``_error`` saying which
column failed and why, and goes to quarantine with its raw record. Fields the contract does not
declare are kept as JSON in ``_rescued_data``. All rows of all files of a run are staged in one
temporary DuckDB table, from which bronze and quarantine are written.

Which day a row belongs to: its event date (in the source's timezone) when the event time can be
read and the row arrived at most ``lookback_days`` late (and at most one day early); otherwise
the file's arrival day, where it is quarantined with the reason. So every row read is attributed
to exactly one partition and counted there.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.ingest.landing import LandingFile
from lakehouse.ingest.pii import MACRO as PII_TOKEN
from lakehouse.ingest.pii import install_token_macro
from lakehouse.sql import ident, literal, string_list

STAGED = "staged"

# Staged columns besides the contract's, with their DuckDB types.
_STAGED_EXTRA = {
    EVENT_DATE: "DATE",
    "_partition_date": "DATE",
    "_source_file": "VARCHAR",
    "_ingested_at": "TIMESTAMPTZ",
    "_row_hash": "VARCHAR",
    "_rescued_data": "VARCHAR",
    "_error": "VARCHAR",
    "_raw": "VARCHAR",
    "_line": "BIGINT",
}

EARLY_TOLERANCE_DAYS = 1  # a file of day D may hold rows of early D+1 (export cut-off, clock skew)


class LandingSchemaError(ValueError):
    """A landing file whose layout breaks the contract (e.g. a non-nullable column is absent)."""


@dataclass
class FileReport:
    file: str
    rows: int = 0
    missing_columns: list[str] = field(default_factory=list)
    rescued_columns: list[str] = field(default_factory=list)


def create_staging_table(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    columns = [f"{ident(c.name)} {'VARCHAR' if c.pii else c.column_type.duckdb}" for c in contract.columns]
    columns += [f"{ident(name)} {kind}" for name, kind in _STAGED_EXTRA.items()]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} ({', '.join(columns)})")


def _raw(name: str) -> str:
    """The identifier of a contract column's raw text in the per-file query."""
    return ident(f"raw.{name}")


def _normalized(expr: str, steps: list[str]) -> str:
    for step in steps:
        expr = {"trim": f"trim({expr})", "lower": f"lower({expr})", "upper": f"upper({expr})"}[step]
    return expr


def _pii_value(contract: SourceContract, name: str, raw_expr: str) -> str:
    column = contract.column_map[name]
    return f"{PII_TOKEN}({_normalized(raw_expr, column.normalize)})"


def read_csv_header(file: LandingFile, contract: SourceContract) -> list[str]:
    """The column names of a CSV file, read with the contract's dialect (not sniffed)."""
    options = contract.extract.options
    if not options.header:
        return [c.name for c in contract.columns]
    with open(file.path, newline="", encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    if not first.strip():
        return []
    reader = csv.reader(io.StringIO(first), delimiter=options.delimiter, quotechar=options.quote or None)
    return [name.strip() for name in next(reader, [])]


def _read_csv_call(file: LandingFile, contract: SourceContract, header: list[str]) -> str:
    options = contract.extract.options
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in header) + "}"
    return (
        f"read_csv({literal(file.path)}, columns={columns}, header={literal(options.header)}, "
        f"auto_detect=false, delim={literal(options.delimiter)}, quote={literal(options.quote)}, "
        f"escape={literal(options.escape)}, nullstr={string_list(options.null_values)}, "
        "strict_mode=true, store_rejects=true, parallel=true)"
    )


@dataclass(frozen=True)
class SourceQuery:
    """One file as rows of raw text, plus expressions over those rows.

    The expressions (the raw record to hash, the record redacted for quarantine, the rescued
    fields) are evaluated only for the rows a run keeps, after they are attributed to a day.
    """

    sql: str
    record: str
    redacted: str
    rescued: str


def _field(name: str) -> str:
    """The identifier of a file field (any name the file brings) in the per-file query."""
    return ident(f"field.{name}")


def _tabular_source(
    contract: SourceContract, header: list[str], reader_call: str, cast_raw: bool
) -> SourceQuery:
    """CSV and Parquet: named fields, read as text; the raw record is the fields as JSON."""
    present = set(header)
    text = (lambda h: f"CAST({ident(h)} AS VARCHAR)") if cast_raw else ident
    fields = ", ".join(f"{text(h)} AS {_field(h)}" for h in header)
    raw_columns = ", ".join(
        f"{_field(c.name) if c.name in present else 'NULL::VARCHAR'} AS {_raw(c.name)}"
        for c in contract.columns
    )
    record = "to_json(struct_pack(" + ", ".join(f"{ident(h)} := {_field(h)}" for h in header) + "))"
    pii = set(contract.pii_columns)
    redacted_fields = ", ".join(
        f"{ident(h)} := " + (_pii_value(contract, h, _field(h)) if h in pii else _field(h)) for h in header
    )
    extras = [h for h in header if h not in contract.column_map]
    if extras:
        pairs = ", ".join(f"{literal(h)}, {_field(h)}" for h in extras)
        any_value = " OR ".join(f"{_field(h)} IS NOT NULL" for h in extras)
        rescued = f"CASE WHEN {any_value} THEN json_object({pairs})::VARCHAR END"
    else:
        rescued = "NULL::VARCHAR"
    return SourceQuery(
        sql=(
            f"SELECT NULL::BIGINT AS _line, TRUE AS _parsed, NULL::VARCHAR AS _parse_error, "
            f"{fields}, {raw_columns} FROM {reader_call}"
        ),
        record=record,
        redacted=f"to_json(struct_pack({redacted_fields}))" if pii else record,
        rescued=rescued,
    )


def _jsonl_source(file: LandingFile, contract: SourceContract) -> SourceQuery:
    """JSON lines: one object per line; the raw record is the line itself."""
    names = [c.name for c in contract.columns]

    def field_text(name: str) -> str:
        return f"(_text->>{literal('$.' + ident(name))})"

    raw_columns = ", ".join(f"CASE WHEN _parsed THEN {field_text(n)} END AS {_raw(n)}" for n in names)
    if contract.pii_columns:
        patch = ", ".join(
            f"{literal(n)}, {_pii_value(contract, n, field_text(n))}" for n in contract.pii_columns
        )
        redacted = f"CASE WHEN _parsed THEN json_merge_patch(_text, json_object({patch}))::VARCHAR END"
    else:
        redacted = "_text"
    extra_keys = f"list_filter(json_keys(_text), lambda k: NOT list_contains({string_list(names)}, k))"
    rescued = (
        f"CASE WHEN _parsed AND len({extra_keys}) > 0 THEN to_json(map_from_entries(list_transform("
        f"{extra_keys}, lambda k: struct_pack(k := k, v := json_extract(_text, '$.\"' || k || '\"')))))::VARCHAR END"
    )
    sql = f"""
        WITH file AS (SELECT string_split(content, chr(10)) AS lines FROM read_text({literal(file.path)})),
        numbered AS (SELECT unnest(lines) AS line, generate_subscripts(lines, 1) AS _line FROM file),
        candidates AS (SELECT _line, rtrim(line, chr(13)) AS _text FROM numbered WHERE trim(line) <> ''),
        checked AS (SELECT *, json_valid(_text) AS _valid FROM candidates),
        typed_json AS (
            SELECT *, CASE WHEN _valid THEN json_type(_text) END AS _json_type FROM checked
        ),
        parsed AS (
            SELECT _line, _text, coalesce(_json_type = 'OBJECT', FALSE) AS _parsed,
                   CASE WHEN NOT _valid THEN 'invalid JSON'
                        WHEN _json_type <> 'OBJECT' THEN 'not a JSON object (found ' || lower(_json_type) || ')'
                   END AS _parse_error
            FROM typed_json
        )
        SELECT _line, _text, _parsed, _parse_error, {raw_columns}
        FROM parsed
    """
    return SourceQuery(sql=sql, record="_text", redacted=redacted, rescued=rescued)


def _typed_select(
    contract: SourceContract, file: LandingFile, source: SourceQuery, start: date, end: date
) -> str:
    """Cast raw text to contract types, explain every failure, attribute the row to a day.

    Only rows attributed to ``start..end`` are kept; the day is decided first, from the event
    time alone, so hashing, tokenising and the rest are paid only for the rows the run keeps
    (a file holds mostly rows of its own day, and a run reads its neighbours' files too).
    """
    typed = []
    reasons = []
    for column in contract.columns:
        raw, name = _raw(column.name), column.name
        if column.pii:
            typed.append(f"{_pii_value(contract, name, raw)} AS {ident(name)}")
        elif column.type == "string":
            typed.append(f"{raw} AS {ident(name)}")
        else:
            typed.append(f"TRY_CAST({raw} AS {column.column_type.duckdb}) AS {ident(name)}")
            reasons.append(
                f"CASE WHEN {raw} IS NOT NULL AND TRY_CAST({raw} AS {column.column_type.duckdb}) IS NULL "
                f"THEN '{name}: cannot read ' || {_quoted_sample(raw)} || ' as {column.type}' END"
            )
        if not column.nullable:
            reasons.append(
                f"CASE WHEN {raw} IS NULL THEN '{name}: missing value (column is not nullable)' END"
            )

    lookback = contract.partitions.lookback_days
    earliest = file.arrival_date - timedelta(days=lookback)
    latest = file.arrival_date + timedelta(days=EARLY_TOLERANCE_DAYS)
    timing = (
        f"CASE WHEN {EVENT_DATE} < {literal(earliest)} THEN 'late: event date ' || {EVENT_DATE} || "
        f"' arrived on {file.arrival_date}, more than lookback_days={lookback} later' "
        f"WHEN {EVENT_DATE} > {literal(latest)} THEN 'early: event date ' || {EVENT_DATE} || "
        f"' is after the file''s arrival day {file.arrival_date}' END"
    )
    event_column = contract.column_map[contract.partitions.event_time]
    event_raw = _raw(event_column.name)
    contract_columns = ", ".join(ident(c.name) for c in contract.columns)
    return f"""
        WITH source AS ({source.sql}),
        dated AS (
            SELECT source.*,
                   CAST(TRY_CAST({event_raw} AS {event_column.column_type.duckdb}) AS DATE) AS {EVENT_DATE}
            FROM source
        ),
        attributed AS (
            SELECT dated.*,
                   CASE WHEN {EVENT_DATE} BETWEEN {literal(earliest)} AND {literal(latest)}
                        THEN {EVENT_DATE} ELSE {literal(file.arrival_date)} END AS _partition_date
            FROM dated
        ),
        wanted AS (SELECT * FROM attributed WHERE _partition_date BETWEEN {literal(start)} AND {literal(end)}),
        typed AS (
            SELECT wanted.*, {", ".join(typed)},
                   CASE WHEN _parsed THEN NULLIF(concat_ws('; ', {", ".join(reasons) or "NULL"}), '') END
                       AS _type_errors
            FROM wanted
        ),
        judged AS (
            SELECT typed.*,
                   CASE WHEN NOT _parsed THEN _parse_error
                        ELSE NULLIF(concat_ws('; ', _type_errors, {timing}), '') END AS _error
            FROM typed
        )
        SELECT {contract_columns}, {EVENT_DATE}, _partition_date,
               {literal(file.relative_path)} AS _source_file,
               {literal(file.modified_at)} AS _ingested_at,
               sha256({source.record}) AS _row_hash,
               {source.rescued} AS _rescued_data,
               _error,
               CASE WHEN _error IS NOT NULL THEN {source.redacted} END AS _raw,
               _line
        FROM judged
    """


def _quoted_sample(raw: str) -> str:
    return f"'''' || left({raw}, 40) || ''''"


def stage_file(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, file: LandingFile, start: date, end: date
) -> FileReport:
    """Append the file's rows that belong to days ``start..end`` (typed, or with their error)."""
    report = FileReport(file=file.relative_path)
    fmt = contract.extract.format
    if file.size == 0:
        return report
    if fmt == "jsonl":
        source = _jsonl_source(file, contract)
    else:
        if fmt == "csv":
            header = read_csv_header(file, contract)
            if not header:
                return report
            reader = _read_csv_call(file, contract, header)
        else:
            header = [
                row[0]
                for row in con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet({literal(file.path)})"
                ).fetchall()
            ]
            reader = f"read_parquet({literal(file.path)})"
        _check_layout(contract, file, header, report)
        source = _tabular_source(contract, header, reader, cast_raw=(fmt == "parquet"))

    before = _count(con)
    con.execute(f"INSERT INTO {STAGED} BY NAME {_typed_select(contract, file, source, start, end)}")
    if fmt == "csv" and start <= file.arrival_date <= end:
        _stage_csv_rejects(con, contract, file, len(header))
    report.rows = _count(con) - before
    if fmt == "jsonl":
        report.rescued_columns = sorted(
            {
                k
                for (keys,) in con.execute(
                    f"SELECT DISTINCT json_keys(_rescued_data) FROM {STAGED} "
                    f"WHERE _source_file = ? AND _rescued_data IS NOT NULL",
                    [file.relative_path],
                ).fetchall()
                for k in keys
            }
        )
    return report


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"SELECT count(*) FROM {STAGED}").fetchall()[0][0]


def _check_layout(contract: SourceContract, file: LandingFile, header: list[str], report: FileReport) -> None:
    present = set(header)
    if len(present) != len(header):
        repeated = sorted({h for h in header if header.count(h) > 1})
        raise LandingSchemaError(
            f"{file.relative_path}: column name(s) {', '.join(repeated)} appear twice "
            "in the header; nothing was written"
        )
    missing = [c for c in contract.columns if c.name not in present]
    required = [c.name for c in missing if not c.nullable]
    if required:
        raise LandingSchemaError(
            f"{file.relative_path}: required column(s) {', '.join(required)} missing from the file "
            f"(found: {', '.join(header) or 'no columns'}); nothing was written"
        )
    report.missing_columns = [c.name for c in missing]
    report.rescued_columns = [h for h in header if h not in contract.column_map]


def _stage_csv_rejects(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, file: LandingFile, field_count: int
) -> None:
    """Rows DuckDB could not split into the header's fields: quarantined with the raw line.

    DuckDB reports one reject per missing or surplus field; a line is one quarantined row.
    """
    raw_line = "NULL" if contract.pii_columns else "csv_line"
    con.execute(
        f"""
        INSERT INTO {STAGED} BY NAME
        WITH lines AS (
            SELECT e.line, arg_min(e.error_type, e.column_idx) AS error_type,
                   arg_min(e.error_message, e.column_idx) AS error_message,
                   arg_min(e.csv_line, e.column_idx) AS csv_line
            FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)
            WHERE s.file_path = ?
            GROUP BY e.line
        )
        SELECT {literal(file.arrival_date)} AS _partition_date,
               {literal(file.relative_path)} AS _source_file,
               {literal(file.modified_at)} AS _ingested_at,
               sha256(coalesce(csv_line, '')) AS _row_hash,
               'malformed CSV row: ' || lower(error_type) || ' (' ||
                   CASE WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
                        THEN 'expected {field_count} fields' ELSE error_message END || ')' AS _error,
               {raw_line} AS _raw,
               line AS _line
        FROM lines
        """,
        [file.path],
    )


def staging_connection(
    contract: SourceContract, pii_key: str | None, temp_dir: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for one run: the source's timezone, the PII macro, the staging table."""
    con = duckdb.connect()
    con.execute(f"SET TimeZone = {literal(contract.partitions.timezone)}")
    if temp_dir:
        con.execute(f"SET temp_directory = {literal(temp_dir)}")
    if contract.pii_columns:
        install_token_macro(con, pii_key)
    create_staging_table(con, contract)
    return con
