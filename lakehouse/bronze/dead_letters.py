"""What a bronze step puts in the dead-letter queue, and what it takes out.

A file source fails for reasons that are not the data's fault too: the landing root is gone (an
unmounted share, S3 unreachable), a day's folder or a file cannot be read (permissions, a broken
link, an I/O error or timeout while reading). Those are the circuit breaker's "unreachable" and
"unreadable" problems, and a read error while staging; each is recorded as a dead letter of the
run's days (or, in a replay run, of the replayed entry's days), so the replay sensor retries it.
Everything else the breaker or the checks stop (a layout, a schema, missing files, bad rows) is
the data's or the contract's and a retry would fail the same way: it fails the run only.

A successful bronze write resolves the open entries of the days it covered, whoever ran it.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import dagster as dg

from lakehouse.tables.dead_letters import DEAD_LETTER_TAG, DeadLetter, DeadLetterQueue

if TYPE_CHECKING:
    from lakehouse.bronze.preflight import Problem

# Breaker problems that are the infrastructure's, not the data's (``bronze/preflight.py``).
NOT_THE_DATA = ("unreachable", "unreadable")


def queue(context: dg.AssetExecutionContext) -> DeadLetterQueue:
    return DeadLetterQueue(context.resources.lake.ops_table("dead_letters"))


def entry_days(
    context: dg.AssetExecutionContext, dlq: DeadLetterQueue, start: date, end: date
) -> tuple[date, date]:
    """The days a failure is recorded for: a replay's entry's own (so a failed replay is the
    entry's next attempt, whatever day it runs), else the run's."""
    replayed = context.run.tags.get(DEAD_LETTER_TAG)
    entry = dlq.get(replayed) if replayed else None
    return (entry.first_day, entry.last_day) if entry is not None else (start, end)


def record(
    context: dg.AssetExecutionContext,
    source: str,
    start: date,
    end: date,
    *,
    kind: str,
    error: str,
    errors: Sequence[BaseException] = (),
) -> DeadLetter | None:
    """Record the step's failure; ``errors``: the exceptions whose tracebacks explain it. None
    when the queue itself cannot be written (the lake is down too): the step's own failure,
    which follows, must not be replaced by that one."""
    try:
        dlq = queue(context)
        first, last = entry_days(context, dlq, start, end)
        trace = "".join(line for e in errors for line in traceback.format_exception(e)) or error
        entry = dlq.record_failure(
            source=source,
            first_day=first,
            last_day=last,
            kind=kind,
            error=error,
            traceback=trace,
            run_id=context.run_id,
        )
    except Exception as failure:  # reported; the step fails with its own error
        context.log.error(f"{source}: the dead letter for {start}..{end} could not be recorded: {failure}")
        return None
    context.log.warning(f"dead letter {entry.id} ({source} {first}..{last}): {describe_next(entry)}")
    return entry


def record_problems(
    context: dg.AssetExecutionContext, source: str, start: date, end: date, problems: Sequence[Problem]
) -> DeadLetter | None:
    """The circuit breaker tripped: a dead letter when a problem is the infrastructure's."""
    infra = [p for p in problems if p.kind in NOT_THE_DATA]
    if not infra:
        return None
    return record(
        context,
        source,
        start,
        end,
        kind=infra[0].kind,
        error="; ".join(p.message for p in infra),
        errors=[p.error for p in infra],
    )


def describe_next(entry: DeadLetter) -> str:
    """What happens to the entry next, for a failure's message."""
    from lakehouse.tables.dead_letters import MAX_ATTEMPTS

    if entry.next_attempt_at is None:
        return (
            f"attempt {entry.attempts} of {MAX_ATTEMPTS} failed, no replay left (exhausted): fix the cause and "
            f"run `lakehouse dlq replay {entry.id}`"
        )
    return (
        f"attempt {entry.attempts} of {MAX_ATTEMPTS} failed; the dead_letter_replay sensor retries it after "
        f"{entry.next_attempt_at:%Y-%m-%d %H:%M} UTC (or now: `lakehouse dlq replay {entry.id}`)"
    )


def resolve(context: dg.AssetExecutionContext, source: str, start: date, end: date) -> None:
    """Bronze committed ``start..end``: the open entries of those days are resolved."""
    try:
        resolved = queue(context).resolve_covered(source, start, end, context.run_id)
    except Exception as failure:  # bronze is written: an entry left open is replayed and resolved then
        context.log.error(f"{source}: dead letters of {start}..{end} could not be resolved: {failure}")
        return
    for entry in resolved:
        context.log.info(f"dead letter {entry.id} ({source} {entry.first_day}..{entry.last_day}) resolved")
