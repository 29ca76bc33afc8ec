"""Which materialisation each day's check evaluation is about (its target).

A check's Partitions tab in the UI counts a day's latest evaluation only while it targets that
day's latest materialisation (``is_current`` in Dagster's ``_core/storage/asset_check_state.py``);
an evaluation without a target shows the day as Missing. So every per-day evaluation names the
materialisation of its day, looked up after the step recorded it.

The storage ids must be the asset index's (``get_latest_storage_id_by_partition``,
``fetch_materializations``): on the default SQLite storage the ids in a run's own event log
(``get_records_for_run``) are another sequence, and targets built from them never match.
"""

from __future__ import annotations

from collections.abc import Collection

import dagster as dg

# Not exported at the top level of dagster 1.13; the class AssetCheckEvaluation takes.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as Target,
)

__all__ = ["Target", "materialization_targets"]


def materialization_targets(
    instance: dg.DagsterInstance, key: dg.AssetKey, days: Collection[str]
) -> dict[str, Target]:
    """The latest materialisation of each of ``days`` (any run), by partition key.

    A day never materialised has none; its evaluation then goes without a target, which Dagster
    counts as current (the day has no materialisation to be stale against).
    """
    if not days:
        return {}
    ids = instance.get_latest_storage_id_by_partition(
        key, dg.DagsterEventType.ASSET_MATERIALIZATION, partitions=set(days)
    )
    if not ids:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=list(ids.values())), limit=len(ids)
    ).records
    return {
        record.partition_key: Target(
            storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
        )
        for record in records
        if record.partition_key is not None
    }
