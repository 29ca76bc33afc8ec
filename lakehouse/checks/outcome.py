"""One check's evaluation over the days a run wrote, and how it reaches Dagster.

Checks are declared per asset with Dagster's partitioned check specs (a preview in 1.13). A run
over a range of days is one step, and Dagster takes exactly one ``AssetCheckResult`` per check
from a step, attributed to the step's partition (or to none for a range). So each check reports:

- one ``AssetCheckEvaluation`` per day, logged with its partition and with the day's
  materialisation as its target: the check's Partitions tab (which counts a day only while its
  latest evaluation targets its latest materialisation) and the ledger's rows. Each names its
  day and its result (description and metadata), so the run's log says which day did what;
- the step's ``AssetCheckResult``, the worst of the days, whose severity decides whether
  downstream assets run (blocking checks), and whose description names the failing days. It is
  marked ``scope: run`` so the ledger and the tables do not count it twice.

The UI's headline for a check is its latest evaluation *row* (``max(id)`` of Dagster's
``asset_check_executions``): a run's own days have rows from the start of the run, updated in
place, while evaluations of other days (lookback) and of no day are inserted. So the run's
result must be the last row inserted (``report``), never a lookback day's evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import dagster as dg

from lakehouse.checks.targets import Target, materialization_targets

ERROR, WARN = "error", "warn"
_SEVERITY = {ERROR: dg.AssetCheckSeverity.ERROR, WARN: dg.AssetCheckSeverity.WARN}
RUN_SCOPE = "run"  # metadata "scope" of a step-level result (not a day's)
# metadata "scope" of dbt's own result over a whole table, beside the platform's results of the
# same test per day: an evaluation of its own, of no day (even when Dagster files it under one)
TABLE_SCOPE = "table"
PASSED, WARNED, FAILED = "passed", "warned", "failed"  # a day's result, as the run log says it


def result_word(passed: bool, severity: str) -> str:
    return PASSED if passed else (FAILED if severity == ERROR else WARNED)


def reason(evaluation: dg.AssetCheckEvaluation) -> str:
    """An evaluation's description without the day and result it opens with (``describe``)."""
    text = evaluation.description or ""
    head, _, rest = text.partition(": ")
    if evaluation.partition and head in {f"{evaluation.partition} {w}" for w in (PASSED, WARNED, FAILED)}:
        return rest
    return "" if text in {f"{evaluation.partition} {w}" for w in (PASSED, WARNED, FAILED)} else text


@dataclass(frozen=True)
class DayResult:
    day: str | None  # partition key; None for an unpartitioned asset (a table refreshed whole)
    passed: bool
    severity: str = ERROR  # how bad a failure is (escalation may raise a warn rule to error)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""  # one line, shown when the day fails

    @property
    def result(self) -> str:
        return result_word(self.passed, self.severity)

    def describe(self) -> str:
        """The day, its result and why: the line the run log shows for this evaluation."""
        note = self.summary if not self.passed else str(self.metadata.get("note", ""))
        return f"{self.day} {self.result}" + (f": {note}" if note else "")


@dataclass(frozen=True)
class CheckOutcome:
    asset_key: dg.AssetKey
    name: str
    blocking: bool
    days: list[DayResult]
    metadata: Mapping[str, Any] = field(default_factory=dict)  # shared by every day's evaluation

    @property
    def check_key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(self.asset_key, self.name)

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
            f"{d.day or 'the table'} ({d.severity})" + (f": {d.summary}" if d.summary else "")
            for d in self.failures
        )

    def step_result(self) -> dg.AssetCheckResult:
        """The run's result: the worst of its days (a failing one has its worst day's severity,
        which decides blocking; ``report`` colours a passing one, see ``headline.py``)."""
        return dg.AssetCheckResult(
            asset_key=self.asset_key,
            check_name=self.name,
            passed=self.passed,
            severity=_SEVERITY[self.severity],
            description=self.description(),
            metadata=self._run_metadata(),
        )

    def _run_metadata(self) -> dict[str, Any]:
        failing = [d.day for d in self.failures]
        return {
            **self.metadata,
            "scope": RUN_SCOPE,
            "result": result_word(self.passed, self.severity),
            "days": f"{self.days[0].day}..{self.days[-1].day}" if self.days else "",
            "days_checked": len(self.days),
            "failing_days": dg.MetadataValue.json(failing),
        }

    def day_evaluations(
        self, targets: Mapping[str, Target] | None = None
    ) -> Iterator[dg.AssetCheckEvaluation]:
        """One evaluation per day, each targeting that day's latest materialisation."""
        for day in self.days:
            yield dg.AssetCheckEvaluation(
                asset_key=self.asset_key,
                check_name=self.name,
                passed=day.passed,
                severity=_SEVERITY[day.severity],
                blocking=self.blocking,
                partition=day.day,
                description=day.describe(),
                metadata={"day": day.day, "result": day.result, **self.metadata, **day.metadata},
                target_materialization_data=(targets or {}).get(day.day) if day.day else None,
            )


def headline(
    result: dg.AssetCheckResult, key: dg.AssetCheckKey, blocking: bool, target: Target | None
) -> dg.AssetCheckEvaluation:
    """A step result again, with no partition: logged last in a single-day run, where Dagster files
    the step result under that day, so that the run's result is the headline."""
    return dg.AssetCheckEvaluation(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=result.passed,
        severity=result.severity,
        description=result.description,
        metadata={**result.metadata, "scope": RUN_SCOPE},
        blocking=blocking,
        partition=None,
        target_materialization_data=target,
    )


def with_severity(result: dg.AssetCheckResult, severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=result.passed,
        severity=severity,
        description=result.description,
        metadata=result.metadata,
    )


class StepContext(Protocol):
    """What ``report`` needs of a step's context: an asset's, or a check's ``op_execution_context``."""

    @property
    def instance(self) -> dg.DagsterInstance: ...

    @property
    def has_partition_key(self) -> bool: ...

    @property
    def partition_key(self) -> str: ...

    def log_event(self, event: Any) -> None: ...


def report(
    context: StepContext,
    outcomes: Sequence[CheckOutcome],
    results: Mapping[dg.AssetCheckKey, dg.AssetCheckResult] | None = None,
) -> Iterator[dg.AssetCheckResult]:
    """Send the outcomes to Dagster so that the run's result is each check's headline.

    ``results``: step results to send instead of the outcomes' own (dbt's results for its tests,
    whose days the platform evaluated apart); a result with no outcome is sent as it is.

    Call it after the step's materialisation (the days' targets are looked up then) or, when
    nothing was materialised (a tripped circuit breaker), instead of it: the days then target
    what they held before. Logged events are stored at once, so the order below is the order of
    the rows Dagster inserts.

    - A range run (no ``dagster/partition`` tag): log every day, then yield the step results,
      which Dagster stores with no partition, inserted last.
    - A single-day run: yield the step results first (Dagster files them under that day, and a
      blocking one still blocks), then log every day (the own day's evaluation replaces the step
      result in that day's row), then each run's result once more with no partition.
    """
    by_key = {o.check_key: o for o in outcomes}
    given = dict(results or {})
    keys = list(dict.fromkeys([*by_key, *given]))
    targets = {
        key: materialization_targets(
            context.instance, key, [d.day for o in outcomes for d in o.days if d.day is not None]
        )
        for key in {o.asset_key for o in outcomes}
    }

    def log_days() -> None:
        for outcome in outcomes:
            for evaluation in outcome.day_evaluations(targets[outcome.asset_key]):
                context.log_event(evaluation)

    def step_result(key: dg.AssetCheckKey, *, colour: bool) -> dg.AssetCheckResult:
        result = given[key] if key in given else by_key[key].step_result()
        if colour and result.passed and key in by_key:
            from lakehouse.checks.headline import failing_severity

            severity = failing_severity(context.instance, key)
            if severity is not None:
                result = with_severity(result, severity)
        return result

    if context.has_partition_key:
        for key in keys:
            yield step_result(key, colour=False)
        log_days()
        for key in by_key:
            own = targets[key.asset_key].get(context.partition_key)
            context.log_event(headline(step_result(key, colour=True), key, by_key[key].blocking, own))
    else:
        log_days()
        for key in keys:
            yield step_result(key, colour=True)


def metadata_value(entry: object) -> object:
    """A metadata entry's plain value (Dagster wraps them in ``MetadataValue``)."""
    return getattr(entry, "value", entry)


def with_metadata(outcomes: list[CheckOutcome], **extra: Any) -> list[CheckOutcome]:
    """The outcomes with ``extra`` added to every evaluation's metadata (e.g. the contract version)."""
    return [replace(o, metadata={**o.metadata, **extra}) for o in outcomes]
