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

from lakehouse.assets.automation import automate, automation_definitions
from lakehouse.assets.bronze import bronze_definitions
from lakehouse.assets.contracts import contracts_definitions
from lakehouse.assets.dead_letters import dead_letters_definitions
from lakehouse.assets.gold import gold_definitions
from lakehouse.assets.landing import landing_definitions
from lakehouse.assets.metadata import markdown_table
from lakehouse.assets.partitions import calendar
from lakehouse.assets.reports import reports_definitions
from lakehouse.assets.retention import retention_definitions
from lakehouse.assets.silver import silver_definitions
from lakehouse.checks.freshness import freshness_definitions
from lakehouse.contracts.accepted import accepted_dir
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
# The automation (assets/automation.py): conditions of the platform's own, evaluated on the code
# server (beta), set on every layer's specs after the merge (preview).
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*use_user_code_server.*")
warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*map_(resolved_)?asset_specs.*")


class InvalidContractsError(Exception):
    pass


def report_contract_errors(contracts: ContractSet, strict: bool) -> None:
    """Bad files are isolated (the other sources keep running) but never quiet."""
    for refusal in contracts.refused:
        log.warning("%s", refusal.describe())
    if not contracts.errors:
        return
    text = "\n".join(error.describe() for error in contracts.errors)
    if strict:
        raise InvalidContractsError(text)
    log.error(
        "Skipped %d invalid source contract(s); their assets are not loaded:\n%s", len(contracts.errors), text
    )


def _invalid_contracts(contracts: ContractSet) -> dict[str, dg.MetadataValue]:
    """The code location's metadata: which files were skipped or refused, and why."""
    metadata: dict[str, dg.MetadataValue] = {}
    if contracts.errors:
        rows = [(e.path.name, "; ".join(str(p) for p in e.problems)) for e in contracts.errors]
        metadata["invalid_contracts"] = dg.MetadataValue.md(markdown_table(["file", "problems"], rows))
    if contracts.refused:
        rows = [(r.path.name, "; ".join(r.reasons)) for r in contracts.refused]
        metadata["refused_contract_changes"] = dg.MetadataValue.md(
            markdown_table(["file", "breaking changes (the accepted version runs)"], rows)
        )
    return metadata


def report_privacy_warnings(contracts: ContractSet) -> dict[str, dg.MetadataValue]:
    """Sources with personal data and no retention window or purpose: logged at load and shown in
    the code location's metadata (``privacy_warnings``), beside ``invalid_contracts``."""
    rows = [
        (loaded.path.name, warning) for loaded in contracts for warning in loaded.contract.privacy_warnings
    ]
    if not rows:
        return {}
    log.warning(
        "%d source contract(s) hold personal data without a retention policy:\n%s",
        len({name for name, _ in rows}),
        "\n".join(f"{name}: {warning}" for name, warning in rows),
    )
    return {"privacy_warnings": dg.MetadataValue.md(markdown_table(["file", "warning"], rows))}


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
    contracts = isolate_missing_secrets(
        load_contracts(settings.sources_dir, accepted_dir(settings.lake_root)), os.environ
    )
    report_contract_errors(contracts, settings.strict_contracts if strict is None else strict)
    days = calendar(loaded.contract for loaded in contracts)
    resources = PlatformResources.from_settings(settings)
    sources = [loaded.contract for loaded in contracts]
    merged = dg.Definitions.merge(
        landing_definitions(contracts),
        bronze_definitions(contracts, days, resources),
        silver_definitions(contracts, days, resources),
        gold_definitions(settings, contracts, days, resources),
        freshness_definitions([loaded.contract for loaded in contracts], days),
        reports_definitions([loaded.contract for loaded in contracts], resources),
        dead_letters_definitions([loaded.contract for loaded in contracts], resources),
        retention_definitions([loaded.contract for loaded in contracts], resources, settings),
        erasure_definitions(list(contracts), resources),
        contracts_definitions(settings, contracts),
        automation_definitions(sources, days, settings.automation_interval_seconds),
        dg.Definitions(
            executor=executor(settings.executor),
            metadata={**_invalid_contracts(contracts), **report_privacy_warnings(contracts)},
        ),
    )
    return automate(merged, sources, settings.automation_cron)
