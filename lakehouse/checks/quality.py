"""Quality: the contract's rules run by great-expectations on each day a run wrote to silver.

great_expectations costs seconds to import, so it is imported here, when a check runs, never
when Dagster loads definitions. Each day is validated on its own (one in-memory batch from the
silver rows of that day), so a result says which day failed, with the evaluated and failing row
counts and up to five failing values. A ``warn`` rule with ``max_flagged_pct`` escalates to an
error on a day where more of its rows fail than that.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

import dagster as dg
import duckdb

from lakehouse.checks.outcome import ERROR, WARN, CheckOutcome, DayResult
from lakehouse.checks.specs import quality_check_name, rule_blocks
from lakehouse.contracts.model import QualityRule, SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.sql import day_range, ident
from lakehouse.tables.delta import partition_dataset
from lakehouse.tables.location import TableLocation

EXAMPLES = 5


def _expectation(rule: QualityRule, contract: SourceContract):
    import great_expectations.expectations as gxe

    class_name = "Expect" + "".join(part.capitalize() for part in rule.expect.split("_"))
    arguments = dict(rule.arguments)
    if rule.column:
        arguments["column"] = rule.column
        column = contract.column_map[rule.column]
        for bound in ("min_value", "max_value"):  # dates and timestamps arrive as ISO strings
            if column.column_type.is_temporal and isinstance(arguments.get(bound), str):
                parsed = datetime.fromisoformat(arguments[bound])
                arguments[bound] = parsed.date() if column.type == "date" else parsed
    return getattr(gxe, class_name)(**arguments)


def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no telemetry from a data platform
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def evaluate_rules(
    contract: SourceContract, silver: TableLocation, days: list[date], key: dg.AssetKey, contract_version: str
) -> list[CheckOutcome]:
    """One outcome per rule, with a result for every day in ``days``."""
    if not contract.quality:
        return []
    frames = _silver_days(contract, silver, days)
    context = _context()
    batches = (
        context.data_sources.add_pandas("silver")
        .add_dataframe_asset(contract.entity_name)
        .add_batch_definition_whole_dataframe("day")
    )
    expectations = [(rule, _expectation(rule, contract)) for rule in contract.quality]
    results: dict[str, list[DayResult]] = {quality_check_name(rule): [] for rule, _ in expectations}
    for day in days:
        batch = batches.get_batch(batch_parameters={"dataframe": frames[day]})
        for rule, expectation in expectations:
            outcome = batch.validate(
                expectation, result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES}
            )
            results[quality_check_name(rule)].append(_day_result(day, rule, outcome))
    return [
        CheckOutcome(
            asset_key=key,
            name=quality_check_name(rule),
            blocking=rule_blocks(rule),
            days=results[quality_check_name(rule)],
            metadata={"expectation": rule.expect, "contract_version": contract_version},
        )
        for rule, _ in expectations
    ]


def _silver_days(contract: SourceContract, silver: TableLocation, days: list[date]) -> dict[date, Any]:
    """The silver rows of each day, as pandas frames of the columns the rules read."""
    import pandas as pd

    columns = sorted(
        {
            c
            for r in contract.quality
            for c in (
                [r.column] if r.column else r.arguments.get("column_list", [c.name for c in contract.columns])
            )
        }
        | {EVENT_DATE}
    )
    dataset = partition_dataset(silver)
    frames = {day: pd.DataFrame({c: pd.Series(dtype="object") for c in columns}) for day in days}
    if dataset is None:
        return frames
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("silver", dataset)
        data = con.execute(
            f"SELECT {', '.join(ident(c) for c in columns)} FROM silver "
            f"WHERE {day_range(EVENT_DATE, min(days), max(days))}"
        ).df()
    finally:
        con.close()
    for day, frame in data.groupby(EVENT_DATE):
        day = day.date() if hasattr(day, "date") else day
        frames[day] = frame.reset_index(drop=True)
    return frames


def _day_result(day: date, rule: QualityRule, outcome) -> DayResult:
    result = outcome.result or {}
    evaluated = result.get("element_count")
    failing = result.get("unexpected_count")
    failing_pct = result.get("unexpected_percent")
    examples = [_plain(v) for v in (result.get("partial_unexpected_list") or [])[:EXAMPLES]]
    metadata: dict[str, Any] = {
        "evaluated_rows": evaluated,
        "failing_rows": failing,
        "failing_pct": None if failing_pct is None else round(failing_pct, 3),
    }
    if examples:
        metadata["failing_examples"] = dg.MetadataValue.json(examples)
    if "observed_value" in result:
        metadata["observed_value"] = _plain(result["observed_value"])
    passed = bool(outcome.success)
    severity = ERROR if rule.severity == "error" else WARN
    summary = ""
    if not passed:
        summary = (
            f"{rule.rule_id}: {failing} of {evaluated} rows ({failing_pct:.2f}%)"
            if failing is not None and evaluated
            else f"{rule.rule_id}: observed {result.get('observed_value')}"
        )
    escalated = (
        rule.max_flagged_pct is not None and failing_pct is not None and failing_pct > rule.max_flagged_pct
    )
    if escalated:
        severity = ERROR
        summary += f", more than max_flagged_pct={rule.max_flagged_pct:g}%"
    return DayResult(day.isoformat(), passed=passed, severity=severity, metadata=metadata, summary=summary)


def _plain(value: Any) -> Any:
    """JSON-friendly: decimals, dates and numpy scalars as plain values."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
