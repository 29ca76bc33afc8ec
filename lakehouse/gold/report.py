"""What one gold step tells Dagster after dbt: each model's days, columns and lineage, and each
test's days, in the order the UI needs.

dbt's events are collected (``gold/build.py``), then, through one read-only connection to the
warehouse dbt has let go of, the platform reads what dbt built:

- per day of a daily microbatch model, its rows (each day's materialisation carries its own
  ``dagster/row_count``; a lookback day is logged as a materialisation of its partition);
- every column with its type (``dagster/column_schema``) and, from the compiled SQL, where each
  comes from (``dagster/column_lineage``, ``gold/lineage.py``);
- per day, each test of such a model (``gold/per_day.py``), reported like the platform's own
  checks (``checks/outcome.report``) with dbt's whole-table result as the step's result.

The model's ``Output`` keeps dagster-dbt's metadata; a total that would be copied onto every day
is in ``run_totals``, not a number (the UI plots numbers per partition).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from lakehouse.assets.metadata import RUN_TOTALS, record_days
from lakehouse.checks.outcome import TABLE_SCOPE, CheckOutcome, metadata_value, report
from lakehouse.gold.lineage import column_lineage, compiled_sql_path
from lakehouse.gold.metadata import column_schema, delta_source_columns, relation_columns
from lakehouse.gold.per_day import DbtTest, evaluate_per_day, microbatch_event_time, rows_per_day

if TYPE_CHECKING:
    import duckdb

    from lakehouse.resources.warehouse import DuckDBWarehouse


@dataclass
class BuiltModel:
    output: dg.Output
    key: dg.AssetKey
    relation: str
    event_time: str | None  # a daily microbatch model's day column
    per_day: dict[date, dict[str, Any]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    rows: dict[date, int] = field(default_factory=dict)


@dataclass
class GoldReport:
    models: list[BuiltModel]
    results: dict[dg.AssetCheckKey, dg.AssetCheckResult]  # dbt's, one per test run
    outcomes: list[CheckOutcome]  # the platform's, per day
    others: list[Any]  # anything else dbt's stream gave (observations), passed through


def gather(
    context: dg.AssetExecutionContext,
    events: list[Any],
    target_path: Path,
    warehouse: DuckDBWarehouse,
    days: list[date],
) -> GoldReport:
    """Read what dbt built (``days``: the run's window, lookback days first). Opens the warehouse
    only when dbt built or tested something: a dbt that failed early keeps its own error."""
    outputs = [e for e in events if isinstance(e, dg.Output)]
    results = {
        dg.AssetCheckKey(e.asset_key, e.check_name): e
        for e in events
        if isinstance(e, dg.AssetCheckResult) and e.asset_key is not None and e.check_name
    }
    others = [e for e in events if not isinstance(e, dg.Output | dg.AssetCheckResult)]
    if not outputs and not results:
        return GoldReport(models=[], results={}, outcomes=[], others=others)
    with warehouse.connect(read_only=True) as con:
        models, outcomes = _read(context, outputs, results, Path(target_path), con, days)
    for outcome in outcomes:  # dbt's own result is of the whole table, beside the days
        results[outcome.check_key] = _table_result(results[outcome.check_key], outcome)
    return GoldReport(models=models, results=results, outcomes=outcomes, others=others)


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _read(
    context: dg.AssetExecutionContext,
    outputs: list[dg.Output],
    results: Mapping[dg.AssetCheckKey, dg.AssetCheckResult],
    target_path: Path,
    con: duckdb.DuckDBPyConnection,
    days: list[date],
) -> tuple[list[BuiltModel], list[CheckOutcome]]:
    from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

    run_manifest = _json(target_path / "manifest.json")
    compiled = {
        r["unique_id"]: r.get("compiled_code")
        for r in _json(target_path / "run_results.json").get("results", [])
    }
    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    partitioned_run = context.has_partition_key or context.has_partition_key_range
    start = date.fromisoformat(context.partition_key_range.start) if partitioned_run else None
    lineage_inputs = _LineageInputs(con, run_manifest, manifest, translator)
    models = [
        _built(context, o, run_manifest, target_path, con, days, start, lineage_inputs) for o in outputs
    ]

    by_key = {m.key: m for m in models}
    tests = []
    for key, result in results.items():
        test = run_manifest.get("nodes", {}).get(str(metadata_value(result.metadata.get("unique_id"))), {})
        model = by_key.get(key.asset_key)
        spec = context.assets_def.get_spec_for_check_key(key)
        sql = compiled.get(test.get("unique_id"))
        if model is None or model.event_time is None or spec.partitions_def is None or not sql:
            continue
        tests.append(
            DbtTest(key, spec.blocking, str(sql), test.get("config", {}), model.relation, model.event_time)
        )
    return models, evaluate_per_day(con, tests, days, {m.relation: m.rows for m in models}, context.log)


def _table_result(result: dg.AssetCheckResult, outcome: CheckOutcome) -> dg.AssetCheckResult:
    status = metadata_value(result.metadata.get("status"))
    return dg.AssetCheckResult(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=result.passed,
        severity=result.severity,
        description=f"dbt over the whole table: {status}; per day: {outcome.description()}",
        metadata={**result.metadata, "scope": TABLE_SCOPE},
    )


def emit(context: dg.AssetExecutionContext, gold: GoldReport) -> Iterator[Any]:
    """The step's events: each model's days then its output, then the checks (``report``)."""
    yield from gold.others
    for model in gold.models:
        record_days(context, model.key, model.per_day, multi_asset=True)
        yield model.output.with_metadata({**model.output.metadata, **model.metadata})
    yield from report(context, gold.outcomes, gold.results)


def _built(
    context: dg.AssetExecutionContext,
    output: dg.Output,
    run_manifest: Mapping[str, Any],
    target_path: Path,
    con: duckdb.DuckDBPyConnection,
    days: list[date],
    start: date | None,
    lineage_inputs: _LineageInputs,
) -> BuiltModel:
    key = context.assets_def.keys_by_output_name[output.output_name]
    node = run_manifest["nodes"][str(metadata_value(output.metadata.get("unique_id")))]
    relation = node["relation_name"]
    partitioned = context.assets_def.specs_by_key[key].partitions_def is not None or (
        context.assets_def.partitions_def is not None
    )
    event_time = microbatch_event_time(node) if partitioned else None
    columns = relation_columns(con, relation)
    table_rows = int(con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])
    model = BuiltModel(output=output, key=key, relation=relation, event_time=event_time)
    model.metadata["dagster/column_schema"] = column_schema(columns, node)
    if event_time is not None:
        model.rows = rows_per_day(con, relation, event_time, days)
        model.per_day = {day: {"dagster/row_count": n} for day, n in model.rows.items()}
        model.metadata[RUN_TOTALS] = dg.MetadataValue.json(
            {"table_rows": table_rows, "window_rows": sum(model.rows.values())}
        )
    else:  # the whole table is rebuilt; a partitioned one records its lookback days too
        model.metadata["dagster/row_count"] = table_rows
        if partitioned and start is not None:
            model.per_day = {day: {} for day in days if day < start}
    sql_path = compiled_sql_path(target_path, node)
    try:
        if sql_path is None:
            raise FileNotFoundError(f"no compiled SQL for {node['unique_id']} in {target_path}")
        model.metadata["dagster/column_lineage"] = column_lineage(
            sql_path.read_text(), lineage_inputs.schemas(), lineage_inputs.keys(), [c for c, _, _ in columns]
        )
    except Exception as error:  # lineage is a nicety: never fail a build for it, but say so
        context.log.warning(f"{key.to_user_string()}: no column lineage ({type(error).__name__}: {error})")
    return model


class _LineageInputs:
    """The schemas of every relation a model may read, and which asset each is (read once)."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, run_manifest: Mapping[str, Any], manifest: Any, translator: Any
    ):
        self._con, self._run, self._manifest, self._translator = con, run_manifest, manifest, translator
        self._schemas: dict[str, dict[str, str]] | None = None
        self._keys: dict[str, dg.AssetKey] | None = None

    def schemas(self) -> dict[str, dict[str, str]]:
        if self._schemas is None:
            self._schemas = {}
            for source in self._run.get("sources", {}).values():
                relation = source.get("relation_name")
                if not relation:
                    continue
                # A silver source is a view in the warehouse (gold/delta_views.py); a source of
                # dbt-duckdb's delta plugin exists only in dbt's process, so its Delta table says.
                columns = {n: t for n, t, _ in relation_columns(self._con, relation)} or delta_source_columns(
                    self._con, source
                )
                if columns:
                    self._schemas[relation] = columns
            for node in self._run.get("nodes", {}).values():
                if node.get("resource_type") == "model" and node.get("relation_name"):
                    columns = {n: t for n, t, _ in relation_columns(self._con, node["relation_name"])}
                    if columns:
                        self._schemas[node["relation_name"]] = columns
        return self._schemas

    def keys(self) -> dict[str, dg.AssetKey]:
        if self._keys is None:
            self._keys = {}
            for group in ("sources", "nodes"):
                for unique_id, node in self._run.get(group, {}).items():
                    if node.get("relation_name") and unique_id in self._manifest.get(group, {}):
                        self._keys[node["relation_name"]] = self._translator.get_asset_spec(
                            self._manifest, unique_id, None
                        ).key
        return self._keys
