"""Volume: each day's row count against ``min_rows`` and the average of the 7 days before it.

Counts come from the Delta log's statistics (``tables/stats.py``): the table is the truth about
what it holds, including days a later run restated, and reading them costs no data file. Days
before the table's first row are not history (a new source has none); a day with no history is
judged on ``min_rows`` alone. A lookback day of a run for which nothing at all was read is
reported, not judged: it precedes the source's data (a day of the run itself without files
trips the circuit breaker instead).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta

import dagster as dg

from lakehouse.checks.outcome import CheckOutcome, DayResult
from lakehouse.checks.specs import VOLUME
from lakehouse.contracts.model import Volume

TRAILING_DAYS = 7


def volume(
    counts: Mapping[date, int],
    days: list[date],
    rules: Volume,
    key: dg.AssetKey,
    unjudged: Collection[date] = (),
) -> CheckOutcome:
    """``counts``: rows per day in the table; ``unjudged``: days to report without judging (the
    lookback days of a run for which nothing at all was read: before the source's data begins)."""
    first_day = min((d for d, n in counts.items() if n), default=None)
    results = []
    for day in days:
        rows = counts.get(day, 0)
        if day in unjudged:
            results.append(
                DayResult(
                    day.isoformat(),
                    passed=True,
                    severity=rules.severity,
                    metadata={"rows": rows, "note": "no rows read for this day"},
                )
            )
            continue
        history = [
            counts.get(day - timedelta(days=i), 0)
            for i in range(1, TRAILING_DAYS + 1)
            if first_day is not None and day - timedelta(days=i) >= first_day
        ]
        average = sum(history) / len(history) if history else None
        change = None if not average else (rows - average) / average * 100
        problems = []
        if rows < rules.min_rows:
            problems.append(f"{rows} rows, fewer than min_rows={rules.min_rows}")
        if change is not None and abs(change) > rules.max_change_pct:
            problems.append(
                f"{rows} rows is {change:+.0f}% against the {len(history)}-day average "
                f"{average:.0f} (max_change_pct={rules.max_change_pct:g})"
            )
        metadata: dict[str, int | float] = {
            "rows": rows,
            "evaluated_rows": rows,
            "trailing_days": len(history),
        }
        if average is not None and change is not None:
            metadata |= {"trailing_average": round(average, 1), "change_pct": round(change, 1)}
        results.append(
            DayResult(
                day.isoformat(),
                passed=not problems,
                severity=rules.severity,
                metadata=metadata,
                summary="; ".join(problems),
            )
        )
    return CheckOutcome(asset_key=key, name=VOLUME, blocking=rules.severity == "error", days=results)
