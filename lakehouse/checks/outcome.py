"""One check's evaluation over the days a run wrote, and how it reaches Dagster.

Checks are declared per asset with Dagster's partitioned check specs (a preview in 1.13). A run
over a range of days is one step, and Dagster takes one result per check from a step, attributed
to the step's partition (or to none for a range). So each check reports twice:

- one ``AssetCheckEvaluation`` per day, logged with its partition: the UI's per-partition status
  and the ledger's rows;
- the step's ``AssetCheckResult``, the worst of the days, whose severity decides whether
  downstream assets run (blocking checks), and whose description names the failing days. It is
  marked ``scope: run`` so the ledger does not count it twice.

The per-day evaluations are logged after the step's result, so each day's latest evaluation is
its own, even in a single-day run where Dagster attributes the step's result to that day.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import dagster as dg

ERROR, WARN = "error", "warn"
_SEVERITY = {ERROR: dg.AssetCheckSeverity.ERROR, WARN: dg.AssetCheckSeverity.WARN}
RUN_SCOPE = "run"  # metadata "scope" of a step-level result (not a day's)


@dataclass(frozen=True)
class DayResult:
    day: str | None  # partition key; None for an unpartitioned asset (a table refreshed whole)
    passed: bool
    severity: str = ERROR  # how bad a failure is (escalation may raise a warn rule to error)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""  # one line, shown when the day fails


@dataclass(frozen=True)
class CheckOutcome:
    asset_key: dg.AssetKey
    name: str
    blocking: bool
    days: list[DayResult]
    metadata: Mapping[str, Any] = field(default_factory=dict)  # shared by every day's evaluation

    @property
    def failures(self) -> list[DayResult]:
        return [d for d in self.days if not d.passed]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def severity(self) -> str:
        if self.passed:
            return ERROR if self.blocking else WARN
        return ERROR if any(d.severity == ERROR for d in self.failures) else WARN

    def description(self) -> str:
        if self.passed:
            return f"passed on {len(self.days)} day(s)" if self.days else "nothing to check"
        return "failed on " + "; ".join(
            f"{d.day or 'the table'}: {d.summary}".rstrip(": ") for d in self.failures
        )

    def step_result(self) -> dg.AssetCheckResult:
        failing = [d.day for d in self.failures]
        return dg.AssetCheckResult(
            asset_key=self.asset_key,
            check_name=self.name,
            passed=self.passed,
            severity=_SEVERITY[self.severity],
            description=self.description(),
            metadata={
                **self.metadata,
                "scope": RUN_SCOPE,
                "days_checked": len(self.days),
                "failing_days": dg.MetadataValue.json(failing),
            },
        )

    def day_evaluations(self) -> Iterator[dg.AssetCheckEvaluation]:
        for day in self.days:
            yield dg.AssetCheckEvaluation(
                asset_key=self.asset_key,
                check_name=self.name,
                passed=day.passed,
                severity=_SEVERITY[day.severity],
                blocking=self.blocking,
                partition=day.day,
                description=None if day.passed else day.summary,
                metadata={**self.metadata, **day.metadata},
            )


def report(
    context: dg.AssetExecutionContext, outcomes: list[CheckOutcome], *, days_first: bool = False
) -> Iterator[dg.AssetCheckResult]:
    """Yield each check's step result, then log its per-day evaluations (in that order).

    ``days_first`` logs the days before the step results, for a step that raises right after them
    (a tripped circuit breaker): events logged with ``context.log_event`` reach Dagster with the
    step's next yield, and after the last yield there is none.
    """

    def log_days() -> None:
        for outcome in outcomes:
            for evaluation in outcome.day_evaluations():
                context.log_event(evaluation)

    if days_first:
        log_days()
    for outcome in outcomes:
        yield outcome.step_result()
    if not days_first:
        log_days()


def metadata_value(entry: object) -> object:
    """A metadata entry's plain value (Dagster wraps them in ``MetadataValue``)."""
    return getattr(entry, "value", entry)


def with_metadata(outcomes: list[CheckOutcome], **extra: Any) -> list[CheckOutcome]:
    """The outcomes with ``extra`` added to every evaluation's metadata (e.g. the contract version)."""
    return [replace(o, metadata={**o.metadata, **extra}) for o in outcomes]
