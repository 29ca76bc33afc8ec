"""A Delta table's current rows as a DuckDB view over its exact Parquet files, pruned to days.

Why not an Arrow dataset registered with DuckDB: the rows then cross from Arrow's Parquet reader
into DuckDB batch by batch, which cost twice DuckDB's own Parquet scan of the same files (2.9 M
bronze rows of a three-day window: 1.9 s against 0.9 s of CPU), and that read happens several
times in every silver step, its checks and its counts. DuckDB's reader also reads the Parquet
types, so the ``string_view`` annotation a delta-rs MERGE writes is no obstacle
(``gold/delta_views.py`` explains that failure).

The files are the current version's, taken from the Delta log, so the view shows what a Delta
reader shows: delta-rs writes no deletion vectors and these tables use no column mapping.
Partition values come from the folder names (``_event_date=2026-04-01/``), checked against the
log. A column a later schema added and no file holds yet reads as NULL.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lakehouse.tables.duckdb_s3 import register_s3
from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import ident, literal

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from deltalake import DeltaTable


class ScanError(Exception):
    """A Delta table DuckDB cannot read as its log says (a partition folder that disagrees)."""


def duckdb_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> dict[str, str]:
    """DuckDB's name for each column's type, as DuckDB maps the Arrow type."""
    relation = con.from_arrow(schema.empty_table())
    return {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}


def check_partition_folders(location: TableLocation, actions: pa.Table, partitions: list[str]) -> None:
    """DuckDB takes partition values from the folder names, Delta from its log: refuse a table
    where they differ rather than show wrong days."""
    for column in partitions:
        values = actions.column(f"partition.{column}").to_pylist()
        for path, value in zip(actions.column("path").to_pylist(), values, strict=True):
            expected = f"{column}={'__HIVE_DEFAULT_PARTITION__' if value is None else value}"
            if expected not in unquote(path).split("/"):
                raise ScanError(
                    f"{location.uri}: file {path} holds {column}={value} in the Delta log but not "
                    f"in its folder name; DuckDB would read the wrong {column}"
                )


def partition_day(value: object) -> date | None:
    """A day partition's value as the log holds it (a date, or its ISO text), as a date."""
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _in_days(value: object, first: date, last: date) -> bool:
    day = partition_day(value)
    return day is not None and first <= day <= last


def table_scan_sql(
    con: duckdb.DuckDBPyConnection,
    location: TableLocation,
    table: DeltaTable,
    days: tuple[str, date, date] | None = None,
) -> str:
    """``SELECT`` of the table's columns (in its order and types) from its current files;
    ``days`` (partition column, first, last) keeps only those partitions' files. The caller's
    query still filters rows by day when the table is not partitioned by that column."""
    import pyarrow as pa

    if not location.is_local:
        register_s3(con, location.connection)
    schema = pa.schema(table.schema().to_arrow())
    partitions = list(table.metadata().partition_columns)
    types = duckdb_types(con, schema)
    actions = pa.table(table.get_add_actions(flatten=True))
    if days is not None and days[0] in partitions:
        column, first, last = days
        values = actions.column(f"partition.{column}").to_pylist()
        actions = actions.filter(pa.array([_in_days(v, first, last) for v in values], type=pa.bool_()))
    check_partition_folders(location, actions, partitions)
    root = location.uri.removeprefix("file://").rstrip("/")
    files = [f"{root}/{unquote(path)}" for path in actions.column("path").to_pylist()]
    if not files:  # no file (an empty table, or no row of those days): the columns, no rows
        columns = ", ".join(f"CAST(NULL AS {types[c]}) AS {ident(c)}" for c in schema.names)
        return f"SELECT {columns} WHERE false"
    hive_types = ", ".join(f"{literal(c)}: {types[c]}" for c in partitions)
    scan = (
        f"read_parquet([{', '.join(literal(f) for f in files)}], union_by_name = true, "
        f"hive_partitioning = {'true' if partitions else 'false'}"
        + (f", hive_types = {{{hive_types}}}" if partitions else "")
        + ")"
    )
    present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    columns = ", ".join(
        ident(c) if c in present else f"CAST(NULL AS {types[c]}) AS {ident(c)}" for c in schema.names
    )
    return f"SELECT {columns} FROM {scan}"


def register_scan(
    con: duckdb.DuckDBPyConnection,
    name: str,
    location: TableLocation,
    days: tuple[str, date, date] | None = None,
    *,
    table: DeltaTable | None = None,
) -> bool:
    """Create the temporary view ``name`` over the table's current rows (``days``: only those
    partitions' files); False, and no view, when there is no table. ``table``: the table as the
    caller already opened it (opening reads the whole log: 34 ms at 1,000 files, measured), else opened
    here."""
    table = table if table is not None else location.open()
    if table is None:
        return False
    con.execute(f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS {table_scan_sql(con, location, table, days)}")
    return True
