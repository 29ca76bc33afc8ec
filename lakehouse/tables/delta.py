"""Delta table primitives: replace a range of partitions atomically, read a range of partitions.

Writes go through ``deltalake`` (delta-rs): one commit per write, so a failed run leaves the
previous version in place and readers never see half a write. Reads hand a partition-filtered
Arrow dataset to DuckDB, which opens only the files of the requested days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import CommitProperties, DeltaTable, write_deltalake

from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import day_range, literal


class SchemaMismatchError(RuntimeError):
    """The table on disk and the contract disagree in a way the platform will not fix silently."""


def commit_properties(metadata: Mapping[str, Any]) -> CommitProperties:
    return CommitProperties(custom_metadata={k: str(v) for k, v in metadata.items()})


def check_schema(location: TableLocation, table: DeltaTable, wanted: pa.Schema) -> list[str]:
    """The nullable columns ``wanted`` adds to the table (to merge in); raise if it breaks it.

    Adding a nullable column is the one change that keeps every old row valid. Anything else
    (a removed, renamed or retyped column, a nullable column becoming required) would silently
    rewrite history, so it is refused with the difference spelled out.
    """
    current = pa.schema(table.schema().to_arrow())
    current_fields = {f.name: f for f in current}
    problems: list[str] = []
    added: list[str] = []
    for f in wanted:
        old = current_fields.get(f.name)
        if old is None:
            (added if f.nullable else problems).append(
                f.name if f.nullable else f"new column {f.name} is not nullable (old rows have no value)"
            )
        elif old.type != f.type:
            problems.append(f"column {f.name} is {old.type} in the table but {f.type} in the contract")
        elif old.nullable and not f.nullable:
            problems.append(f"column {f.name} became non-nullable")
    wanted_names = set(wanted.names)
    problems += [
        f"column {name} is in the table but not in the contract"
        for name in current.names
        if name not in wanted_names
    ]
    if problems:
        raise SchemaMismatchError(
            f"{location.uri}: the contract no longer matches the table: "
            + "; ".join(problems)
            + ". Nothing was written."
        )
    return added


def added_columns(location: TableLocation, schema: pa.Schema) -> list[str]:
    """The nullable columns a write of ``schema`` adds to the table (a ``schema_mode="merge"``
    write); raises ``SchemaMismatchError`` for any other difference. Call it for every table a
    run writes before writing any of them, so a refusal leaves all of them untouched."""
    table = location.open()
    return check_schema(location, table, schema) if table is not None else []


def evolve_columns(
    location: TableLocation,
    schema: pa.Schema,
    metadata: Mapping[str, Any],
    *,
    table: DeltaTable | None = None,
) -> list[str]:
    """Add the nullable columns ``schema`` has and the table lacks, in one commit that rewrites no
    data file (old rows read as null); raise ``SchemaMismatchError`` for any other difference.
    For tables written by MERGE, which cannot merge a schema while writing. ``table``: the table
    already opened (it is brought to the new version in place), else opened here."""
    from deltalake import Field

    table = table if table is not None else location.open()
    if table is None:
        return []
    added = check_schema(location, table, schema)
    if added:
        table.alter.add_columns(
            [Field.from_arrow(schema.field(name)) for name in added],
            commit_properties=commit_properties({**metadata, "added_columns": ", ".join(added)}),
        )
    return added


def create_if_missing(location: TableLocation, schema: pa.Schema, partition_column: str | None) -> None:
    """Create the table empty (version 0) when nothing was ever written there: a write that must
    be undoable then has a version to return to."""
    if location.open() is None:
        DeltaTable.create(
            location.target,
            schema,
            partition_by=[partition_column] if partition_column else None,
            mode="ignore",
            storage_options=location.storage_options,
        )


def replace_partitions(
    location: TableLocation,
    data: pa.Table | pa.RecordBatchReader,
    *,
    schema: pa.Schema,
    partition_column: str | None,
    start: date,
    end: date,
    metadata: Mapping[str, Any],
    add_columns: bool = False,
    table: DeltaTable | None = None,
) -> None:
    """Atomically replace the partitions ``start..end`` (inclusive) with ``data``; with no
    ``partition_column`` (an unpartitioned table, refreshed whole), the whole table.

    Partitions in the range that ``data`` has no rows for become empty; partitions outside the
    range are untouched. Rerunning with the same data writes byte-identical files. ``table``: the
    table as the caller opened it (it moves to the written version in place), else opened here.
    """
    _overwrite(
        location,
        data,
        schema=schema,
        partition_column=partition_column,
        predicate=day_range(partition_column, start, end) if partition_column else None,
        metadata=metadata,
        add_columns=add_columns,
        table=table,
    )


def replace_days(
    location: TableLocation,
    data: pa.RecordBatchReader,
    *,
    schema: pa.Schema,
    partition_column: str,
    days: Sequence[date],
    metadata: Mapping[str, Any],
    table: DeltaTable | None = None,
) -> None:
    """Atomically replace the partitions of ``days`` (not necessarily contiguous) with ``data``,
    streamed: delta-rs holds a batch and its open files, never the whole input. delta-rs refuses
    a row of ``data`` outside those days, and nothing is committed then."""
    _overwrite(
        location,
        data,
        schema=schema,
        partition_column=partition_column,
        predicate=f"{partition_column} IN ({', '.join(literal(d) for d in days)})",
        metadata=metadata,
        add_columns=False,
        table=table,
    )


def _overwrite(
    location: TableLocation,
    data: pa.Table | pa.RecordBatchReader,
    *,
    schema: pa.Schema,
    partition_column: str | None,
    predicate: str | None,
    metadata: Mapping[str, Any],
    add_columns: bool,
    table: DeltaTable | None,
) -> None:
    """One commit replacing the rows ``predicate`` selects (all rows without one) with ``data``."""
    table = table if table is not None else location.open()
    write_deltalake(
        table if table is not None else location.target,
        data.cast(schema),
        mode="overwrite",
        partition_by=[partition_column] if partition_column else None,
        predicate=predicate,
        schema_mode="merge" if add_columns else None,
        commit_properties=commit_properties(metadata),
        storage_options=None if table is not None else location.storage_options,
    )


def partition_dataset(
    location: TableLocation, days: tuple[str, date, date] | None = None
) -> pads.Dataset | None:
    """The table as an Arrow dataset with partition expressions (for pruned scans), or None.

    ``days`` (partition column, first, last) keeps only the files of those days' partitions:
    building a dataset costs a fragment per file, so a year of history made a one-day read pay for
    365 days of files before any row was read. A table not partitioned by that column keeps all
    its files (its rows still have to be filtered by the caller's query, which it must do anyway).
    """
    table = location.open()
    if table is None:
        return None
    pruning = None
    if days is not None and days[0] in table.metadata().partition_columns:
        column, first, last = days
        pruning = [(column, ">=", first), (column, "<=", last)]
    return table.to_pyarrow_dataset(filesystem=location.filesystem(), file_pruning_predicate=pruning)
