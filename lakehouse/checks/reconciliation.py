"""Reconciliation: the "nothing lost" guarantee, counted on what was actually written.

Bronze, per day: rows read from landing (as the reader attributed them) = rows in the bronze
table + rows in the quarantine table, both counted from the tables after the write.
Silver, per day: rows it should hold (the window's bronze rows, one per key after dedup) = rows
it holds after the merge; for SCD2, every key of the day's snapshot has exactly one current
version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import dagster as dg

from lakehouse.checks.outcome import ERROR, CheckOutcome, DayResult
from lakehouse.checks.specs import RECONCILIATION


def bronze_reconciliation(
    read: Mapping[date, int],
    bronze: Mapping[date, int],
    quarantined: Mapping[date, int],
    days: list[date],
    key: dg.AssetKey,
) -> CheckOutcome:
    results = []
    for day in days:
        r, b, q = read.get(day, 0), bronze.get(day, 0), quarantined.get(day, 0)
        results.append(
            DayResult(
                day.isoformat(),
                passed=r == b + q,
                severity=ERROR,
                metadata={
                    "rows_read": r,
                    "rows_in_bronze": b,
                    "rows_in_quarantine": q,
                    "unaccounted": r - b - q,
                    "evaluated_rows": r,
                    "failing_rows": abs(r - b - q),
                },
                summary=f"read {r} but bronze holds {b} and quarantine {q} ({r - b - q:+d} unaccounted)",
            )
        )
    return CheckOutcome(asset_key=key, name=RECONCILIATION, blocking=True, days=results)


def silver_reconciliation(
    expected: Mapping[date, int],
    held: Mapping[date, int],
    stale: Mapping[date, int],
    days: list[date],
    key: dg.AssetKey,
    what: str,
) -> CheckOutcome:
    """``expected`` and ``held`` count ``what`` per day (rows, or keys with one current version);
    ``stale`` rows (keys bronze no longer has) are reported, not failed: merge never deletes."""
    results = []
    for day in days:
        e, h, st = expected.get(day, 0), held.get(day, 0), stale.get(day, 0)
        results.append(
            DayResult(
                day.isoformat(),
                passed=e == h,
                severity=ERROR,
                metadata={
                    f"expected_{what}": e,
                    f"held_{what}": h,
                    "stale_rows": st,
                    "evaluated_rows": e,
                    "failing_rows": abs(e - h),
                },
                summary=f"bronze gives {e} {what} but silver holds {h}",
            )
        )
    return CheckOutcome(asset_key=key, name=RECONCILIATION, blocking=True, days=results)
