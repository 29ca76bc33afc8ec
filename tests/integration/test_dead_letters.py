"""The dead-letter queue on a real Delta table: attempts, backoff, exhaustion, resolution."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lakehouse.tables.dead_letters import (
    BACKOFF,
    EXHAUSTED,
    MAX_ATTEMPTS,
    PENDING,
    RESOLVED,
    DeadLetterQueue,
    dead_letter_location,
)

T0 = datetime(2026, 5, 3, 6, 0, tzinfo=UTC)
DAY = date(2026, 5, 2)


def fail(queue: DeadLetterQueue, now: datetime, source: str = "orders", day: date = DAY):
    return queue.record_failure(
        source=source,
        first_day=day,
        last_day=day,
        kind="unreachable",
        error=f"landing root gone at {now:%H:%M}",
        traceback="Traceback (most recent call last): ...",
        run_id=f"run-{now:%H%M}",
        now=now,
    )


def test_a_failure_waits_longer_after_each_attempt_then_is_exhausted(tmp_path: Path) -> None:
    queue = DeadLetterQueue(dead_letter_location(str(tmp_path / "lake")))
    now = T0
    for attempt in range(1, MAX_ATTEMPTS):
        entry = fail(queue, now)
        assert (entry.attempts, entry.status) == (attempt, PENDING)
        assert entry.next_attempt_at == now + BACKOFF[attempt - 1]
        assert not queue.due(now + BACKOFF[attempt - 1] - timedelta(seconds=1))
        assert [e.id for e in queue.due(now + BACKOFF[attempt - 1])] == [entry.id]
        now = entry.next_attempt_at
    last = fail(queue, now)
    assert (last.attempts, last.status, last.next_attempt_at) == (MAX_ATTEMPTS, EXHAUSTED, None)
    assert queue.due(now + timedelta(days=1)) == []
    # Never forgotten: the exhausted entry is open, with the latest error.
    (still,) = queue.open_entries()
    assert still.status == EXHAUSTED and still.error == last.error


def test_resolving_closes_the_entry_and_keeps_other_sources_apart(tmp_path: Path) -> None:
    queue = DeadLetterQueue(dead_letter_location(str(tmp_path / "lake")))
    orders = fail(queue, T0)
    customers = fail(queue, T0, source="customers")
    assert orders.id != customers.id
    resolved = queue.resolve_covered("orders", DAY - timedelta(days=2), DAY, run_id="replay")
    assert [r.id for r in resolved] == [orders.id]
    assert queue.get(orders.id).status == RESOLVED
    assert [e.source for e in queue.open_entries()] == ["customers"]
    # The same days failing again later start a new series of attempts.
    again = fail(queue, T0 + timedelta(hours=1))
    assert (again.id, again.attempts, again.status) == (orders.id, 1, PENDING)
