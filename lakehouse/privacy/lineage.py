"""Where personal data goes: from a contract's personal column to every table and gold model
that holds it, or holds something computed from it.

Built from what is on disk, without Dagster: the contracts (landing → bronze → quarantine →
silver, the platform's own path, and how each column is protected) and the dbt manifest (which
models read which silver tables and models). Column by column, each model's SQL is traced with
the same sqlglot lineage the gold assets' ``dagster/column_lineage`` comes from
(``gold/lineage.column_sources``): its ``{{ ref() }}``/``{{ source() }}`` calls become relation
names, so ephemeral staging models are followed too (they are columns of no stored table, and
are shown as such). A model whose Jinja goes beyond ``ref``, ``source`` and ``config`` cannot be
traced without dbt; if it reads personal data it is listed as *may hold*, never left out.

``lakehouse lineage`` prints it; the gold assets' ``lakehouse/pii_columns`` metadata is the same
trace, one model at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.platform_columns import silver_platform_columns

if TYPE_CHECKING:
    from lakehouse.tables.location import TableLocation

Pair = tuple[str, str]  # (dbt unique id, column)
CACHE_NAME = "lakehouse_column_lineage.json"  # beside the manifest
CACHE_VERSION = 2

_CONFIG = re.compile(r"\{\{\s*config\s*\(.*?\)\s*\}\}", re.S)
_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_REF = re.compile(r"""\{\{\s*ref\s*\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*\}\}""")
_SOURCE = re.compile(r"""\{\{\s*source\s*\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*\}\}""")


# What a model computes from a protected column is computed from these (a count of tokens, ...).
_VALUES = {"tokenize": "tokens", "hash": "hashes", "none": "clear values"}


class LineageError(ValueError):
    """A column or source the contracts do not declare, or a missing manifest: one line."""


@dataclass(frozen=True)
class Holder:
    """One place that holds a personal column, or a value computed from it."""

    asset: str  # bronze/orders, gold/fct_daily_sales, dbt/stg_demo__orders (ephemeral: not stored)
    layer: str  # landing | bronze | quarantine | silver | gold
    column: str
    protection: str  # how the value is held there: clear, tokenize, a token, derived from one
    derived_from: str  # the column one step up (asset.column)
    stored: bool = True
    note: str = ""
    relation: str = ""  # gold: the model's relation in the warehouse (schema.name)


@dataclass
class PersonalColumn:
    source: str
    column: str
    protection: str
    contract: SourceContract
    holders: list[Holder] = field(default_factory=list)

    @property
    def gold_models(self) -> list[str]:
        return sorted({h.asset for h in self.holders if h.layer == "gold"})


@dataclass
class _Node:
    unique_id: str
    name: str
    kind: str  # model | source
    asset: str
    stored: bool
    sql: str = ""
    depends_on: list[str] = field(default_factory=list)
    columns: dict[str, set[Pair]] = field(default_factory=dict)  # model: output column → inputs
    unchanged: set[str] = field(default_factory=set)  # output columns that are one input as it is
    error: str = ""
    relation: str = ""  # a stored model's relation in the warehouse (schema.name)


class DbtLineage:
    """The column lineage of every model of a dbt manifest, traced once."""

    def __init__(
        self, manifest: Mapping[str, Any], contracts: Iterable[SourceContract], cache: Path | None = None
    ):
        self.contracts = {c.entity_name: c for c in contracts}
        self.nodes: dict[str, _Node] = {}
        self.schemas: dict[str, list[str]] = {}  # unique id → its columns
        for unique_id, source in manifest.get("sources", {}).items():
            self.nodes[unique_id] = _Node(
                unique_id, source["name"], "source", f"{source['source_name']}/{source['name']}", True
            )
            self.schemas[unique_id] = self._source_columns(source)
        for unique_id, node in manifest.get("nodes", {}).items():
            if node.get("resource_type") != "model":
                continue
            ephemeral = node.get("config", {}).get("materialized") == "ephemeral"
            self.nodes[unique_id] = _Node(
                unique_id,
                node["name"],
                "model",
                f"dbt/{node['name']}" if ephemeral else f"gold/{node['name']}",
                not ephemeral,
                node.get("raw_code", ""),
                list(node.get("depends_on", {}).get("nodes", [])),
                relation=".".join(node.get("relation_name", "").split(".")[1:]) if not ephemeral else "",
            )
        self.key = self._key()  # before tracing adds the models' schemas
        if cache is None or not self._load(cache):
            for unique_id in self._in_order():
                self._trace(self.nodes[unique_id])
            if cache is not None:
                self._save(cache)

    @classmethod
    def from_file(cls, manifest_path: Path | str, contracts: Iterable[SourceContract]) -> DbtLineage:
        """The manifest's lineage, traced once per manifest and contracts' columns: the trace
        (sqlglot over every model, ~0.3 s) is kept beside the manifest and reused while both are
        unchanged."""
        path = Path(manifest_path)
        if not path.is_file():
            raise LineageError(f"{path}: no dbt manifest; run `lakehouse dbt parse` first")
        return cls(json.loads(path.read_text()), contracts, cache=path.with_name(CACHE_NAME))

    def _key(self) -> str:
        import hashlib

        models = {u: (n.sql, n.depends_on) for u, n in sorted(self.nodes.items()) if n.kind == "model"}
        sources = {u: self.schemas[u] for u in sorted(self.schemas)}
        text = json.dumps([CACHE_VERSION, models, sources], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def _load(self, cache: Path) -> bool:
        try:
            held = json.loads(cache.read_text())
        except (OSError, ValueError):
            return False
        if held.get("key") != self.key:
            return False
        for unique_id, traced in held["models"].items():
            node = self.nodes[unique_id]
            node.error = traced["error"]
            node.columns = {c: {(u, n) for u, n in pairs} for c, pairs in traced["columns"].items()}
            node.unchanged = set(traced["unchanged"])
            if not node.error:
                self.schemas[unique_id] = list(node.columns)
        return True

    def _save(self, cache: Path) -> None:
        """Atomically; a folder this process cannot write just means no cache."""
        import os

        models = {
            u: {
                "error": n.error,
                "columns": {c: sorted(pairs) for c, pairs in n.columns.items()},
                "unchanged": sorted(n.unchanged),
            }
            for u, n in self.nodes.items()
            if n.kind == "model"
        }
        partial = cache.with_name(f".{cache.name}.{os.getpid()}")
        try:
            partial.write_text(json.dumps({"key": self.key, "models": models}))
            os.replace(partial, cache)
        except OSError:
            partial.unlink(missing_ok=True)

    def _source_columns(self, source: Mapping[str, Any]) -> list[str]:
        contract = self.contracts.get(source["name"]) if source.get("source_name") == "silver" else None
        if contract is None:
            return list(source.get("columns", {}))
        leading, trailing = silver_platform_columns(contract)
        return [*(c.name for c in leading), *(c.name for c in contract.columns), *(c.name for c in trailing)]

    def _in_order(self) -> list[str]:
        done: list[str] = []
        seen: set[str] = set()

        def visit(unique_id: str) -> None:
            if unique_id in seen or unique_id not in self.nodes:
                return
            seen.add(unique_id)
            for parent in self.nodes[unique_id].depends_on:
                visit(parent)
            if self.nodes[unique_id].kind == "model":
                done.append(unique_id)

        for unique_id in sorted(self.nodes):
            visit(unique_id)
        return done

    @staticmethod
    def _relation(unique_id: str) -> str:
        return '"lineage"."n"."' + re.sub(r"[^A-Za-z0-9_]", "_", unique_id) + '"'

    def _render(self, node: _Node) -> str:
        """The model's SQL with its refs and sources as relations; LineageError if more Jinja."""
        parents = {self.nodes[p].name: p for p in node.depends_on if p in self.nodes}

        def ref(match: re.Match[str]) -> str:
            name = match.group(2) or match.group(1)
            if name not in parents:
                raise LineageError(f"ref('{name}') is not among its manifest dependencies")
            return self._relation(parents[name])

        def source(match: re.Match[str]) -> str:
            found = [p for p in node.depends_on if p.endswith(f".{match.group(1)}.{match.group(2)}")]
            if not found:
                raise LineageError(f"source('{match.group(1)}', '{match.group(2)}') is not in the manifest")
            return self._relation(found[0])

        sql = _SOURCE.sub(source, _REF.sub(ref, _CONFIG.sub("", _COMMENT.sub("", node.sql))))
        if "{{" in sql or "{%" in sql:
            raise LineageError("uses Jinja beyond ref, source and config (trace it in the UI after a run)")
        return sql

    def _trace(self, node: _Node) -> None:
        from lakehouse.gold.lineage import column_sources

        try:
            sql = self._render(node)
            known = {p: self.schemas[p] for p in node.depends_on if self.schemas.get(p)}
            schemas = {self._relation(p): dict.fromkeys(cols, "VARCHAR") for p, cols in known.items()}
            by_relation = {_lower_parts(self._relation(p)): p for p in known}
            traced = column_sources(sql, schemas)
        except Exception as error:
            node.error = f"{type(error).__name__}: {error}"
            return
        node.columns = {
            column: {(by_relation[t], c) for t, c in found.pairs if t in by_relation}
            for column, found in traced.items()
        }
        node.unchanged = {column for column, found in traced.items() if found.unchanged}
        self.schemas[node.unique_id] = list(node.columns)

    def source_ids(self, entity: str) -> list[str]:
        return [u for u, n in self.nodes.items() if n.kind == "source" and n.asset == f"silver/{entity}"]

    def downstream(self, start: set[Pair]) -> list[tuple[_Node, str, set[Pair]]]:
        """Every model column computed from any of ``start``, with the tainted inputs it reads;
        models that could not be traced but read a tainted table, with column ``*``."""
        tainted = set(start)
        found: list[tuple[_Node, str, set[Pair]]] = []
        for unique_id in self._in_order():
            node = self.nodes[unique_id]
            if node.error:
                if any(p in {t for t, _ in tainted} for p in node.depends_on):
                    found.append((node, "*", set()))
                    tainted.add((unique_id, "*"))
                continue
            for column, inputs in node.columns.items():
                hit = {pair for pair in inputs if pair in tainted or (pair[0], "*") in tainted}
                if hit:
                    found.append((node, column, hit))
                    tainted.add((unique_id, column))
        return found


def _lower_parts(relation: str) -> tuple[str, str, str]:
    from lakehouse.gold.lineage import relation_parts

    return relation_parts(relation)


def trace(contract: SourceContract, column: str, dbt: DbtLineage | None) -> PersonalColumn:
    """Every place ``contract``'s ``column`` is held, from landing to gold."""
    declared = contract.column_map.get(column)
    if declared is None:
        raise LineageError(
            f"{contract.name}.{column}: no such column (columns: {', '.join(contract.column_map)})"
        )
    protection = declared.pii or "none"
    name, entity = contract.name, contract.entity_name
    origin = f"landing/{name}.{column}"
    held = PersonalColumn(name, column, protection, contract)
    held.holders = [
        Holder(f"landing/{name}", "landing", column, "clear", f"{contract.extract.path} (the source's file)"),
        Holder(f"bronze/{name}", "bronze", column, protection, origin),
    ]
    if declared.pii:
        held.holders.append(
            Holder(
                f"quarantine/{name}", "quarantine", "_raw", f"{protection} (inside the raw record)", origin
            )
        )
    held.holders.append(Holder(f"silver/{entity}", "silver", column, protection, f"bronze/{name}.{column}"))
    if dbt is None:
        return held
    start = {(u, column) for u in dbt.source_ids(entity)}
    for node, output, inputs in dbt.downstream(start):
        if node.error:
            how, note = "may hold (not traced)", node.error
        else:
            how = (
                protection
                if output in node.unchanged
                else f"derived from {_VALUES.get(protection, protection)}"
            )
            note = "" if node.stored else "ephemeral model: not stored, compiled into the models that read it"
        parents = ", ".join(sorted(f"{dbt.nodes[u].asset}.{c}" for u, c in inputs)) or "the tables it reads"
        held.holders.append(
            Holder(node.asset, "gold", output, how, parents, node.stored, note, node.relation)
        )
    return held


def personal_columns(contracts: Iterable[SourceContract]) -> list[tuple[SourceContract, str]]:
    return [(c, name) for c in contracts for name in c.pii_columns]


def model_pii_columns(
    dbt: DbtLineage, contracts: Iterable[SourceContract], model: str
) -> list[tuple[str, str, str]]:
    """``gold/<model>``'s personal columns: (column, protection, the columns it comes from)."""
    rows = []
    for contract, column in personal_columns(contracts):
        for holder in trace(contract, column, dbt).holders:
            if holder.asset == model and holder.layer == "gold":
                rows.append((holder.column, holder.protection, holder.derived_from))
    return sorted(set(rows))


@dataclass(frozen=True)
class Occurrence:
    asset: str
    column: str
    rows: int | None  # None: not searched (``note`` says why)
    note: str = ""


def find_token(
    held: PersonalColumn,
    token: str,
    *,
    table: Callable[[str, str], TableLocation],
    warehouse_path: str,
) -> list[Occurrence]:
    """Rows holding ``token`` in each stored table that carries ``held``'s column as it is: a
    query per table on that column only (the quarantine's raw records by substring), never a
    scan of the lake. Landing files hold the clear value and are not searched."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from lakehouse.tables.delta import partition_dataset

    found = []
    for holder in held.holders:
        if holder.layer == "landing":
            found.append(Occurrence(holder.asset, holder.column, None, "clear files: not searched"))
            continue
        if holder.layer == "gold":
            continue
        dataset = partition_dataset(table(*holder.asset.split("/", 1)))
        if dataset is None:
            found.append(Occurrence(holder.asset, holder.column, 0, "no table yet"))
            continue
        # Arrow's own filter, the column cast: a Delta dataset's schema says string but its files
        # hold string_view, and comparing them to a string (DuckDB's pushdown too) has no kernel.
        column = pc.field(holder.column).cast(pa.string())
        match = pc.match_substring(column, token) if holder.layer == "quarantine" else column == token
        found.append(Occurrence(holder.asset, holder.column, dataset.count_rows(filter=match)))
    found += _find_in_gold(held, token, warehouse_path)
    return found


def _find_in_gold(held: PersonalColumn, token: str, warehouse_path: str) -> list[Occurrence]:
    """The stored gold models that carry the token as it is (not derived values)."""
    import duckdb

    from lakehouse.warehouse_lock import COMMAND_WAIT_SECONDS, warehouse_lock

    carriers = [h for h in held.holders if h.layer == "gold" and h.stored and h.protection == held.protection]
    if not carriers:
        return []
    if not Path(warehouse_path).exists():
        return [Occurrence(h.asset, h.column, 0, "no warehouse yet") for h in carriers]
    found = []
    with (
        warehouse_lock(warehouse_path, wait_seconds=COMMAND_WAIT_SECONDS),
        duckdb.connect(warehouse_path, read_only=True) as con,
    ):
        for holder in carriers:
            count = con.execute(
                f"SELECT count(*) FROM {holder.relation} WHERE {holder.column} = ?", [token]
            ).fetchall()[0][0]
            found.append(Occurrence(holder.asset, holder.column, int(count)))
    return found
