"""The circuit breaker and the schema contract, judged from bronze's plan (before any write).

The breaker trips on any problem the plan found; each problem is attributed to the days it
concerns, so the UI shows which partitions could not load and why. The schema check reports the
schema side of the same evidence: breaking differences as errors, additive ones (fields the
files bring that the contract does not declare, nullable columns added to the tables) as
warnings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import dagster as dg

from lakehouse.bronze.preflight import BronzePlan
from lakehouse.bronze.records import FileReport
from lakehouse.checks.outcome import ERROR, WARN, CheckOutcome, DayResult
from lakehouse.checks.specs import CIRCUIT_BREAKER, SCHEMA

_SCHEMA_PROBLEMS = ("layout", "table schema")


def circuit_breaker(plan: BronzePlan, key: dg.AssetKey) -> CheckOutcome:
    by_day: dict[date, list[str]] = defaultdict(list)
    for problem in plan.problems:
        for day in problem.days:
            by_day[day].append(f"{problem.kind}: {problem.message}")
    return CheckOutcome(
        asset_key=key,
        name=CIRCUIT_BREAKER,
        blocking=True,
        days=[
            DayResult(
                day.isoformat(),
                passed=not by_day[day],
                severity=ERROR,
                metadata={"problems": dg.MetadataValue.json(by_day[day])} if by_day[day] else {},
                summary=" | ".join(by_day[day]),
            )
            for day in plan.days
        ],
        metadata={"files_planned": len(plan.files)},
    )


def schema_contract(plan: BronzePlan, key: dg.AssetKey, files: Sequence[FileReport] = ()) -> CheckOutcome:
    """Breaking differences from the plan; additive ones (warnings) from the plan's tables and
    notes (empty and header-only files, matches that are not files) and from the files read
    (``files``: after ingest, with the undeclared fields each file brought)."""
    breaking: dict[date, list[str]] = defaultdict(list)
    for problem in plan.problems:
        if problem.kind in _SCHEMA_PROBLEMS:
            for day in problem.days:
                breaking[day].append(problem.message)
    added: dict[date, set[str]] = defaultdict(set)
    for report in files:
        added[plan.clamp(report.arrival_date)].update(
            f"{report.file}: field {name} is not in the contract (kept in _rescued_data)"
            for name in report.rescued_columns
        )
    for table, columns in plan.added_columns.items():
        for day in plan.days:
            added[day].update(f"{table}: nullable column {c} added to the table" for c in columns)
    for day, notes in plan.notes.items():  # files with no rows, matches that are not files
        added[day].update(notes)

    days = []
    for day in plan.days:
        if breaking[day]:
            days.append(
                DayResult(
                    day.isoformat(),
                    passed=False,
                    severity=ERROR,
                    summary=" | ".join(breaking[day]),
                    metadata={"breaking": dg.MetadataValue.json(breaking[day])},
                )
            )
        elif added[day]:
            notes = sorted(added[day])
            days.append(
                DayResult(
                    day.isoformat(),
                    passed=False,
                    severity=WARN,
                    summary=" | ".join(notes),
                    metadata={"additive": dg.MetadataValue.json(notes)},
                )
            )
        else:
            days.append(DayResult(day.isoformat(), passed=True))
    return CheckOutcome(asset_key=key, name=SCHEMA, blocking=True, days=days)
