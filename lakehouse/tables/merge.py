"""Keyed MERGE into a Delta table, touching only what changed.

Rows are updated only when a column actually differs. delta-rs materialises a MERGE's source, so
callers hand it a diff of bounded size (silver's scd2 versions of one snapshot's keys); silver's
day-partitioned merge mode rewrites the touched days instead (``silver/build.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from lakehouse.tables.delta import SchemaMismatchError, check_schema, commit_properties
from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import ident

OP_COLUMN = "_op"  # in the merge source only: 'upsert' or 'delete'


def _q(alias: str, column: str) -> str:
    return f"{alias}.{ident(column)}"


def ensure_table(location: TableLocation, schema: pa.Schema, partition_by: list[str] | None) -> DeltaTable:
    """Open the table, creating it empty with ``schema`` on first use."""
    table = location.open()
    if table is None:
        return DeltaTable.create(
            location.target,
            schema,
            partition_by=partition_by,
            mode="ignore",
            storage_options=location.storage_options,
        )
    if check_schema(location, table, schema):
        raise SchemaMismatchError(
            f"{location.uri}: the contract adds columns the table lacks; evolve_columns must add them "
            "before a merge"
        )
    return table


def merge_rows(
    location: TableLocation,
    source: pa.Table,
    *,
    schema: pa.Schema,
    match: list[str],
    partition_by: list[str] | None,
    metadata: Mapping[str, Any],
    table: DeltaTable | None = None,
) -> dict[str, int]:
    """Apply ``source`` rows by their ``_op``: 'upsert' (update when a column differs, else insert)
    or 'delete'; return delta-rs's metrics.

    Rows match on all ``match`` columns. When those include the partition column, delta-rs reads
    the partitions present in the (materialised) source and skips every other file. ``table``:
    the table as the caller opened it (it moves to the merged version in place), else opened or
    created here.
    """
    table = table if table is not None else ensure_table(location, schema, partition_by)
    columns = [f.name for f in schema]
    condition = " AND ".join(f"{_q('t', c)} = {_q('s', c)}" for c in match)
    changed = " OR ".join(f"({_q('t', c)} IS DISTINCT FROM {_q('s', c)})" for c in columns if c not in match)
    values = {ident(c): _q("s", c) for c in columns}
    upsert = f"{_q('s', OP_COLUMN)} = 'upsert'"
    return (
        table.merge(
            source,
            predicate=condition,
            source_alias="s",
            target_alias="t",
            streamed_exec=False,  # lets delta-rs prune target files by the source's partition values
            commit_properties=commit_properties(metadata),
        )
        .when_matched_delete(predicate=f"{_q('s', OP_COLUMN)} = 'delete'")
        .when_matched_update(updates=values, predicate=f"{upsert} AND ({changed})")
        .when_not_matched_insert(updates=values, predicate=upsert)
        .execute()
    )
