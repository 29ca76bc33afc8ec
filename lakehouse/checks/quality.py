"""Quality: the contract's rules run by great-expectations on each day a run wrote to silver.

great_expectations costs seconds to import, so it is imported here, when a check runs, never
when Dagster loads definitions. Each day is validated on its own (one in-memory batch), so a
result says which day failed, with the evaluated and failing row counts and up to five failing
values. The rows of a day are its silver rows; for an SCD2 dimension, the versions valid at the
end of that day (the dimension as that day's snapshot left it).

Percentages are failing rows over the day's rows (great-expectations' own percentage leaves
nulls out of the denominator). A ``warn`` rule with ``max_flagged_pct`` escalates to a blocking
error on a day where more of its rows fail than that, whatever ``mostly`` lets pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from lakehouse.checks.outcome import ERROR, WARN, CheckOutcome, DayResult
from lakehouse.checks.specs import quality_check_name, rule_blocks
from lakehouse.contracts.model import QualityRule, SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.tables.location import TableLocation
from lakehouse.tables.scan import register_scan
from lakehouse.tables.sql import ident

if TYPE_CHECKING:
    from deltalake import DeltaTable

EXAMPLES = 5


def _expectation(rule: QualityRule, contract: SourceContract):
    import great_expectations.expectations as gxe
    import pandas as pd

    class_name = "Expect" + "".join(part.capitalize() for part in rule.expect.split("_"))
    arguments = dict(rule.arguments)
    if rule.column:
        arguments["column"] = rule.column
        column = contract.column_map[rule.column]
        for bound in ("min_value", "max_value"):  # dates and timestamps arrive as ISO strings
            if not (column.column_type.is_temporal and isinstance(arguments.get(bound), str)):
                continue
            if column.type == "date":  # the frame holds datetime.date objects
                arguments[bound] = date.fromisoformat(arguments[bound][:10])
                continue
            # Compared with pandas' UTC timestamps: naive bounds are read in the source's zone.
            value = pd.Timestamp(arguments[bound])
            if value.tzinfo is None:
                value = value.tz_localize(contract.partitions.timezone)
            arguments[bound] = value.tz_convert("UTC")
    return getattr(gxe, class_name)(**arguments)


def build_expectations(contract: SourceContract) -> list[tuple[QualityRule, Any]]:
    """great-expectations' objects for the contract's rules.

    The contract's load-time checks know the arguments' names, types and ranges (without
    importing great_expectations); great-expectations has the last word on their values. The
    silver step builds them before it writes, so a rule it refuses stops the run with the rule
    named and silver unchanged, instead of failing after the merge with no check results.
    """
    built = []
    for index, rule in enumerate(contract.quality):
        try:
            built.append((rule, _expectation(rule, contract)))
        except Exception as error:  # pydantic's ValidationError and great-expectations' own
            reason = " ".join(str(error).split())
            raise ValueError(
                f"quality[{index}] ({rule.expect}): great-expectations refuses it: {reason}"
            ) from None
    return built


def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no telemetry from a data platform
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # The batch fingerprint great-expectations hashes every frame for (twice a validation) is a
    # marker nothing here reads; it skips it itself for frames over 1 GB. Hashing a day's million
    # rows cost a quarter of the validation.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def evaluate_rules(
    contract: SourceContract,
    silver: TableLocation,
    days: Sequence[date | None],
    key: dg.AssetKey,
    *,
    table: DeltaTable | None = None,
) -> list[CheckOutcome]:
    """One outcome per rule, with a result for every day in ``days`` (``[None]``: one result
    for the whole table, a source refreshed whole). ``table``: silver as the step's write left
    it, else opened here."""
    if not contract.quality or not days:
        return []
    import great_expectations as gx

    context = _context()
    batches = (
        context.data_sources.add_pandas("silver")
        .add_dataframe_asset(contract.entity_name)
        .add_batch_definition_whole_dataframe("day")
    )
    expectations = build_expectations(contract)
    # One suite per day, not one validation per rule: great-expectations then computes the
    # metrics rules share once (about 2.5x faster on a million rows).
    # A suite holds an expectation once: rules that differ only in severity or name share one.
    suite = context.suites.add(gx.ExpectationSuite(name=contract.entity_name))
    for _, expectation in expectations:
        suite.add_expectation(expectation)
    ids = {_identity(e): e.id for e in suite.expectations}
    suite_id = [ids[_identity(expectation)] for _, expectation in expectations]
    results: dict[str, list[DayResult]] = {quality_check_name(rule): [] for rule, _ in expectations}
    for day, frame in _silver_days(contract, silver, table, days):  # one day's frame in memory at a time
        batch = batches.get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(
            suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES}
        )
        by_id = {outcome.expectation_config.id: outcome for outcome in validation.results}
        for (rule, _), expectation_id in zip(expectations, suite_id, strict=True):
            outcome = by_id[expectation_id]
            results[quality_check_name(rule)].append(_day_result(day, rule, outcome, len(frame)))
    return [
        CheckOutcome(
            asset_key=key,
            name=quality_check_name(rule),
            blocking=rule_blocks(rule),
            days=results[quality_check_name(rule)],
            metadata={"expectation": rule.expect},
        )
        for rule, _ in expectations
    ]


def _identity(expectation: Any) -> str:
    """What makes two expectations the same one in a suite: their type and arguments."""
    configuration = expectation.configuration
    return f"{configuration.type}:{sorted(configuration.kwargs.items())!r}"


def _columns(contract: SourceContract) -> list[str]:
    """The columns the rules read; the day column alone when they read none (table-level rules
    count rows)."""
    needed: set[str] = set()
    for rule in contract.quality:
        needed.update([rule.column] if rule.column else rule.arguments.get("column_list", []))
    return sorted(needed) or [EVENT_DATE]


def _selected(contract: SourceContract, columns: list[str]) -> str:
    """The columns as the frame holds them. ``int32`` widened to ``int64``: great-expectations'
    pandas ``between`` is vectorised for int64 and float64 only, and calls a Python function per
    row on any other dtype (at a million rows, most of the whole validation's time)."""
    return ", ".join(
        f"CAST({ident(c)} AS BIGINT) AS {ident(c)}"
        if c in contract.column_map and contract.column_map[c].type == "int32"
        else ident(c)
        for c in columns
    )


def _silver_days(
    contract: SourceContract, silver: TableLocation, table: DeltaTable | None, days: Sequence[date | None]
) -> Iterator[tuple[date | None, Any]]:
    """Each day and its rows, as a pandas frame of the columns the rules read (day None: all),
    in the order of ``days``. Each day is its own query (its partition's files only), made when
    the caller asks for it: one day's frame is in memory at a time, not the window's."""
    import pandas as pd

    columns = _columns(contract)
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    dated = [d for d in days if d is not None]
    selected = _selected(contract, columns)
    zone = ZoneInfo(contract.partitions.timezone)
    con = duckdb.connect()
    try:
        window = (EVENT_DATE, min(dated), max(dated)) if dated else None
        if not register_scan(con, "silver", silver, window, table=table):
            for day in days:
                yield day, empty
            return
        con.execute("SET TimeZone = 'UTC'")
        for day in days:
            parameters: list[object] = []
            if day is None:
                query = f"SELECT {selected} FROM silver"
            elif contract.silver.mode == "scd2":
                day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
                query = f"SELECT {selected} FROM silver WHERE valid_from < ? AND (valid_to IS NULL OR valid_to >= ?)"
                parameters = [day_end, day_end]
            else:
                query, parameters = f"SELECT {selected} FROM silver WHERE {EVENT_DATE} = ?", [day]
            yield day, con.execute(query, parameters).df(date_as_object=True)
    finally:
        con.close()


def _day_result(day: date | None, rule: QualityRule, outcome, rows: int) -> DayResult:
    result = outcome.result or {}
    failing = result.get("unexpected_count")
    failing_pct = None if failing is None or not rows else 100.0 * failing / rows
    metadata: dict[str, Any] = {
        "evaluated_rows": rows,
        "failing_rows": failing,
        "failing_pct": None if failing_pct is None else round(failing_pct, 3),
    }
    examples = [_plain(v) for v in (result.get("partial_unexpected_list") or [])[:EXAMPLES]]
    if examples:
        metadata["failing_examples"] = dg.MetadataValue.json(examples)
    if "observed_value" in result:
        metadata["observed_value"] = _plain(result["observed_value"])
    error = (outcome.exception_info or {}).get("exception_message") if outcome.exception_info else None
    if error:  # great-expectations could not evaluate the rule: say why, never pass it
        metadata["error"] = error
        return DayResult(
            day.isoformat() if day else None,
            passed=False,
            severity=ERROR if rule_blocks(rule) else WARN,
            metadata=metadata,
            summary=f"{rule.rule_id}: could not be evaluated: {error}",
        )

    escalated = (
        rule.max_flagged_pct is not None and failing_pct is not None and failing_pct > rule.max_flagged_pct
    )
    passed = bool(outcome.success) and not escalated
    summary = ""
    if not passed:
        summary = (
            f"{rule.rule_id}: {failing} of {rows} rows ({failing_pct:.2f}%)"
            if failing_pct is not None
            else f"{rule.rule_id}: observed {_plain(result.get('observed_value'))}"
        )
    if escalated:
        summary += f", more than max_flagged_pct={rule.max_flagged_pct:g}%"
    severity = ERROR if rule.severity == "error" or escalated else WARN
    return DayResult(
        day.isoformat() if day else None, passed=passed, severity=severity, metadata=metadata, summary=summary
    )


def _plain(value: Any) -> Any:
    """JSON-friendly: decimals, dates and numpy scalars as plain values."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
