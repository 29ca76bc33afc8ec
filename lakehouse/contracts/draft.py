"""A draft source contract inferred from a sample file (``lakehouse contract draft``).

Onboarding a source starts from a file the source already sends. DuckDB reads it (its CSV
sniffer, ``read_json``'s and Parquet's own schema) and the sample's values answer the rest: each
column's contract type (a text column whose values nearly all parse as a number, a date or a
timestamp gets that type: the rest would be quarantined), nullability, a primary key (unique
and non-null in the sample), an event-time column, and PII (e-mail addresses, phone numbers:
``pii: tokenize``). Contracts are schema-first: nothing is inferred at run time, so every
inference is written into the draft with a ``# guessed: ...`` comment for a person to confirm.

A field whose name is not a valid column name even ignoring case (``Order ID``) cannot be
declared (bronze matches header names to columns ignoring case, nothing more): it is left out,
kept by bronze in ``_rescued_data``, and the draft says so. The draft is checked by the contract
loader before it is returned: it is valid as it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.contracts.model import ARRIVAL_DATE, IDENTIFIER, RESERVED_COLUMNS

if TYPE_CHECKING:
    import duckdb

SAMPLE_ROWS = 100_000
FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
FORMATS |= {".parquet": "parquet", ".pq": "parquet"}
PARSES = 0.95  # share of a text column's values that must parse for a typed guess
PII_SHARE = 0.8  # share of a column's values that must look like e-mails or phones
LOOKBACK_DAYS = 2
EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
PHONE = r"^\+?[0-9][0-9 ().-]{5,}[0-9]$"
TIME_WORDS = ("event", "_at", "time", "_ts", "created", "occurred", "updated", "date")


class DraftError(ValueError):
    """The sample cannot be drafted from (format, unreadable, no usable field); names the file."""


@dataclass
class DraftColumn:
    name: str
    type: str
    nullable: bool
    notes: list[str] = field(default_factory=list)
    pii: bool = False


@dataclass
class Draft:
    name: str
    sample: Path
    format: str
    rows: int
    columns: list[DraftColumn]
    primary_key: list[str]
    key_note: str
    event_time: str
    event_note: str
    start: date
    landing_path: str
    left_out: list[str] = field(default_factory=list)  # fields that cannot be declared, and why
    csv_options: dict[str, str | bool] = field(default_factory=dict)


def source_name(path: Path) -> str:
    """``orders_2026-04-10.csv`` → ``orders``: the stem without dates, as an identifier."""
    stem = re.sub(r"\d{4}-?\d{2}-?\d{2}", "", path.name.split(".")[0])
    return identifier(stem) or "source"


def identifier(text: str) -> str | None:
    """A valid contract name for ``text``, or None."""
    name = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")[:63]
    return name if re.match(IDENTIFIER, name) else None


def _sample_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise DraftError(
            f"{path}: cannot tell the format from the name; expected one of {', '.join(sorted(FORMATS))}"
        )
    return fmt


def _reader(fmt: str, path: Path) -> str:
    from lakehouse.tables.sql import literal

    if fmt == "csv":
        # As text: the values decide each type (the sniffer's DOUBLE for one '12.5' among integers
        # would hide 199 integers, and its reading drops the text's decimals).
        return f"read_csv({literal(str(path))}, ignore_errors = true, all_varchar = true)"
    if fmt == "jsonl":
        return f"read_json({literal(str(path))}, format = 'newline_delimited', ignore_errors = true)"
    return f"read_parquet({literal(str(path))})"


def _csv_options(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str | bool]:
    """The dialect, where it differs from the contract's defaults."""
    from lakehouse.tables.sql import literal

    delimiter, quote, header = con.execute(
        f"SELECT Delimiter, Quote, HasHeader FROM sniff_csv({literal(str(path))})"
    ).fetchone() or (",", '"', True)
    options: dict[str, str | bool] = {}
    if delimiter and delimiter != ",":
        options["delimiter"] = delimiter
    if quote and quote not in ('"', "(empty)"):
        options["quote"] = quote
    if header is False:
        options["header"] = False
    return options


def _contract_type(duckdb_type: str) -> tuple[str, str | None]:
    """A DuckDB type as a contract type, and a note when it is not the same type."""
    upper = duckdb_type.upper()
    if match := re.match(r"DECIMAL\((\d+),\s*(\d+)\)", upper):
        precision, scale = int(match.group(1)), int(match.group(2))
        return (
            (f"decimal({precision},{scale})", None)
            if precision <= 38
            else ("float64", f"{duckdb_type} as float64")
        )
    simple = {
        "VARCHAR": "string",
        "BIGINT": "int64",
        "HUGEINT": "int64",
        "UBIGINT": "int64",
        "UINTEGER": "int64",
        "INTEGER": "int32",
        "SMALLINT": "int32",
        "TINYINT": "int32",
        "USMALLINT": "int32",
        "UTINYINT": "int32",
        "DOUBLE": "float64",
        "FLOAT": "float32",
        "BOOLEAN": "bool",
        "DATE": "date",
        "TIMESTAMP": "timestamp",
        "TIMESTAMP WITH TIME ZONE": "timestamp",
        "TIMESTAMP_NS": "timestamp",
        "TIMESTAMP_MS": "timestamp",
        "TIMESTAMP_S": "timestamp",
    }
    if upper in simple:
        return simple[upper], None
    return "string", f"the file holds {duckdb_type}; kept as its text"


def _typed_text(con: duckdb.DuckDBPyConnection, column: str) -> tuple[str, str] | None:
    """A type nearly every value of a text column parses as (the rest would be quarantined)."""
    from lakehouse.tables.sql import ident

    quoted = ident(column)
    present = con.execute(f"SELECT count({quoted}) FROM sample WHERE trim({quoted}) <> ''").fetchone()
    total = present[0] if present else 0
    if total == 0:
        return None
    value = f"trim({quoted})"
    # DuckDB's casts are lenient ('1.5' casts to BIGINT 2, a timestamp's text to its DATE), and
    # bronze refuses a value a cast would round: each type's values must look like that type.
    for contract_type, parses in (
        ("int64", f"regexp_full_match({value}, '[+-]?[0-9]+') AND TRY_CAST({value} AS BIGINT) IS NOT NULL"),
        ("float64", f"TRY_CAST({value} AS DOUBLE) IS NOT NULL"),
        (
            "date",
            f"regexp_full_match({value}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AND TRY_CAST({value} AS DATE) IS NOT NULL",
        ),
        ("timestamp", f"TRY_CAST({value} AS TIMESTAMPTZ) IS NOT NULL"),
        ("bool", f"lower({value}) IN ('true', 'false')"),
    ):
        found = con.execute(f"SELECT count(*) FILTER (WHERE {parses}) FROM sample").fetchone()
        parsed = found[0] if found else 0
        if parsed and parsed >= PARSES * total:
            failing = total - parsed
            note = (
                f"{failing} of {total} values in the sample do not parse and would be quarantined"
                if failing
                else ""
            )
            return contract_type, note
    return None


def _money(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    """Every value of a number read from text has at most two decimals: an amount, better exact
    than a float."""
    from lakehouse.tables.sql import ident

    value = f"trim(CAST({ident(column)} AS VARCHAR))"
    found = con.execute(
        f"SELECT count(*) FILTER (WHERE NOT regexp_full_match({value}, '-?[0-9]+(\\.[0-9]{{1,2}})?')), "
        f"count({ident(column)}) FROM sample"
    ).fetchone()
    return found is not None and found[1] > 0 and found[0] == 0


def _share(con: duckdb.DuckDBPyConnection, column: str, pattern: str) -> float:
    from lakehouse.tables.sql import ident, literal

    value = f"trim(CAST({ident(column)} AS VARCHAR))"
    found = con.execute(
        f"SELECT count(*) FILTER (WHERE regexp_full_match({value}, {literal(pattern)})), count({ident(column)}) "
        "FROM sample"
    ).fetchone()
    return found[0] / found[1] if found and found[1] else 0.0


def _pii(con: duckdb.DuckDBPyConnection, column: DraftColumn) -> str | None:
    if column.type != "string":
        return None
    for kind, pattern in (("e-mail addresses", EMAIL), ("phone numbers", PHONE)):
        share = _share(con, column.name, pattern)
        if share >= PII_SHARE:
            return f"{share:.0%} of values look like {kind}: tokenised in bronze"
    if re.search(r"e_?mail|phone|mobile", column.name):
        return "its name suggests personal data: tokenised in bronze"
    return None


def _primary_key(
    con: duckdb.DuckDBPyConnection, columns: list[DraftColumn], rows: int
) -> tuple[list[str], str]:
    from lakehouse.tables.sql import ident

    def distinct(names: list[str]) -> int:
        found = con.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(map(ident, names))} FROM sample)"
        ).fetchone()
        return found[0] if found else 0

    def rank(column: DraftColumn) -> tuple[int, int]:
        named = column.name == "id" or column.name.endswith("_id") or column.name.endswith("_key")
        return (0 if named else 1, 0 if column.type in ("string", "int32", "int64") else 1)

    candidates = sorted(
        (c for c in columns if not c.nullable and not c.type.startswith(("float", "timestamp"))),
        key=rank,
    )
    for column in candidates:
        if distinct([column.name]) == rows:
            return [column.name], f"unique and never null in the sample's {rows} rows"
    few = candidates[:6]
    for i, first in enumerate(few):
        for second in few[i + 1 :]:
            if distinct([first.name, second.name]) == rows:
                return [
                    first.name,
                    second.name,
                ], f"unique together and never null in the sample's {rows} rows"
    named = [c for c in candidates if rank(c)[0] == 0] or candidates or columns
    best = named[0]
    repeats = rows - distinct([best.name])
    return [best.name], (
        f"the most key-like column, but {repeats} of the sample's {rows} rows repeat a value (re-sent rows? "
        "silver keeps the latest row per key): check it"
    )


def _event_time(con: duckdb.DuckDBPyConnection, columns: list[DraftColumn]) -> tuple[str, str, date | None]:
    """The event-time column, why, and the sample's first day by it.

    Of the timestamp and date columns, the one whose values cluster at the delivery: a daily
    file's rows happened on its day, give or take the lookback (``signup_at`` of a customers
    snapshot spans years; its ``snapshot_at`` is the day). When no column does, the file is a
    snapshot and rows are dated by its arrival day."""
    from lakehouse.tables.sql import ident

    temporal = [c for c in columns if c.type in ("timestamp", "date")]
    if not temporal:
        return ARRIVAL_DATE, "no timestamp or date column: each row is dated by its file's arrival day", None
    spans = {}
    for column in temporal:
        value = ident(column.name)
        text = f"trim(CAST({value} AS VARCHAR))"  # a text field typed by the draft is text here
        day = (
            f"TRY_CAST({text} AS DATE)"
            if column.type == "date"
            else f"CAST(timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) AS DATE)"
        )
        spans[column.name] = con.execute(
            f"WITH days AS (SELECT {day} AS d FROM sample), bounds AS (SELECT max(d) AS latest FROM days) "
            f"SELECT min(d), max(d), count(*) FILTER (WHERE d >= latest - {LOOKBACK_DAYS + 1}), count(d) "
            "FROM days, bounds"
        ).fetchone() or (None, None, 0, 0)

    def rank(column: DraftColumn) -> tuple[float, int, int]:
        _, _, recent, total = spans[column.name]
        named = any(w in column.name for w in TIME_WORDS)
        return (
            -(recent / total if total else 0.0),
            0 if named else 1,
            0 if column.type == "timestamp" else 1,
        )

    chosen = sorted(temporal, key=rank)[0]
    first, last, recent, total = spans[chosen.name]
    if first is None or recent < total / 2:  # most rows older than a daily delivery's lookback
        described = ", ".join(f"{n} {s[0]}..{s[1]}" for n, s in spans.items() if s[0] is not None)
        return (
            ARRIVAL_DATE,
            (
                f"no time column clusters at the delivery ({described or 'all empty'}): a snapshot, each row "
                "dated by its file's arrival day"
            ),
            None,
        )
    other = [c.name for c in temporal if c is not chosen]
    return (
        chosen.name,
        (
            f"a {chosen.type} column, {recent} of {total} values within {LOOKBACK_DAYS + 1} days of {last}"
            + (f" (other time columns: {', '.join(other)})" if other else "")
        ),
        first,
    )


def infer(sample: Path, *, name: str | None = None, landing_path: str | None = None) -> Draft:
    """Read ``sample`` and infer its contract."""
    import duckdb

    from lakehouse.tables.sql import ident

    if not sample.is_file():
        raise DraftError(f"{sample}: no such file")
    fmt = _sample_format(sample)
    source = name or source_name(sample)
    if not re.match(IDENTIFIER, source):
        raise DraftError(
            f"--name {source!r}: a source name is lower case letters, digits and _, starting with a letter"
        )
    con = duckdb.connect()
    try:
        try:
            con.execute(f"CREATE TABLE sample AS SELECT * FROM {_reader(fmt, sample)} LIMIT {SAMPLE_ROWS}")
        except duckdb.Error as error:
            raise DraftError(f"{sample}: cannot be read as {fmt}: {error}") from None
        described = con.execute("DESCRIBE sample").fetchall()
        # A malformed JSON line skipped by ignore_errors reads as a row of nulls.
        con.execute("DELETE FROM sample WHERE " + " AND ".join(f"{ident(c[0])} IS NULL" for c in described))
        rows = (con.execute("SELECT count(*) FROM sample").fetchone() or (0,))[0]
        if rows == 0:
            raise DraftError(f"{sample}: no rows to infer from")
        columns, left_out, seen = [], [], set()
        for column_name, duckdb_type, *_ in described:
            key = column_name.strip().lower()
            if not re.match(IDENTIFIER, key) or len(key) > 63 or key in RESERVED_COLUMNS or key in seen:
                proposal = identifier(column_name)
                left_out.append(
                    f"{column_name!r} is not a valid column name"
                    + (f" (the export could call it {proposal})" if proposal and proposal not in seen else "")
                    + ": bronze keeps it in _rescued_data"
                )
                continue
            seen.add(key)
            contract_type, note = _contract_type(duckdb_type)
            notes = [note] if note else []
            if contract_type == "string" and fmt != "parquet":
                typed = _typed_text(con, column_name)
                if typed:
                    contract_type = typed[0]
                    notes.append(typed[1] or "")
            if contract_type == "float64" and fmt != "parquet" and _money(con, column_name):
                contract_type = "decimal(18,2)"
                notes.append("at most two decimals in every value: an exact decimal")
            nulls = (
                con.execute(f"SELECT count(*) - count({ident(column_name)}) FROM sample").fetchone() or (0,)
            )[0]
            column = DraftColumn(key, contract_type, nullable=nulls > 0, notes=[n for n in notes if n])
            column.notes.insert(
                0,
                f"{nulls} null{'s' if nulls > 1 else ''} in the sample"
                if nulls
                else "never null in the sample",
            )
            columns.append(column)
        if not columns:
            raise DraftError(f"{sample}: no field has a usable column name: " + "; ".join(left_out))
        for column in columns:
            if reason := _pii(con, column):
                column.pii = True
                column.notes.append(reason)
        key_columns, key_note = _primary_key(con, columns, rows)
        event_time, event_note, first_day = _event_time(con, columns)
        for column in columns:  # a key or the event time may not be null
            if column.name in key_columns or column.name == event_time:
                column.nullable = False
        options = _csv_options(con, sample) if fmt == "csv" else {}
    finally:
        con.close()
    start = first_day or datetime.fromtimestamp(sample.stat().st_mtime, UTC).date()
    return Draft(
        name=source,
        sample=sample,
        format=fmt,
        rows=rows,
        columns=columns,
        primary_key=key_columns,
        key_note=key_note,
        event_time=event_time,
        event_note=event_note,
        start=start,
        landing_path=landing_path or f"{source}/{{date}}/*.{fmt}",  # the format names the extension
        left_out=left_out,
        csv_options=options,
    )


def _scalar(value: object) -> str:
    """A YAML scalar (JSON's quoting is valid YAML)."""
    return (
        json.dumps(value)
        if isinstance(value, str)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
    )


def render(draft: Draft) -> str:
    """The draft as contract YAML, every inference marked ``# guessed:``."""
    lines = [
        f"# Draft contract for {draft.name}, inferred by `lakehouse contract draft` from {draft.sample.name}",
        f"# ({draft.rows} rows read). Lines marked '# guessed:' are inferences from the sample: confirm or",
        "# correct each, then validate with `lakehouse contract validate`.",
        f"name: {draft.name}",
        "owner: unknown-team  # guessed: nobody yet; the team that answers for this source",
        f"description: {_scalar(f'Drafted from the sample {draft.sample.name}.')}",
        "extract:",
        "  kind: files",
        f"  path: {_scalar(draft.landing_path)}  # guessed: one folder per arrival day under the landing root",
        f"  format: {draft.format}",
    ]
    if draft.csv_options:
        lines.append("  options:  # guessed: the dialect DuckDB's sniffer found")
        lines += [f"    {k}: {_scalar(v)}" for k, v in draft.csv_options.items()]
    lines += [
        "partitions:",
        f"  start: {draft.start}  # guessed: the first day in the sample",
        f"  event_time: {draft.event_time}  # guessed: {draft.event_note}",
        "  timezone: UTC  # guessed: times without an offset are read in this zone",
    ]
    if draft.event_time != ARRIVAL_DATE:
        lines.append(f"  lookback_days: {LOOKBACK_DAYS}  # guessed: rows may arrive this many days late")
    lines.append(f"primary_key: [{', '.join(draft.primary_key)}]  # guessed: {draft.key_note}")
    lines.append("columns:")
    for column in draft.columns:
        parts = [f"name: {column.name}", f"type: {_scalar(column.type)}"]
        if not column.nullable:
            parts.append("nullable: false")
        if column.pii:
            parts.append("pii: tokenize")
        lines.append(f"  - {{{', '.join(parts)}}}  # guessed: {'; '.join(column.notes)}")
    for reason in draft.left_out:
        lines.append(f"  # not declared: {reason}")
    return "\n".join(lines) + "\n"


def draft_contract(sample: Path, *, name: str | None = None, landing_path: str | None = None) -> str:
    """The draft's YAML, checked by the contract loader (a DraftError names what is wrong)."""
    from lakehouse.contracts.loader import ContractError, parse_contract

    text = render(infer(sample, name=name, landing_path=landing_path))
    try:
        parse_contract(text, f"<draft of {sample}>")
    except ContractError as error:  # e.g. a --landing-path without {date}
        raise DraftError(error.describe()) from None
    return text
