"""``reports/contracts``: the sources folder as the UI sees it, and the contract sensor with it.

An external asset with one check, ``valid``: failed (error) while a contract file is invalid,
failed (warning) while a breaking change is refused or a removed source is reported, each row
naming the file and field. The contract sensor records an evaluation whenever that changes; the
check can also be run by hand, and then judges the folder as a load would now.
"""

from __future__ import annotations

import dagster as dg

from lakehouse.contracts.loader import ContractSet
from lakehouse.sensors.contracts import (
    CHECK_NAME,
    CONTRACTS_KEY,
    contract_sensor,
    current_contracts,
    problems,
)
from lakehouse.settings import Settings


def contracts_definitions(settings: Settings, contracts: ContractSet) -> dg.Definitions:
    spec = dg.AssetSpec(
        key=CONTRACTS_KEY,
        group_name="reports",
        kinds={"yaml"},
        description=f"The source contracts under {settings.sources_dir}: the `{CHECK_NAME}` check fails "
        "naming the file and field of every invalid contract, refused breaking change and removed source. "
        "Kept current by the contract_changes sensor.",
    )

    @dg.asset_check(asset=CONTRACTS_KEY, name=CHECK_NAME, description="Every contract file loads as written.")
    def valid() -> dg.AssetCheckResult:
        evaluation = problems(current_contracts(settings), []).evaluation()
        return dg.AssetCheckResult(
            passed=evaluation.passed, severity=evaluation.severity, metadata=evaluation.metadata
        )

    return dg.Definitions(assets=[spec], asset_checks=[valid], sensors=[contract_sensor(settings, contracts)])
