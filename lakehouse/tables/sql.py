"""Small helpers for the SQL the platform runs on its tables (DuckDB dialect).

Contract identifiers are validated (``^[a-z][a-z0-9_]*$``), but landing files bring their own
column names, so everything is quoted anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

# Rows per Arrow batch when DuckDB results stream into Delta writes. Small on purpose: delta-rs's
# writers hold on to the batches their partitions' rows came from until a file is written, so
# the batch size multiplies the write's memory. 16 M bronze rows over three days, written alone
# (2026-12-03): 3.6 GiB peak RSS at 256 k rows a batch, 2.9 at 64 k, 2.0 at 8 k, in the same time.
ARROW_BATCH_ROWS = 8 * 1024


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL literal for a Python scalar."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMPTZ '{value.isoformat()}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def string_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def day_range(column: str, start: date, end: date) -> str:
    """``column`` within ``start..end`` (inclusive), with literals DuckDB and delta-rs push down."""
    return f"{column} BETWEEN {literal(start)} AND {literal(end)}"


def normalized(expr: str, steps: Sequence[str]) -> str:
    """A contract column's ``normalize`` steps (trim, lower, upper) applied in order."""
    for step in steps:
        expr = f"{step}({expr})"
    return expr


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None) -> Any:
    """The first column of the first row (DuckDB's values are untyped)."""
    return con.execute(sql, params).fetchall()[0][0]


@cache
def sql_file(beside: str, name: str) -> str:
    """The text of a static query kept in ``name`` next to the module ``beside`` (its
    ``__file__``): SQL that is not generated from a contract lives in ``.sql`` files."""
    return (Path(beside).parent / name).read_text()
