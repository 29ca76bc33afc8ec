"""The dead-letter queue in the UI: ``reports/dead_letters``, its check, and the replay sensor.

An external asset, like ``reports/data_slo``: it writes nothing (the queue is written by the
bronze steps), stays out of range runs, and its materialisations are recorded by the
``dead_letter_replay`` sensor whenever the open entries change. Its ``no_exhausted_dead_letters``
check is an error while an entry has used up its replays; the sensor records it, and it can also
be executed from the UI (it reads the queue).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from lakehouse.assets.naming import bronze_key, owners
from lakehouse.checks.dead_letters import DEAD_LETTERS_KEY, NO_EXHAUSTED, judge
from lakehouse.contracts.model import SourceContract
from lakehouse.resources import LakeStorage, PlatformResources
from lakehouse.sensors.dead_letters import dead_letter_sensor


def dead_letters_spec(contracts: Sequence[SourceContract]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=DEAD_LETTERS_KEY,
        deps=[bronze_key(c) for c in contracts],
        owners=sorted({owner for c in contracts for owner in owners(c)}),
        group_name="reports",
        kinds={"delta"},
        description="Extractions that failed for reasons that are not the data's (landing zone unreachable "
        "or unreadable, a source down, a timeout), with their attempts. The dead_letter_replay sensor "
        "retries each after 1, 5 and 30 minutes; what still fails is exhausted and fails "
        f"{NO_EXHAUSTED} until `lakehouse dlq replay` or a run over its days resolves it.",
    )


@dg.asset_check(
    asset=DEAD_LETTERS_KEY,
    name=NO_EXHAUSTED,
    description="Fails (error) while a dead letter is exhausted: every replay failed and a person must act.",
)
def no_exhausted_dead_letters(lake: LakeStorage) -> dg.AssetCheckResult:
    from lakehouse.tables.dead_letters import DeadLetterQueue

    passed, description, metadata = judge(DeadLetterQueue(lake.ops_table("dead_letters")).entries())
    return dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.ERROR, description=description, metadata=metadata
    )


def dead_letters_definitions(
    contracts: Sequence[SourceContract], resources: PlatformResources
) -> dg.Definitions:
    if not contracts:
        return dg.Definitions()
    return dg.Definitions(
        assets=[dead_letters_spec(contracts)],
        asset_checks=[no_exhausted_dead_letters],
        sensors=[dead_letter_sensor(contracts)],
        resources=resources.pick("lake"),
    )
