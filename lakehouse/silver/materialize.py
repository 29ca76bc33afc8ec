"""One silver step: the contract's rules built before any write, the merge, then the quality
rules (great-expectations) and reconciliation on every day the run rewrote. The checks are
judged before the materialisation is recorded, so that each day's materialisation carries that
day's rows, flagged rows and rule figures, and each day's evaluation then targets it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg

from lakehouse.assets.metadata import (
    as_whole_table,
    move_run_tables,
    record_days,
    silver_days,
    silver_metadata,
)
from lakehouse.assets.partitions import partition_window
from lakehouse.bronze.pii_keys import FINGERPRINT
from lakehouse.checks.outcome import report, with_metadata
from lakehouse.checks.quality import build_expectations, evaluate_rules
from lakehouse.checks.reconciliation import silver_reconciliation
from lakehouse.checks.specs import require_asset_selected, selected_checks
from lakehouse.checks.whole import whole_table
from lakehouse.contracts.loader import LoadedContract
from lakehouse.days import days_between, restated_days
from lakehouse.silver.build import build_range, build_whole
from lakehouse.tables.history import latest_with


def materialize_silver(
    context: dg.AssetExecutionContext, loaded: LoadedContract
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    contract, key = loaded.contract, context.asset_key
    whole = not contract.partitions.partitioned  # refreshed whole: no days to run for
    start, end = (date.min, date.max) if whole else partition_window(context)
    if not whole and restated_days(contract, start, end) is None:  # no day of its history: record nothing
        context.log.info(f"silver/{contract.entity_name}: {start}..{end} is outside the source's history")
        return
    require_asset_selected(context)
    try:
        build_expectations(contract)  # before any write: a rule that cannot run stops here
    except ValueError as error:
        raise dg.Failure(description=f"{loaded.path}: {error}; silver was not changed") from None
    lake = context.resources.lake
    silver, bronze = lake.table("silver", contract.entity_name), lake.table("bronze", contract.name)
    commit_metadata = {"contract_version": loaded.version}
    if contract.pii_columns:  # silver's tokens are bronze's: record the key they were made with
        tokenised = latest_with(bronze, FINGERPRINT)
        if tokenised is not None:
            commit_metadata[FINGERPRINT] = tokenised.get(FINGERPRINT) or ""
    if whole:
        result = build_whole(
            contract, bronze=bronze, silver=silver, run_id=context.run_id, commit_metadata=commit_metadata
        )
    else:
        result = build_range(
            contract,
            start=start,
            end=end,
            bronze=bronze,
            silver=silver,
            quarantine=lake.table("quarantine", contract.name),
            run_id=context.run_id,
            commit_metadata=commit_metadata,
        )
    written = result.written
    context.log.info(
        f"{contract.entity_name} {'whole table' if whole else f'{start}..{end}'} (window from {result.window_start}): "
        f"{result.batch_rows} bronze rows, {written.inserted} inserted, {written.updated} updated, "
        f"{written.deleted} deleted, {result.flag_summary.flagged_rows} flagged"
    )
    for file, count in result.withdrawn.items():  # the receipt of an accepted loss
        context.log.warning(
            f"{contract.entity_name}: {count} row(s) deleted: they came only from {file}, withdrawn from landing"
        )
    receipt: dict[str, Any] = {}
    if result.withdrawn:
        receipt["rows_withdrawn"] = sum(result.withdrawn.values())
        receipt["withdrawn_files"] = dg.MetadataValue.json(result.withdrawn)

    days = days_between(result.window_start, result.window_end) if result.rows_by_day else []
    reconciliation = result.reconciliation
    reconciled = silver_reconciliation(
        reconciliation.expected,
        reconciliation.held,
        reconciliation.stale,
        days,
        key,
        "keys" if contract.silver.mode == "scd2" else "rows",
    )
    if whole:  # one result per check for the table
        outcomes = [
            *evaluate_rules(contract, silver, [None], key, table=result.table),
            whole_table(reconciled),
        ]
    else:
        outcomes = [*evaluate_rules(contract, silver, days, key, table=result.table), reconciled]
    outcomes = with_metadata(outcomes, contract_version=loaded.version)
    metadata = {**silver_metadata(result), **receipt}
    if days and not whole:
        counts = {day: (result.rows_by_day[day], result.flagged_by_day[day]) for day in days}
        record_days(context, key, move_run_tables(metadata, silver_days(counts, outcomes)), multi_asset=True)
    if whole:
        metadata = as_whole_table(metadata, sum(result.rows_by_day.values()))
    yield dg.MaterializeResult(asset_key=key, metadata=metadata)
    yield from report(context, selected_checks(context, outcomes))
