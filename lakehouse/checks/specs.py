"""Which checks each asset carries, derived from its contract: names, severity, blocking.

Bronze: ``circuit_breaker`` (preconditions of a load), ``schema_contract`` (files and table vs
contract), ``reconciliation`` (rows read = written + quarantined) and ``volume`` (rows vs the
trailing average). Silver: one check per quality rule and ``reconciliation`` (bronze keys =
silver rows). Freshness checks live apart (``freshness.py``): they are evaluated on a sensor,
without a materialisation.

A check whose failure can be an error is blocking: when it fails with ERROR severity, the
downstream assets of the run do not run (gold never builds on bad silver).
"""

from __future__ import annotations

import dagster as dg

from lakehouse.checks.outcome import CheckOutcome
from lakehouse.contracts.model import QualityRule, SourceContract

CIRCUIT_BREAKER = "circuit_breaker"
SCHEMA = "schema_contract"
RECONCILIATION = "reconciliation"
VOLUME = "volume"


def selected_checks(context: dg.AssetExecutionContext, outcomes: list[CheckOutcome]) -> list[CheckOutcome]:
    """The outcomes of the checks this run selected (the assets can be subset, so a run may
    select some of an asset's checks; results for the others would be refused)."""
    chosen = context.selected_asset_check_keys
    return [o for o in outcomes if dg.AssetCheckKey(o.asset_key, o.name) in chosen]


def require_asset_selected(context: dg.AssetExecutionContext) -> None:
    """Checks are evaluated by loading their asset; a run of the checks alone is refused, naming it."""
    if not context.selected_asset_keys:
        names = ", ".join(sorted(k.name for k in context.selected_asset_check_keys))
        raise dg.Failure(
            description=f"{names}: these checks are evaluated when their asset loads; select the asset too "
            "(materialize it with its checks)"
        )


def quality_check_name(rule: QualityRule) -> str:
    return "quality_" + rule.check_id


def rule_blocks(rule: QualityRule) -> bool:
    """An error rule blocks; a warn rule blocks only once escalated (``max_flagged_pct``)."""
    return rule.severity == "error" or rule.max_flagged_pct is not None


def _spec(
    name: str,
    key: dg.AssetKey,
    partitions_def: dg.PartitionsDefinition | None,
    blocking: bool,
    description: str,
) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name, asset=key, blocking=blocking, description=description, partitions_def=partitions_def
    )


def bronze_check_specs(
    contract: SourceContract, key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None
) -> list[dg.AssetCheckSpec]:
    volume = contract.volume
    return [
        _spec(
            CIRCUIT_BREAKER,
            key,
            partitions_def,
            True,
            "Before a load: the landing zone is reachable, every day of the run has files, every file's "
            "layout matches the contract, the tables match it, and no day would lose rows whose files are "
            "gone. When it trips the run stops and nothing is written.",
        ),
        _spec(
            SCHEMA,
            key,
            partitions_def,
            True,
            "Files and table against the contract: a field the contract does not declare (kept in "
            "_rescued_data) or a nullable column added to the table is a warning; a removed, renamed "
            "or retyped column is an error.",
        ),
        _spec(
            RECONCILIATION,
            key,
            partitions_def,
            True,
            "Per day: rows read from landing = rows in bronze + rows in quarantine, counted on the "
            "written tables.",
        ),
        _spec(
            VOLUME,
            key,
            partitions_def,
            volume.severity == "error",
            f"Per day: at least {volume.min_rows} rows, and within {volume.max_change_pct:g}% of the "
            f"average of the 7 days before ({volume.severity}).",
        ),
    ]


def silver_check_specs(
    contract: SourceContract, key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None
) -> list[dg.AssetCheckSpec]:
    specs = [
        _spec(
            quality_check_name(rule),
            key,
            partitions_def,
            rule_blocks(rule),
            rule.description or _describe_rule(rule),
        )
        for rule in contract.quality
    ]
    specs.append(
        _spec(
            RECONCILIATION,
            key,
            partitions_def,
            True,
            "Per day: the distinct keys bronze holds (after dedup) = the rows silver holds "
            "(scd2: every key of the day's snapshot has exactly one current version).",
        )
    )
    return specs


def _describe_rule(rule: QualityRule) -> str:
    arguments = ", ".join(f"{k}={v!r}" for k, v in rule.arguments.items())
    escalation = (
        f"; blocks when more than {rule.max_flagged_pct:g}% of a day's rows fail"
        if rule.max_flagged_pct is not None
        else ""
    )
    target = f"{rule.column}: " if rule.column else ""
    return f"great-expectations {rule.expect}({target}{arguments}), severity {rule.severity}{escalation}"
