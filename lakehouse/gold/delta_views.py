"""Silver Delta tables as DuckDB views in the warehouse: DuckDB's own Parquet scan of the exact
files of the table's current version.

Why not an Arrow dataset (dbt-duckdb's ``delta`` plugin): a delta-rs MERGE writes Parquet whose
embedded Arrow schema says ``string_view``, and pyarrow cannot evaluate the string filters DuckDB
pushes into the dataset on those files (``Function 'greater_equal' has no kernel matching input
types (string, string_view)``), so any view, test or model that filters a string column failed.
And a registered Arrow object exists only inside the dbt process, so the plugin's views dangled
in the warehouse after dbt exited, and a model materialised as a view broke with them.

DuckDB's Parquet reader reads the Parquet types (text is text, whatever the Arrow annotation
says), and a ``read_parquet`` view over a list of files persists in the file: dbt models, dbt
tests and anyone who opens the warehouse afterwards read the same thing, with filters and
partition pruning pushed into the scan (``hive_partitioning`` on Delta's partition folders). The
view is the version dbt last read: files a later commit replaces stay on disk until a vacuum,
which the platform does not run. A lake on S3 works the same way: the connection reads ``s3://``
through a registered filesystem (``tables/duckdb_s3.py``), DuckDB's httpfs being unavailable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.tables.location import TableLocation
from lakehouse.tables.s3 import S3Connection, connection_from_environ, is_s3_uri, split_s3_uri
from lakehouse.tables.scan import ScanError, table_scan_sql

if TYPE_CHECKING:
    import duckdb

# Marks the views this module owns, so a refresh can drop those whose table is gone and nothing else.
COMMENT_PREFIX = "lakehouse silver view of "


class DeltaViewError(Exception):
    """A Delta table that cannot be published as a view, with the reason."""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class DeltaView:
    """The ``CREATE VIEW`` statement for one Delta table's current version."""

    name: str
    location: TableLocation
    version: int
    sql: str

    @property
    def comment(self) -> str:
        return f"{COMMENT_PREFIX}{self.location.uri} at version {self.version}"


def delta_tables(root: str, s3: S3Connection | None = None) -> Iterator[tuple[str, TableLocation]]:
    """The Delta tables directly under ``root`` (a folder with a ``_delta_log``), by folder name;
    ``root`` may be an ``s3://`` prefix (``s3``: how to reach it)."""
    if is_s3_uri(root):
        yield from _s3_delta_tables(root, s3 or connection_from_environ())
        return
    base = Path(root)
    if not base.is_dir():
        return
    for child in sorted(base.iterdir()):
        if (child / "_delta_log").is_dir():
            yield child.name, TableLocation(str(child))


def _s3_delta_tables(root: str, s3: S3Connection) -> Iterator[tuple[str, TableLocation]]:
    import pyarrow.fs as pafs

    bucket, prefix = split_s3_uri(root)
    filesystem = s3.pyarrow_filesystem()
    base = f"{bucket}/{prefix}".rstrip("/")
    try:
        children = filesystem.get_file_info(pafs.FileSelector(base, allow_not_found=True))
    except OSError as error:
        raise DeltaViewError(f"{root}: cannot list the silver tables ({error})") from None
    for child in sorted(children, key=lambda info: info.path):
        if child.type != pafs.FileType.Directory:
            continue
        if filesystem.get_file_info(f"{child.path}/_delta_log").type == pafs.FileType.Directory:
            name = child.path.rsplit("/", 1)[-1]
            yield name, TableLocation(f"s3://{child.path}", s3)


def build_view(
    con: duckdb.DuckDBPyConnection, schema_name: str, name: str, location: TableLocation
) -> DeltaView:
    """The view of the table's current version: its data files, its columns in the table's order
    and types (a column no file has yet, from a later schema, is NULL)."""
    table = location.open()
    if table is None:
        raise DeltaViewError(f"{location.uri}: not a Delta table")
    try:
        select = table_scan_sql(con, location, table)
    except ScanError as error:
        raise DeltaViewError(str(error)) from None
    target = f"{quote(schema_name)}.{quote(name)}"
    return DeltaView(name, location, table.version(), f"CREATE OR REPLACE VIEW {target} AS {select}")


def publish(
    con: duckdb.DuckDBPyConnection, schema_name: str, root: str, s3: S3Connection | None = None
) -> list[DeltaView]:
    """(Re)create one view per Delta table under ``root`` in ``schema_name``, and drop the views
    this module made for tables that are gone, in one transaction."""
    views = [build_view(con, schema_name, name, location) for name, location in delta_tables(root, s3)]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema_name)}")
        for view in views:
            con.execute(view.sql)
            con.execute(f"COMMENT ON VIEW {quote(schema_name)}.{quote(view.name)} IS {literal(view.comment)}")
        wanted = {view.name for view in views}
        stale = con.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = ? AND starts_with(comment, ?)",
            [schema_name, COMMENT_PREFIX],
        ).fetchall()
        for (name,) in stale:
            if name not in wanted:
                con.execute(f"DROP VIEW {quote(schema_name)}.{quote(name)}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return views
