"""Small helpers for SQL the platform generates from contracts (DuckDB dialect).

Contract identifiers are validated (``^[a-z][a-z0-9_]*$``), but landing files bring their own
column names, so everything is quoted anyway.
"""

from __future__ import annotations

from datetime import date, datetime


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


def string_list(values: list[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"
