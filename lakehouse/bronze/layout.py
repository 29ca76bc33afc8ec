"""A landing file's layout (its field names) against the contract, checked before reading rows.

Field names match contract columns case-insensitively after trimming (``Email `` is ``email``):
DuckDB identifiers are case-insensitive anyway, and a PII column must never slip into
``_rescued_data`` in clear because the export capitalised its header.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import duckdb

from lakehouse.bronze.landing import LandingFile
from lakehouse.contracts.model import SourceContract
from lakehouse.tables.sql import literal

GLOB_CHARACTERS = frozenset("*?[]{}")


class LandingSchemaError(ValueError):
    """A landing file whose layout breaks the contract; the run stops before writing anything."""


@dataclass(frozen=True)
class Layout:
    """The file's fields in file order, and which of them carries each contract column."""

    fields: list[str]
    by_column: dict[str, str]  # contract column -> field name in the file

    @property
    def extras(self) -> list[str]:
        """Fields the contract does not declare (kept in ``_rescued_data``)."""
        declared = set(self.by_column.values())
        return [f for f in self.fields if f not in declared]


def check_file_name(file: LandingFile) -> None:
    """DuckDB's readers take a path as a glob pattern; such a name could read other files."""
    if GLOB_CHARACTERS & set(file.relative_path):
        raise LandingSchemaError(
            f"{file.relative_path}: the file name contains glob characters ({' '.join(sorted(GLOB_CHARACTERS))}); "
            "rename it so it cannot match other files"
        )


def csv_fields(file: LandingFile, contract: SourceContract) -> list[str]:
    """The field names of a CSV file, read with the contract's dialect (not sniffed)."""
    options = contract.extract.options
    if not options.header:
        return [c.name for c in contract.columns]
    with open(file.path, newline="", encoding="utf-8-sig", errors="replace") as handle:  # -sig: drop a BOM
        first = handle.readline()
    if not first.strip():
        return []
    if options.quote:
        reader = csv.reader(io.StringIO(first), delimiter=options.delimiter, quotechar=options.quote)
    else:
        reader = csv.reader(io.StringIO(first), delimiter=options.delimiter, quoting=csv.QUOTE_NONE)
    return next(reader, [])


_PROBE_BYTES = 64 * 1024


def _has_content(path: str, skip_first_line: bool) -> bool:
    """Whether the file has a non-blank byte (after its first line, for a CSV header)."""
    with open(path, "rb") as handle:
        if skip_first_line:
            handle.readline()
        while chunk := handle.read(_PROBE_BYTES):
            if chunk.strip():
                return True
    return False


def empty_file_note(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, file: LandingFile
) -> str | None:
    """A warning for a file that brings no rows at all (empty, header only, no records), or None.

    Such a file loads (an empty day is sometimes the truth) but is worth a word: an export that
    wrote its header and died looks exactly like this. Reading stops at the first data byte.
    """
    if file.size == 0:
        return f"{file.relative_path}: empty file (0 bytes), no rows"
    fmt = contract.extract.format
    if fmt == "parquet":
        rows = con.execute(
            f"SELECT sum(num_rows) FROM parquet_file_metadata({literal(file.path)})"
        ).fetchall()[0][0]
        return f"{file.relative_path}: Parquet file with no rows" if not rows else None
    header = fmt == "csv" and contract.extract.options.header
    if _has_content(file.path, skip_first_line=header):
        return None
    return f"{file.relative_path}: {'header only' if header else 'only blank lines'}, no rows"


def parquet_fields(con: duckdb.DuckDBPyConnection, file: LandingFile) -> list[str]:
    return [
        row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(file.path)})").fetchall()
    ]


def jsonl_fields(con: duckdb.DuckDBPyConnection, file: LandingFile) -> list[str]:
    """Every key of a JSON-lines file's objects (its schema: JSON lines have no header)."""
    rows = con.execute(
        f"SELECT DISTINCT unnest(json_keys(json)) AS key "
        f"FROM read_ndjson_objects({literal(file.path)}, ignore_errors = true) "
        "WHERE json_type(json) = 'OBJECT' ORDER BY key"
    ).fetchall()
    return [key for (key,) in rows]


def check_jsonl_fields(
    contract: SourceContract, file: LandingFile, keys: list[str], recently_populated: set[str]
) -> None:
    """Raise when a JSON-lines file's keys show a declared field removed or renamed upstream.

    Objects are sparse by nature (writers omit nulls), so a nullable field in no record is a
    break only in the shape of a rename: it held values in bronze's recent days
    (``recently_populated``) and the file brings fields the contract does not declare. A
    required field in no record is a break on its own. Keys match exactly (JSON is
    case-sensitive); a file with no readable object shows nothing and is judged row by row.
    """
    if not keys:
        return
    present, declared = set(keys), {c.name for c in contract.columns}
    required = [c.name for c in contract.columns if not c.nullable and c.name not in present]
    if required:
        raise LandingSchemaError(
            f"{file.relative_path}: required field(s) {', '.join(required)} in no record of the file "
            f"(found: {', '.join(keys)}): removed or renamed upstream; nothing was written"
        )
    vanished = [c.name for c in contract.columns if c.name in recently_populated and c.name not in present]
    undeclared = [k for k in keys if k not in declared]
    if vanished and undeclared:
        raise LandingSchemaError(
            f"{file.relative_path}: field(s) {', '.join(vanished)} had values in recent days but are in no "
            f"record of the file, which brings undeclared field(s) {', '.join(undeclared)}: renamed "
            "upstream? Declare the new name in the contract; nothing was written"
        )


def match_layout(contract: SourceContract, file: LandingFile, fields: list[str]) -> Layout:
    """Map fields to contract columns; raise for layouts that would lose or confuse data."""
    keys = [f.strip().lower() for f in fields]
    for position, key in enumerate(keys, start=1):
        if not key:
            raise LandingSchemaError(f"{file.relative_path}: field {position} of the header has no name")
    repeated = sorted({fields[i] for i, key in enumerate(keys) if keys.count(key) > 1})
    if repeated:
        raise LandingSchemaError(
            f"{file.relative_path}: field name(s) {', '.join(repeated)} appear more than once in the header "
            "(names are compared ignoring case)"
        )
    field_by_key = dict(zip(keys, fields, strict=True))
    by_column = {c.name: field_by_key[c.name] for c in contract.columns if c.name in field_by_key}
    missing = [c.name for c in contract.columns if c.name not in by_column]
    if missing:
        # A header is the file's schema: a declared column it lacks was removed or renamed upstream
        # (nullable means "may be empty", not "may vanish"). JSON lines, whose objects are sparse by
        # nature, have no header: ``check_jsonl_fields`` judges them.
        raise LandingSchemaError(
            f"{file.relative_path}: declared column(s) {', '.join(missing)} missing from the file "
            f"(found: {', '.join(fields) or 'no fields'}): removed or renamed upstream; nothing was written"
        )
    return Layout(fields=fields, by_column=by_column)
