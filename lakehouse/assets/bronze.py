"""Bronze assets: one per contract, landing files → typed Delta table + quarantine, with checks.

Before anything is written the circuit breaker judges the plan (source reachable, files for
every day, layouts and tables matching the contract, no rows whose files are gone); when it
trips, the run fails with the reasons and writes nothing. After the write, the schema contract,
reconciliation and volume checks report on every day the run rewrote.
"""

import dagster as dg
from pydantic import Field

from lakehouse.assets.metadata import bronze_metadata, column_schema, record_restated_days
from lakehouse.assets.naming import bronze_key, landing_key, owners
from lakehouse.assets.partitions import partition_window
from lakehouse.checks.specs import bronze_check_specs
from lakehouse.contracts.loader import LoadedContract


class BronzeRunConfig(dg.Config):
    """Set in the launchpad (or run config) for one run; the defaults are the safe choice."""

    allow_missing_files: bool = Field(
        default=False,
        description="Rewrite days whose rows came from landing files that are gone, accepting that "
        "those rows disappear from bronze. Without it such a run stops and names the files.",
    )
    allow_empty_days: bool = Field(
        default=False,
        description="Load a day of the run that has no landing files (as empty). Without it the circuit "
        "breaker stops the run: the source may be late or down.",
    )


def bronze_asset(loaded: LoadedContract, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    contract = loaded.contract
    needs_pii_key = bool(contract.pii_columns)
    key = bronze_key(contract)

    @dg.asset(
        key=key,
        deps=[landing_key(contract)],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=bronze_check_specs(contract, key, partitions_def),
        group_name="bronze",
        kinds={"delta", "duckdb"},
        owners=owners(contract),
        code_version=loaded.version,
        description=f"{contract.description} Source-faithful rows typed by the contract, partitioned by "
        f"event date; rows that fail parsing or typing go to quarantine. A run also rewrites the "
        f"{contract.partitions.lookback_days} days before its own, where late rows land.".strip(),
        metadata={
            "dagster/column_schema": column_schema(contract),
            "contract": str(loaded.path),
            "pii_columns": dg.MetadataValue.json(contract.pii_columns),
        },
        required_resource_keys={"lake", "pii"} if needs_pii_key else {"lake"},
    )
    def _bronze(context: dg.AssetExecutionContext, config: BronzeRunConfig):
        # DuckDB, Delta and the checks load for runs only, not with the definitions.
        from lakehouse.checks.outcome import report, with_metadata
        from lakehouse.checks.preconditions import circuit_breaker, schema_contract
        from lakehouse.checks.reconciliation import bronze_reconciliation
        from lakehouse.checks.volume import volume
        from lakehouse.ingest.bronze import ingest_planned
        from lakehouse.ingest.preflight import plan_bronze
        from lakehouse.tables.stats import rows_per_day

        start, end = partition_window(context)
        lake = context.resources.lake
        bronze, quarantine = lake.table("bronze", contract.name), lake.table("quarantine", contract.name)
        plan = plan_bronze(
            contract,
            start=start,
            end=end,
            landing_root=lake.landing_root,
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
            pii_key=context.resources.pii.key if needs_pii_key else None,
            run_id=context.run_id,
            commit_metadata={"contract_version": loaded.version},
        )
        context.log.info(
            f"{contract.name} {result.restated_start}..{end}: read {result.rows_read} rows from "
            f"{len(result.files)} files, wrote {result.rows_written}, quarantined {result.rows_quarantined}"
        )
        if result.rescued_columns:
            context.log.warning(
                f"{contract.name}: fields not in the contract kept in _rescued_data: {result.rescued_columns}"
            )
        # Before the run's own materialisations, so that the latest one (which carries the data
        # version Dagster's provenance tracking compares with) is of a partition of the run.
        record_restated_days(
            context,
            key,
            {
                d: {"rows": c.written, "rows_quarantined": c.quarantined}
                for d, c in result.days.items()
                if d < start
            },
        )
        yield dg.MaterializeResult(metadata=bronze_metadata(result))

        written = rows_per_day(bronze, "_event_date")
        outcomes = [
            breaker,
            schema_contract(plan, key, result.files),
            bronze_reconciliation(
                {d: c.read for d, c in result.days.items()},
                written,
                rows_per_day(quarantine, "_partition_date"),
                plan.days,
                key,
            ),
            volume(
                written,
                plan.days,
                contract.volume,
                key,
                unjudged={d for d, c in result.days.items() if d < start and c.read == 0},
            ),
        ]
        yield from report(context, with_metadata(outcomes, contract_version=loaded.version))

    return _bronze
