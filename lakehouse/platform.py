"""Assembling the Dagster definitions from the contracts, the dbt project and the settings.

Each layer contributes its own ``dg.Definitions`` (its assets, checks, sensors and the
resources they need) and the platform is their ``Definitions.merge``. ``build_definitions`` is
a pure function of its settings, so that the component, tests and tools can build the platform
over any directory: it reads files, and writes nothing, the process environment included.
"""

from __future__ import annotations

import logging
import os
import warnings

import dagster as dg

from lakehouse.assets.bronze import bronze_definitions
from lakehouse.assets.gold import gold_definitions
from lakehouse.assets.landing import landing_definitions
from lakehouse.assets.metadata import markdown_table
from lakehouse.assets.partitions import calendar
from lakehouse.assets.reports import reports_definitions
from lakehouse.assets.silver import silver_definitions
from lakehouse.checks.freshness import freshness_definitions
from lakehouse.contracts.loader import ContractSet, load_contracts
from lakehouse.jobs.erasure import erasure_definitions
from lakehouse.resources import PlatformResources
from lakehouse.resources.secrets import isolate_missing_secrets
from lakehouse.settings import Settings

log = logging.getLogger("lakehouse")

# Known, deliberate uses of APIs Dagster flags (ARCHITECTURE.md says why each is the right one):
# single-run backfills (beta) and per-day check evaluations (partitioned check specs, preview).
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")
warnings.filterwarnings(
    "ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*"
)


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


def _invalid_contracts(contracts: ContractSet) -> dict[str, dg.MetadataValue]:
    """The code location's metadata: which files were skipped, and why."""
    if not contracts.errors:
        return {}
    rows = [(e.path.name, "; ".join(str(p) for p in e.problems)) for e in contracts.errors]
    return {"invalid_contracts": dg.MetadataValue.md(markdown_table(["file", "problems"], rows))}


EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor}


def executor(name: str) -> dg.ExecutorDefinition:
    if name == "celery":
        from lakehouse.deploy.executors import celery_executor

        return celery_executor()
    if name == "k8s":
        from lakehouse.deploy.executors import k8s_executor

        return k8s_executor(os.environ.get("LAKEHOUSE_K8S_EXECUTOR_CONFIG"))
    try:
        return EXECUTORS[name]
    except KeyError:
        raise ValueError(
            f"LAKEHOUSE_EXECUTOR={name!r}: expected one of {', '.join([*EXECUTORS, 'celery', 'k8s'])}"
        ) from None


def build_definitions(settings: Settings, *, strict: bool | None = None) -> dg.Definitions:
    """``strict`` (default: ``settings.strict_contracts``) makes an invalid contract fatal."""
    contracts = isolate_missing_secrets(load_contracts(settings.sources_dir), os.environ)
    report_contract_errors(contracts, settings.strict_contracts if strict is None else strict)
    days = calendar(loaded.contract for loaded in contracts)
    resources = PlatformResources.from_settings(settings)
    return dg.Definitions.merge(
        landing_definitions(contracts),
        bronze_definitions(contracts, days, resources),
        silver_definitions(contracts, days, resources),
        gold_definitions(settings, contracts, days, resources),
        freshness_definitions([loaded.contract for loaded in contracts], days),
        reports_definitions([loaded.contract for loaded in contracts], resources),
        erasure_definitions(list(contracts), resources),
        dg.Definitions(executor=executor(settings.executor), metadata=_invalid_contracts(contracts)),
    )
