"""Assembling the Dagster definitions from the contracts, the dbt project and the settings.

``build_definitions`` is a function of its settings so that tests and tools can build the
platform over any directory; ``lakehouse.definitions`` calls it with the environment's.
"""

from __future__ import annotations

import logging
import os
import warnings

import dagster as dg

from lakehouse.assets.bronze import bronze_asset
from lakehouse.assets.gold import gold_assets
from lakehouse.assets.landing import landing_spec
from lakehouse.assets.metadata import markdown_table
from lakehouse.assets.partitions import calendar
from lakehouse.assets.reports import slo_sensor, slo_spec
from lakehouse.assets.silver import silver_asset
from lakehouse.checks.freshness import freshness_checks, freshness_sensor
from lakehouse.checks.ledger import ledger_sensor
from lakehouse.contracts.loader import ContractSet, load_contracts
from lakehouse.resources import DuckDBWarehouse, LakeStorage, PiiTokenizer
from lakehouse.resources.dbt import dbt_resource
from lakehouse.settings import Settings

log = logging.getLogger("lakehouse")

STRICT_ENV = "LAKEHOUSE_STRICT_CONTRACTS"

# Known, deliberate uses of APIs Dagster flags (ARCHITECTURE.md says why each is the right one):
# single-run backfills (beta), per-day check evaluations (preview), and the partition-aware
# freshness checks that FreshnessPolicy, which does not see partitions, supersedes.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")
warnings.filterwarnings(
    "ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*"
)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning, message=".*freshness_checks.*")


class InvalidContractsError(Exception):
    pass


def report_contract_errors(contracts: ContractSet, strict: bool) -> None:
    """Bad files are isolated (the other sources keep running) but never quiet."""
    if not contracts.errors:
        return
    text = "\n".join(error.describe() for error in contracts.errors)
    if strict:
        raise InvalidContractsError(text)
    log.error(
        "Skipped %d invalid source contract(s); their assets are not loaded:\n%s", len(contracts.errors), text
    )


EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor}


def executor(name: str) -> dg.ExecutorDefinition:
    try:
        return EXECUTORS[name]
    except KeyError:
        raise ValueError(f"LAKEHOUSE_EXECUTOR={name!r}: expected one of {', '.join(EXECUTORS)}") from None


def build_definitions(settings: Settings, *, strict: bool | None = None) -> dg.Definitions:
    settings.export()
    strict = os.environ.get(STRICT_ENV, "") in ("1", "true") if strict is None else strict
    contracts = load_contracts(settings.sources_dir)
    report_contract_errors(contracts, strict)
    partitions_def = calendar(loaded.contract for loaded in contracts)

    assets: list[dg.AssetsDefinition | dg.AssetSpec] = []
    for loaded in contracts:
        assets += [
            landing_spec(loaded),
            bronze_asset(loaded, partitions_def),
            silver_asset(loaded, partitions_def),
        ]
    lookback = max((loaded.contract.partitions.lookback_days for loaded in contracts), default=0)
    assets.append(gold_assets(settings.dbt_project_dir, partitions_def, lookback))
    assets.append(slo_spec)
    freshness = freshness_checks([loaded.contract for loaded in contracts])

    metadata = {}
    if contracts.errors:
        metadata["invalid_contracts"] = dg.MetadataValue.md(
            markdown_table(
                ["file", "problems"],
                [(e.path.name, "; ".join(str(p) for p in e.problems)) for e in contracts.errors],
            )
        )
    return dg.Definitions(
        assets=assets,
        asset_checks=freshness,
        sensors=[
            *([freshness_sensor(freshness)] if freshness else []),
            ledger_sensor,
            slo_sensor([loaded.contract for loaded in contracts]),
        ],
        executor=executor(settings.executor),
        resources={
            "lake": LakeStorage(landing_root=settings.landing_root, lake_root=settings.lake_root),
            "pii": PiiTokenizer(key=dg.EnvVar("LAKEHOUSE_PII_KEY")),
            "warehouse": DuckDBWarehouse(path=settings.warehouse_path),
            "dbt": dbt_resource(settings),
        },
        metadata=metadata,
    )
