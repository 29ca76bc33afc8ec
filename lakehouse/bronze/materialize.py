"""One bronze step: plan, judge, ingest, record, check.

Before anything is written the circuit breaker judges the plan (source reachable, files for
every day, layouts and tables matching the contract, no rows whose files are gone); when it
trips, the step fails with the reasons and writes nothing. After the write, the schema contract,
reconciliation and volume checks report on every day the run rewrote.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from lakehouse.assets.metadata import bronze_metadata, record_restated_days
from lakehouse.assets.partitions import partition_window
from lakehouse.bronze.ingest import BronzeResult, ingest_planned
from lakehouse.bronze.preflight import BronzePlan, plan_bronze
from lakehouse.bronze.run_config import BronzeRunConfig
from lakehouse.checks.outcome import CheckOutcome, report, with_metadata
from lakehouse.checks.preconditions import circuit_breaker, schema_contract
from lakehouse.checks.reconciliation import bronze_reconciliation
from lakehouse.checks.volume import volume
from lakehouse.contracts.loader import LoadedContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.extract.step import extract_step
from lakehouse.tables.location import TableLocation
from lakehouse.tables.stats import rows_per_day


def materialize_bronze(
    context: dg.AssetExecutionContext, loaded: LoadedContract, config: BronzeRunConfig
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    contract, key = loaded.contract, context.asset_key
    start, end = partition_window(context)
    lake = context.resources.lake
    bronze, quarantine = lake.table("bronze", contract.name), lake.table("quarantine", contract.name)
    extraction = extract_step(context, loaded, start, end)  # postgres/http: read into landing first
    plan = plan_bronze(
        contract,
        start=start,
        end=end,
        landing_root=lake.landing(),
        bronze=bronze,
        quarantine=quarantine,
        allow_missing_files=config.allow_missing_files,
        allow_empty_days=config.allow_empty_days,
    )
    if plan is None:
        yield dg.MaterializeResult(metadata={"note": f"{start}..{end} precede {contract.name}'s history"})
        return
    breaker = circuit_breaker(plan, key)
    if not breaker.passed:
        yield from report(
            context,
            with_metadata([breaker, schema_contract(plan, key)], contract_version=loaded.version),
            days_first=True,
        )
        raise dg.Failure(
            description=f"bronze/{contract.name}: circuit breaker tripped, nothing was written: "
            + "; ".join(p.message for p in plan.problems)
        )

    result = ingest_planned(
        plan,
        bronze=bronze,
        quarantine=quarantine,
        pii_key=context.resources.pii.key if contract.pii_columns else None,
        run_id=context.run_id,
        commit_metadata={"contract_version": loaded.version},
    )
    if extraction is not None:  # bronze committed: only now may the watermark move
        extraction.commit(context.run_id, result.restated_start, result.end)
    _log(context, contract.name, result)
    # Before the run's own materialisations, so that the latest one (which carries the data
    # version Dagster's provenance tracking compares with) is of a partition of the run.
    restated = {d: c for d, c in result.days.items() if d < start}
    record_restated_days(
        context, key, {d: {"rows": c.written, "rows_quarantined": c.quarantined} for d, c in restated.items()}
    )
    extracted = extraction.metadata() if extraction is not None else {}
    yield dg.MaterializeResult(metadata={**bronze_metadata(result), **extracted})
    outcomes = _checks(plan, result, breaker, key, bronze, quarantine)
    yield from report(context, with_metadata(outcomes, contract_version=loaded.version))


def _log(context: dg.AssetExecutionContext, name: str, result: BronzeResult) -> None:
    context.log.info(
        f"{name} {result.restated_start}..{result.end}: read {result.rows_read} rows from "
        f"{len(result.files)} files, wrote {result.rows_written}, quarantined {result.rows_quarantined}"
    )
    if result.rescued_columns:
        context.log.warning(
            f"{name}: fields not in the contract kept in _rescued_data: {result.rescued_columns}"
        )


def _checks(
    plan: BronzePlan,
    result: BronzeResult,
    breaker: CheckOutcome,
    key: dg.AssetKey,
    bronze: TableLocation,
    quarantine: TableLocation,
) -> list[CheckOutcome]:
    """The checks after the write, counted on the written tables (the Delta logs)."""
    written = rows_per_day(bronze, EVENT_DATE)
    read = {d: c.read for d, c in result.days.items()}
    nothing_read = {d for d, c in result.days.items() if d < plan.start and c.read == 0}
    return [
        breaker,
        schema_contract(plan, key, result.files),
        bronze_reconciliation(read, written, rows_per_day(quarantine, "_partition_date"), plan.days, key),
        volume(written, plan.days, plan.contract.volume, key, unjudged=nothing_read),
    ]
