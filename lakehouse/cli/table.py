"""A run's check evaluations as a table: asset, partition, check, severity, result, key metadata."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from lakehouse.checks.outcome import RUN_SCOPE, TABLE_SCOPE, reason
from lakehouse.checks.outcome import metadata_value as _value

# The metadata worth a glance, in this order, when present.
_KEYS = (
    "failing_rows",
    "evaluated_rows",
    "failing_pct",
    "rows",
    "change_pct",
    "trailing_average",
    "unaccounted",
    "dagster_dbt/failed_row_count",
)


@dataclass(frozen=True)
class CheckRow:
    asset: str
    partition: str
    check: str
    severity: str
    passed: bool
    detail: str

    @property
    def result(self) -> str:
        return "passed" if self.passed else ("FAILED" if self.severity == "error" else "warn")

    @property
    def is_error(self) -> bool:
        return not self.passed and self.severity == "error"


def check_rows(evaluations: Iterable[dg.AssetCheckEvaluation]) -> list[CheckRow]:
    """One row per day-level evaluation, and per evaluation of no day (dbt's own result over a
    whole table, shown as partition ``table``); the step summaries of day-level checks are left
    out, their days are there."""
    rows = []
    for evaluation in evaluations:
        metadata = dict(evaluation.metadata or {})
        scope = _value(metadata.get("scope"))
        if scope == RUN_SCOPE:
            continue
        facts = [
            f"{k.split('/')[-1]}={_value(metadata[k])}" for k in _KEYS if _value(metadata.get(k)) is not None
        ]
        detail = ", ".join(facts)
        why = reason(evaluation)
        if not evaluation.passed and why:
            detail = why + (f" ({detail})" if detail else "")
        rows.append(
            CheckRow(
                asset=evaluation.asset_key.to_user_string(),
                partition=TABLE_SCOPE if scope == TABLE_SCOPE else (evaluation.partition or "-"),
                check=evaluation.check_name,
                severity=evaluation.severity.value.lower(),
                passed=evaluation.passed,
                detail=detail,
            )
        )
    return sorted(rows, key=lambda r: (r.asset, r.check, r.partition))


def _fit(text: str, width: int) -> str:
    """Shorten long names in the middle, where generated names (dbt tests) are the least telling."""
    if len(text) <= width:
        return text
    keep = width - 1
    return text[: keep - keep // 2] + "…" + text[-(keep // 2) :]


def render(rows: list[CheckRow]) -> str:
    headers = ("asset", "partition", "check", "severity", "result", "key metadata")
    limits = (36, 10, 48, 8, 6)
    cells = [
        (_fit(r.asset, limits[0]), r.partition, _fit(r.check, limits[2]), r.severity, r.result, r.detail)
        for r in rows
    ]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths, strict=True)) + "  " + headers[-1]]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(cell[:-1], widths, strict=True)) + "  " + cell[-1]
        for cell in cells
    ]
    return "\n".join(lines)


def summary_line(rows: list[CheckRow]) -> str:
    passed = sum(r.passed for r in rows)
    errors = sum(r.is_error for r in rows)
    warnings = len(rows) - passed - errors
    return f"checks: {passed} passed, {errors} failed, {warnings} warnings"
