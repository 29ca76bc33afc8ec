"""Column lineage of a gold model, from the SQL dbt compiled for it in this run (sqlglot).

dagster-dbt has a lineage builder, but it fails on this project (verified on dagster-dbt 0.29.27,
on a copy of a run's target folder): it reads ``compiled/<package>/<model path>``, which a
microbatch model does not have (dbt writes one file per batch, under ``<model>/``), and it asks
for each direct parent's relation, which an ephemeral staging model does not have. Its other
route needs the in-process dbt adapter, which the platform does not open (it locks the
warehouse). So the platform does what that builder does underneath, directly: parse one batch's
compiled SQL (ephemeral models are inlined CTEs there), qualify it against the schemas of the
relations it reads (silver sources from their Delta tables, other models from the warehouse), and
walk ``sqlglot.lineage`` from each output column to the source columns it is computed from.
Filters (``WHERE``) are not lineage; columns inside an aggregate's ``FILTER`` are.

Computed at run time, once per built model, and attached to its materialisation: it needs the
compiled SQL, and parsing it at definitions load would cost every code server and run worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # ``lakehouse lineage`` uses this module without importing Dagster
    import dagster as dg

DIALECT = "duckdb"


def compiled_sql_path(target_path: Path, node: Mapping[str, Any]) -> Path | None:
    """The SQL dbt compiled for ``node`` in this run: its file, or a microbatch model's last batch."""
    base = Path(target_path) / "compiled" / node["package_name"] / node["original_file_path"]
    if base.is_file():
        return base
    batches = sorted(base.with_suffix("").glob(f"{node['name']}_*.sql"))
    return batches[-1] if batches else None


Relation = tuple[str, str, str]  # catalog, schema, name; lower case


class ColumnSources(NamedTuple):
    pairs: set[tuple[Relation, str]]  # the (relation, column) pairs an output column is computed from
    unchanged: bool  # the output is one of them as it is (selected, maybe renamed), not computed


def column_sources(
    sql: str, schemas: Mapping[str, Mapping[str, str]], columns: list[str] | None = None
) -> dict[str, ColumnSources]:
    """Each output column of ``sql`` (or of ``columns``) → the (relation, column) pairs it is
    computed from, among the relations of ``schemas`` (relation name as dbt quotes it → column →
    SQL type). Free of Dagster: ``lakehouse lineage`` answers from it without loading it."""
    from sqlglot import MappingSchema, exp, parse_one
    from sqlglot.lineage import lineage
    from sqlglot.optimizer import optimize

    mapping = MappingSchema(dialect=DIALECT)
    for relation, types in schemas.items():
        mapping.add_table(exp.to_table(relation, dialect=DIALECT), dict(types), dialect=DIALECT)

    tree = optimize(parse_one(sql, read=DIALECT), schema=mapping, dialect=DIALECT)
    qualified = tree.sql(dialect=DIALECT)
    found: dict[str, ColumnSources] = {}
    for column in columns or list(getattr(tree, "named_selects", [])):
        pairs: set[tuple[Relation, str]] = set()
        unchanged = True
        for node in lineage(column, qualified, schema=mapping, dialect=DIALECT).walk():
            expression = node.expression
            if not node.downstream:
                table = expression.find(exp.Table)
                if table is not None:
                    pairs.add((_parts(table), exp.to_column(node.name).name.lower()))
                continue
            if isinstance(expression, exp.Alias):
                expression = expression.this
            unchanged = unchanged and isinstance(expression, exp.Column)
        found[column.lower()] = ColumnSources(pairs, unchanged and len(pairs) == 1)
    return found


def relation_parts(relation: str) -> Relation:
    """A relation name as dbt quotes it (``"warehouse"."main"."x"``) → its lower-case parts."""
    from sqlglot import exp

    return _parts(exp.to_table(relation, dialect=DIALECT))


def column_lineage(
    sql: str,
    schemas: Mapping[str, Mapping[str, str]],
    keys: Mapping[str, dg.AssetKey],
    columns: list[str] | None = None,
) -> dg.TableColumnLineage:
    """Lineage of ``sql``'s output columns (or of ``columns``), as Dagster shows it.

    ``schemas``: relation name (as dbt quotes it) → column → SQL type, for every relation the
    SQL may read; ``keys``: relation name → the Dagster asset it is.
    """
    import dagster as dg

    key_by_table = {relation_parts(r): k for r, k in keys.items()}
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for column, (pairs, _) in column_sources(sql, schemas, columns).items():
        found = {
            (key_by_table[table].to_user_string(), name) for table, name in pairs if table in key_by_table
        }
        deps[column] = [
            dg.TableColumnDep(asset_key=dg.AssetKey.from_user_string(k), column_name=c)
            for k, c in sorted(found)
        ]
    return dg.TableColumnLineage(deps_by_column=deps)


def _parts(table: Any) -> Relation:
    return (table.catalog.lower(), table.db.lower(), table.name.lower())
