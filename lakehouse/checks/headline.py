"""The colour of a check's headline when its run passed but older days are still failing.

The UI draws a partitioned check's icon from two sources (``getAggregateCheckIconType`` in
dagster-webserver 1.13): *whether* it failed from the days' current statuses (the Partitions
tab), and *how badly* from the severity of the latest evaluation with no partition (the run's
result). A run that passed has no failure of its own to take a severity from, so its result
carries the worst severity among the days that are failing now; otherwise an old warning would
turn red after a clean run of a blocking check, or an old error yellow. A failing run keeps the
worst of its own days (that severity decides blocking).
"""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

# How many of a check's failed executions to read, per day failing now (older ones of the same
# day come first in recency order only when a day was re-run many times).
_HISTORY_PER_DAY = 4


def failing_severity(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dg.AssetCheckSeverity | None:
    """The worst severity among the days whose current status is failed, or None if none is."""
    storage = instance.event_log_storage
    failing = {
        info.partition_key
        for info in storage.get_asset_check_partition_info([key])
        if info.partition_key is not None
        and info.is_current
        and info.latest_execution_status == AssetCheckExecutionRecordStatus.FAILED
    }
    if not failing:
        return None
    severities: dict[str, dg.AssetCheckSeverity] = {}
    history = storage.get_asset_check_execution_history(
        key, limit=_HISTORY_PER_DAY * len(failing) + 20, status={AssetCheckExecutionRecordStatus.FAILED}
    )
    for record in history:  # newest first: the first failure seen for a day is its current one
        evaluation = record.event.asset_check_evaluation if record.event else None
        if record.partition in failing and record.partition not in severities and evaluation:
            severities[record.partition] = evaluation.severity
    if len(severities) < len(failing):  # not all found within the history read: assume the worse
        return dg.AssetCheckSeverity.ERROR
    warn_only = all(s == dg.AssetCheckSeverity.WARN for s in severities.values())
    return dg.AssetCheckSeverity.WARN if warn_only else dg.AssetCheckSeverity.ERROR
