"""The column types a contract may declare, and what each becomes in Arrow/Delta and in DuckDB.

Types are explicit on purpose (schema-first): nothing is inferred from the data. Timestamps are
stored as UTC instants (``timestamp[us, tz=UTC]``); a value without an offset in the landing file
is read in the source's declared timezone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

_DECIMAL = re.compile(r"^decimal\(\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)$")

# canonical name -> DuckDB type; aliases map onto canonical names.
_SIMPLE: dict[str, str] = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
}
_ALIASES = {
    "str": "string",
    "integer": "int32",
    "int": "int64",
    "bigint": "int64",
    "long": "int64",
    "float": "float64",
    "double": "float64",
    "boolean": "bool",
}

SUPPORTED_TYPES = (*_SIMPLE, "decimal(p,s)")


@dataclass(frozen=True)
class ColumnType:
    """A validated contract type."""

    name: str
    duckdb: str
    precision: int | None = None
    scale: int | None = None

    @property
    def is_temporal(self) -> bool:
        return self.name in ("date", "timestamp")

    @property
    def arrow(self) -> pa.DataType:
        # pyarrow is imported here, not at module load: contracts are read when Dagster loads
        # definitions, and that must stay fast.
        import pyarrow as pa

        if self.precision is not None:
            return pa.decimal128(self.precision, self.scale or 0)
        return {
            "string": pa.string,
            "int32": pa.int32,
            "int64": pa.int64,
            "float32": pa.float32,
            "float64": pa.float64,
            "bool": pa.bool_,
            "date": pa.date32,
            "timestamp": lambda: pa.timestamp("us", tz="UTC"),
        }[self.name]()


@cache
def parse_type(text: str) -> ColumnType:
    """Parse a contract type such as ``int64`` or ``decimal(12,2)``; raise ValueError otherwise."""
    key = text.strip().lower()
    key = _ALIASES.get(key, key)
    if key in _SIMPLE:
        return ColumnType(key, _SIMPLE[key])
    match = _DECIMAL.match(key)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"decimal precision must be 1..38 and scale <= precision, got {text!r}")
        return ColumnType(f"decimal({precision},{scale})", f"DECIMAL({precision},{scale})", precision, scale)
    raise ValueError(f"unknown type {text!r}; expected one of: {', '.join(SUPPORTED_TYPES)}")
