"""What the catalog shows for a gold model: its description, owners and columns.

- Description: dbt's own (dagster-dbt appends the model's raw SQL to it by default, which buries
  it; the SQL is one click away in the code version and the repository).
- Owners: what dbt declares (``meta.dagster.owners`` or the model's group owner, dagster-dbt's
  rule); a model that declares none is owned by the owners of the sources it is built from.
- Columns: every column the warehouse holds after the build, with its type (dbt's manifest
  knows only the columns a YAML file documents, and no types), described from dbt's YAML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    import duckdb


def dbt_description(props: Mapping[str, Any]) -> str:
    return props.get("description") or f"dbt {props['resource_type']} {props['name']}"


def upstream_sources(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """The dbt sources a node is built from, through any number of models (ephemeral included)."""
    parents = manifest.get("parent_map", {})
    seen: set[str] = set()
    todo = list(parents.get(unique_id, []))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(parents.get(node, []))
    return {node for node in seen if node.startswith("source.")}


def inherited_owners(
    manifest: Mapping[str, Any], unique_id: str, owners_by_source: Mapping[tuple[str, str], Sequence[str]]
) -> list[str]:
    """The owners of the sources (``(source_name, table)``) a node is built from, sorted."""
    owners: set[str] = set()
    for source in upstream_sources(manifest, unique_id):
        props = manifest["sources"].get(source, {})
        owners.update(owners_by_source.get((props.get("source_name", ""), props.get("name", "")), []))
    return sorted(owners)


def relation_parts(relation: str) -> tuple[str, str, str]:
    """``"db"."schema"."table"`` → its three names, unquoted."""
    from sqlglot import exp

    table = exp.to_table(relation, dialect="duckdb")
    return table.catalog, table.db, table.name


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str, bool]]:
    """(name, type, nullable) of each column the warehouse holds for ``relation``, in order."""
    catalog, schema, name = relation_parts(relation)
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [catalog, schema, name],
    ).fetchall()
    return [(str(n), str(t), bool(nullable)) for n, t, nullable in rows]


def column_schema(columns: Iterable[tuple[str, str, bool]], node: Mapping[str, Any]) -> dg.TableSchema:
    documented = {name.lower(): column for name, column in node.get("columns", {}).items()}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=type_,
                description=documented.get(name.lower(), {}).get("description") or None,
                constraints=dg.TableColumnConstraints(nullable=nullable),
            )
            for name, type_, nullable in columns
        ]
    )


def delta_source_columns(con: duckdb.DuckDBPyConnection, source: Mapping[str, Any]) -> dict[str, str] | None:
    """A delta-plugin source's columns and types, read from its table (the relation dbt's plugin
    registers exists only inside the dbt process), or None when it is not such a source."""
    from lakehouse.tables.delta import partition_dataset
    from lakehouse.tables.location import TableLocation

    path = (source.get("meta") or {}).get("delta_table_path") or (
        source.get("config", {}).get("meta") or {}
    ).get("delta_table_path")
    dataset = partition_dataset(TableLocation(str(path))) if path else None
    if dataset is None:
        return None
    view = "_lakehouse_source_columns"
    con.register(view, dataset)
    try:
        return {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {view}").fetchall()}
    finally:
        con.unregister(view)
