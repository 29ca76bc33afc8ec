"""One bronze step: plan, judge, ingest, record, check.

A run with no day in the source's history yields nothing: no materialisation, no check result.
An ingest interrupted between its bronze and quarantine commits is undone first. Before anything
is written the circuit breaker judges the plan (source reachable and readable, files for every
day, layouts and tables matching the contract, no rows whose files are gone, the same PII key);
when it trips, the step fails with the reasons and writes nothing. After the write, the schema
contract, reconciliation and volume checks report on every day the run rewrote. They are judged
before the materialisation is recorded, so that each day's materialisation carries that day's
numbers (rows, quarantined, the volume change) and each day's evaluation then targets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg

from lakehouse.assets.metadata import (
    as_whole_table,
    bronze_days,
    bronze_metadata,
    move_run_tables,
    record_days,
)
from lakehouse.assets.partitions import partition_window
from lakehouse.bronze import dead_letters
from lakehouse.bronze.ingest import BronzeResult, LandingReadError, PairWriteError, ingest_planned
from lakehouse.bronze.pairing import PairMismatchError, repair_unpaired
from lakehouse.bronze.pii import key_fingerprint
from lakehouse.bronze.pii_keys import ROTATION_TAG
from lakehouse.bronze.preflight import BronzePlan, plan_bronze
from lakehouse.bronze.run_config import BronzeRunConfig
from lakehouse.checks.outcome import CheckOutcome, report, with_metadata
from lakehouse.checks.preconditions import circuit_breaker, schema_contract
from lakehouse.checks.reconciliation import bronze_reconciliation
from lakehouse.checks.specs import require_asset_selected, selected_checks
from lakehouse.checks.volume import volume
from lakehouse.checks.whole import whole_table, whole_volume
from lakehouse.contracts.loader import LoadedContract
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.days import restated_days
from lakehouse.extract.step import extract_step
from lakehouse.tables.location import TableLocation
from lakehouse.tables.stats import rows_per_day


def materialize_bronze(
    context: dg.AssetExecutionContext, loaded: LoadedContract, config: BronzeRunConfig
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    contract, key = loaded.contract, context.asset_key
    if contract.partitions.partitioned:
        start, end = partition_window(context)
        if restated_days(contract, start, end) is None:
            context.log.info(
                f"bronze/{contract.name}: {start}..{end} is outside the source's history ({history(contract)}); "
                "nothing to load, nothing recorded"
            )
            return
    else:  # refreshed whole: the plan dates the files it finds
        start = end = date.today()
    require_asset_selected(context)
    lake = context.resources.lake
    bronze, quarantine = lake.table("bronze", contract.name), lake.table("quarantine", contract.name)
    try:
        repaired = repair_unpaired(bronze, quarantine, contract.name)
    except PairMismatchError as error:
        raise dg.Failure(description=str(error)) from None
    if repaired:
        context.log.warning(repaired)
    pii_key = context.resources.pii.key if contract.pii_columns else None
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
        pii_fingerprint=key_fingerprint(pii_key) if pii_key else None,
        rotating_to=context.run.tags.get(ROTATION_TAG),
    )
    if plan is None:  # in the source's history, but every day of it expired by retention
        context.log.warning(
            f"bronze/{contract.name}: {start}..{end} is past the contract's retention (landing_days "
            f"{contract.retention.landing_days}, bronze_days {contract.retention.bronze_days}): its landing files "
            "may be deleted, so bronze keeps those days as they are; nothing loaded, nothing recorded"
        )
        return
    if plan.expired is not None:
        context.log.warning(
            f"bronze/{contract.name}: {plan.expired[0]}..{plan.expired[1]} is past the contract's retention "
            "(its landing files may be deleted): bronze keeps those days as they are and loads "
            f"{plan.first}..{plan.last} only"
        )
    breaker = _fold(plan, circuit_breaker(plan, key))
    if not breaker.passed:
        entry = dead_letters.record_problems(context, contract.name, start, end, plan.problems)
        yield from report(  # nothing is materialised: the days target what they held before
            context,
            selected_checks(
                context,
                with_metadata(
                    [breaker, _fold(plan, schema_contract(plan, key))], contract_version=loaded.version
                ),
            ),
        )
        raise dg.Failure(
            description=f"bronze/{contract.name} {start}..{end}: circuit breaker tripped, nothing was written: "
            + "; ".join(p.message for p in plan.problems)
            + (f". Dead letter {entry.id}: {dead_letters.describe_next(entry)}." if entry else "")
        )

    try:
        result = ingest_planned(
            plan,
            bronze=bronze,
            quarantine=quarantine,
            pii_key=pii_key,
            run_id=context.run_id,
            commit_metadata={"contract_version": loaded.version},
            vault=context.resources.vault.vault() if contract.tokenized_columns else None,
        )
    except PairWriteError as error:
        raise dg.Failure(description=f"bronze/{contract.name}: {error}") from None
    except LandingReadError as error:  # a file went unreadable after the plan (I/O, a timeout)
        entry = dead_letters.record(
            context, contract.name, start, end, kind="unreadable", error=str(error), errors=[error]
        )
        raise dg.Failure(
            description=f"bronze/{contract.name} {start}..{end}: {error}; nothing was written"
            + (f". Dead letter {entry.id}: {dead_letters.describe_next(entry)}." if entry else ".")
        ) from None
    # Bronze committed: only now may the watermark move, and the days' dead letters resolve.
    if extraction is not None:
        extraction.commit(context.run_id, result.restated_start, result.end)
    elif contract.partitions.partitioned:
        dead_letters.resolve(context, contract.name, result.restated_start, result.end)
    else:  # a whole refresh covers every day the source ever failed
        dead_letters.resolve(context, contract.name, date.min, date.max)
    _log(context, contract.name, result)
    outcomes = with_metadata(
        _checks(plan, result, breaker, key, bronze, quarantine), contract_version=loaded.version
    )
    extracted = extraction.metadata() if extraction is not None else {}
    metadata = {**bronze_metadata(result), **_receipt(result, repaired), **extracted}
    if contract.partitions.partitioned:
        per_day = move_run_tables(metadata, bronze_days(result, outcomes))
        record_days(context, key, per_day, multi_asset=True)
    if not contract.partitions.partitioned:
        metadata = as_whole_table(metadata, result.rows_written)
    yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    yield from report(context, selected_checks(context, outcomes))


def history(contract: SourceContract) -> str:
    partitions = contract.partitions
    return f"{partitions.start}..{partitions.end}" if partitions.end else f"from {partitions.start}"


def _receipt(result: BronzeResult, repaired: str | None) -> dict[str, Any]:
    """What the run accepted or undid, beside its counts: files withdrawn, a repaired write."""
    receipt: dict[str, Any] = {}
    if result.withdrawn:
        receipt["rows_withdrawn"] = sum(w.total for w in result.withdrawn)
        receipt["withdrawn_files"] = dg.MetadataValue.json({w.file: w.total for w in result.withdrawn})
    if repaired:
        receipt["repaired"] = repaired
    return receipt


def _log(context: dg.AssetExecutionContext, name: str, result: BronzeResult) -> None:
    context.log.info(
        f"{name} {result.restated_start}..{result.end}: read {result.rows_read} rows from "
        f"{len(result.files)} files, wrote {result.rows_written}, quarantined {result.rows_quarantined}"
    )
    if result.vault_entries:
        context.log.info(f"{name}: {result.vault_entries} new token(s) stored, encrypted, in the token vault")
    if result.rescued_columns:
        context.log.warning(
            f"{name}: fields not in the contract kept in _rescued_data: {result.rescued_columns}"
        )
    for withdrawn in result.withdrawn:  # accepted with allow_missing_files: the receipt
        context.log.warning(
            f"{name}: {withdrawn.file} is gone from landing; its {withdrawn.total} row(s) of "
            f"{', '.join(str(d) for d in sorted(withdrawn.rows))} were dropped from bronze and quarantine "
            "(allow_missing_files), and leave silver and gold with the next silver run over those days"
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
    # Not judged: lookback days with nothing read (before the source's data begins), and any
    # empty day of a source whose contract says empty days are normal.
    sparse = plan.contract.extract.allow_empty_days
    nothing_read = {d for d, c in result.days.items() if (d < plan.start or sparse) and c.read == 0}
    quarantined = rows_per_day(quarantine, "_partition_date")
    outcomes = [
        breaker,
        _fold(plan, schema_contract(plan, key, result.files)),
        _fold(plan, bronze_reconciliation(read, written, quarantined, plan.days, key)),
    ]
    if plan.contract.partitions.partitioned:
        return [*outcomes, volume(written, plan.days, plan.contract.volume, key, unjudged=nothing_read)]
    return [*outcomes, whole_volume(written, plan.contract.volume, key)]


def _fold(plan: BronzePlan, outcome: CheckOutcome) -> CheckOutcome:
    """A table refreshed whole has one result per check, not one per day."""
    return outcome if plan.contract.partitions.partitioned else whole_table(outcome)
