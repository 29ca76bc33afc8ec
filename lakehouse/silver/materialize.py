"""One silver step: the contract's rules built before any write, the merge, then the quality
rules (great-expectations) and reconciliation on every day the run rewrote. The checks are
judged before the materialisation is recorded, so that each day's materialisation carries that
day's rows, flagged rows and rule figures, and each day's evaluation then targets it."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from lakehouse.assets.metadata import record_days, silver_days, silver_metadata
from lakehouse.assets.partitions import partition_window
from lakehouse.checks.outcome import report, with_metadata
from lakehouse.checks.quality import build_expectations, evaluate_rules
from lakehouse.checks.reconciliation import silver_reconciliation
from lakehouse.contracts.loader import LoadedContract
from lakehouse.days import days_between
from lakehouse.silver.build import build_range
from lakehouse.silver.day_counts import rows_and_flagged_per_day


def materialize_silver(
    context: dg.AssetExecutionContext, loaded: LoadedContract
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    contract, key = loaded.contract, context.asset_key
    try:
        build_expectations(contract)  # before any write: a rule that cannot run stops here
    except ValueError as error:
        raise dg.Failure(description=f"{loaded.path}: {error}; silver was not changed") from None
    start, end = partition_window(context)
    lake = context.resources.lake
    silver = lake.table("silver", contract.entity_name)
    result = build_range(
        contract,
        start=start,
        end=end,
        bronze=lake.table("bronze", contract.name),
        silver=silver,
        run_id=context.run_id,
        commit_metadata={"contract_version": loaded.version},
    )
    written = result.written
    context.log.info(
        f"{contract.entity_name} {start}..{end} (window from {result.window_start}): "
        f"{result.batch_rows} bronze rows, {written.inserted} inserted, {written.updated} updated, "
        f"{written.deleted} deleted, {result.flag_summary.flagged_rows} flagged"
    )
    days = days_between(result.window_start, result.window_end) if result.rows_by_day else []
    reconciliation = result.reconciliation
    outcomes = with_metadata(
        [
            *evaluate_rules(contract, silver, days, key),
            silver_reconciliation(
                reconciliation.expected,
                reconciliation.held,
                reconciliation.stale,
                days,
                key,
                "keys" if contract.silver.mode == "scd2" else "rows",
            ),
        ],
        contract_version=loaded.version,
    )
    if days:
        record_days(context, key, silver_days(rows_and_flagged_per_day(silver, days[0], days[-1]), outcomes))
    yield dg.MaterializeResult(metadata=silver_metadata(result))
    yield from report(context, outcomes)
