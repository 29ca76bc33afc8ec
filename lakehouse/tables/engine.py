"""The DuckDB connection each bronze or silver step computes in: memory bounded on request.

DuckDB takes up to 80 % of the machine's memory by default and holds a step's whole window
(staged rows, the batch, the diff) in memory until then. ``LAKEHOUSE_DUCKDB_MEMORY_LIMIT`` (a
DuckDB size such as ``1GB``) caps it: past the cap DuckDB spills its tables, sorts and joins to
the step's temporary folder instead of growing, which is what keeps a five-million-row day
within a small worker's memory. Unset, nothing spills on a machine with memory to spare.
"""

from __future__ import annotations

import os

import duckdb

from lakehouse.tables.sql import literal

MEMORY_LIMIT_ENV = "LAKEHOUSE_DUCKDB_MEMORY_LIMIT"


def step_connection(spill_dir: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to ``spill_dir`` (a folder the caller removes), capped at
    ``LAKEHOUSE_DUCKDB_MEMORY_LIMIT`` when that is set."""
    con = duckdb.connect()
    limit = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    try:
        if limit:
            con.execute(f"SET memory_limit = {literal(limit)}")
        if spill_dir:
            con.execute(f"SET temp_directory = {literal(spill_dir)}")
    except duckdb.Error as error:
        con.close()
        raise ValueError(f"{MEMORY_LIMIT_ENV}={limit!r}: DuckDB refuses it ({error})") from None
    return con
