"""The sensor that judges each source's freshness without anyone materialising: when a day
becomes due (its deadline passed), it launches the ``freshness_check`` of that source for that
day, a run of the check alone on that partition; a day that was missing is judged again once it
arrives. Each launch has a run key (source, day, missing or present), so a day is judged at most
twice, and never twice the same way (``checks/freshness.py`` says why this replaces Dagster's
freshness sensor).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from lakehouse.assets.naming import bronze_key
from lakehouse.contracts.model import SourceContract

SENSOR_INTERVAL_SECONDS = 300
FRESHNESS = "freshness_check"


def freshness_requests(
    instance: dg.DagsterInstance, contracts: Sequence[SourceContract], now: datetime
) -> list[dg.RunRequest]:
    """One run per due day, of the checks of the sources due that day (a run key per state)."""
    from lakehouse.checks.freshness import due_day

    by_day: dict[str, list[tuple[SourceContract, bool]]] = defaultdict(list)
    for contract in contracts:
        day = due_day(contract, now)
        if day < contract.partitions.start:
            continue
        present = instance.get_latest_storage_id_by_partition(
            bronze_key(contract), dg.DagsterEventType.ASSET_MATERIALIZATION, partitions={day.isoformat()}
        )
        by_day[day.isoformat()].append((contract, bool(present)))
    return [
        dg.RunRequest(
            run_key="freshness:"
            + ",".join(
                f"{c.name}={'present' if p else 'missing'}" for c, p in sorted(due, key=lambda x: x[0].name)
            )
            + f":{day}",
            asset_check_keys=[dg.AssetCheckKey(bronze_key(c), FRESHNESS) for c, _ in due],
            partition_key=day,
        )
        for day, due in sorted(by_day.items())
    ]


def freshness_sensor(
    contracts: Sequence[SourceContract], checks: Sequence[dg.AssetChecksDefinition]
) -> dg.SensorDefinition:
    @dg.sensor(
        name="source_freshness",
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=dg.AssetSelection.checks(*checks),
        description="Launches each source's freshness_check for the day due now (once due, and again "
        "when a missing day arrives).",
    )
    def source_freshness(context: dg.SensorEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
        requests = freshness_requests(context.instance, contracts, datetime.now(UTC))
        return requests or dg.SkipReason("no source has a day due yet")

    return source_freshness
