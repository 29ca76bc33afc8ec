"""Checks of a table refreshed whole (``partitions.grain: none``): one result, no partition.

Its rows still carry a day (their file's delivery day), and the per-day checks run on them as on
any source; an unpartitioned asset takes one result per check, so the days are folded into one:
the worst of them, their problems listed together, their counts summed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from lakehouse.checks.outcome import ERROR, CheckOutcome, DayResult
from lakehouse.checks.specs import VOLUME
from lakehouse.contracts.model import Volume


def whole_table(outcome: CheckOutcome) -> CheckOutcome:
    """``outcome``'s days folded into one result for the whole table."""
    failures = outcome.failures
    metadata: dict[str, Any] = {}
    for day in outcome.days:
        for name, value in day.metadata.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                metadata[name] = metadata.get(name, 0) + value
            else:
                metadata[name] = value
    severity = (
        ERROR if any(d.severity == ERROR for d in failures) else (failures[0].severity if failures else ERROR)
    )
    day = DayResult(
        None,
        passed=not failures,
        severity=severity,
        metadata=metadata,
        summary=" | ".join(d.summary for d in failures if d.summary),
    )
    return CheckOutcome(outcome.asset_key, outcome.name, outcome.blocking, [day], outcome.metadata)


def whole_volume(counts: Mapping[Any, int], rules: Volume, key: dg.AssetKey) -> CheckOutcome:
    """The table's rows against ``min_rows`` (a table refreshed whole has no trailing days)."""
    rows = sum(counts.values())
    passed = rows >= rules.min_rows
    day = DayResult(
        None,
        passed=passed,
        severity=rules.severity,
        metadata={"rows": rows, "evaluated_rows": rows},
        summary="" if passed else f"{rows} rows, fewer than min_rows={rules.min_rows}",
    )
    return CheckOutcome(asset_key=key, name=VOLUME, blocking=rules.severity == "error", days=[day])
