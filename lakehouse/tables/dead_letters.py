"""The dead-letter queue: extractions that failed for reasons that are not the data's fault.

An unreachable landing zone, a source database that is down, an HTTP API that keeps answering
5xx, a timeout: the rows were never read, so there is nothing to quarantine, but the days must
not be forgotten either. Each failure is recorded here (source, days, error, traceback, attempt),
a replay retries it with exponential backoff, and what still fails after the last attempt stays
visible as ``exhausted`` until an operator acts. Bad rows go to quarantine, never here.

The queue is a Delta table (``<lake root>/_ops/dead_letters``), so it lives wherever the lake
does (local folder or S3) and every change is one atomic commit. It is an append-only log of
events: an entry's state is its latest event, which keeps the history of every attempt and
makes concurrent writers safe without a read-modify-write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lakehouse.tables.location import TableLocation
from lakehouse.tables.s3 import S3Connection

if TYPE_CHECKING:
    import pyarrow as pa

# Waits before each retry: about 1, 5 and 30 minutes. After the last one the entry is exhausted.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
MAX_ATTEMPTS = len(BACKOFF) + 1  # the failure itself, then one retry per backoff step

PENDING, EXHAUSTED, RESOLVED = "pending", "exhausted", "resolved"

# The tag of a replay run: the entry it replays (a failure then counts as that entry's next attempt).
DEAD_LETTER_TAG = "lakehouse/dead_letter"


def dead_letter_location(lake_root: str, s3: S3Connection | None = None) -> TableLocation:
    return TableLocation(f"{lake_root.rstrip('/')}/_ops/dead_letters", s3)


def entry_id(source: str, first_day: date, last_day: date) -> str:
    """One entry per source and range of days: a failure of the same days again is a new
    attempt of the same entry, not a second entry."""
    return hashlib.sha256(f"{source}|{first_day}|{last_day}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DeadLetter:
    """An entry's latest state."""

    id: str
    source: str
    first_day: date
    last_day: date
    kind: str  # unreachable | source down | timeout | http | ...
    error: str
    traceback: str
    attempts: int
    status: str  # pending | exhausted | resolved
    failed_at: datetime  # the latest failure
    next_attempt_at: datetime | None  # when a replay is due (pending only)
    run_id: str  # the run of the latest event

    def due(self, now: datetime) -> bool:
        return self.status == PENDING and self.next_attempt_at is not None and self.next_attempt_at <= now


def _schema() -> pa.Schema:
    import pyarrow as pa

    timestamp = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("first_day", pa.date32(), nullable=False),
            pa.field("last_day", pa.date32(), nullable=False),
            pa.field("kind", pa.string(), nullable=False),
            pa.field("error", pa.string(), nullable=False),
            pa.field("traceback", pa.string(), nullable=False),
            pa.field("attempts", pa.int32(), nullable=False),
            pa.field("status", pa.string(), nullable=False),
            pa.field("failed_at", timestamp, nullable=False),
            pa.field("next_attempt_at", timestamp),
            pa.field("run_id", pa.string(), nullable=False),
            pa.field("recorded_at", timestamp, nullable=False),
        ]
    )


class DeadLetterQueue:
    """Record failures, find what is due, mark what replayed."""

    def __init__(self, location: TableLocation):
        self.location = location

    def entries(self) -> list[DeadLetter]:
        """Every entry's latest state, newest failure first."""
        table = self.location.open()
        if table is None:
            return []
        rows = table.to_pyarrow_dataset(filesystem=self.location.filesystem()).to_table().to_pylist()
        latest: dict[str, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: r["recorded_at"]):
            latest[row["id"]] = row
        entries = [
            DeadLetter(**{k: v for k, v in row.items() if k != "recorded_at"}) for row in latest.values()
        ]
        return sorted(entries, key=lambda e: e.failed_at, reverse=True)

    def get(self, id: str) -> DeadLetter | None:
        return next((e for e in self.entries() if e.id == id), None)

    def open_entries(self) -> list[DeadLetter]:
        return [e for e in self.entries() if e.status != RESOLVED]

    def due(self, now: datetime | None = None) -> list[DeadLetter]:
        now = now or datetime.now(UTC)
        return [e for e in self.entries() if e.due(now)]

    def record_failure(
        self,
        *,
        source: str,
        first_day: date,
        last_day: date,
        kind: str,
        error: str,
        traceback: str,
        run_id: str,
        now: datetime | None = None,
    ) -> DeadLetter:
        """A failed attempt of ``source`` over the days: a new entry, or the next attempt of the
        open one (a resolved entry failing again starts over)."""
        now = now or datetime.now(UTC)
        id = entry_id(source, first_day, last_day)
        previous = self.get(id)
        attempts = 1 if previous is None or previous.status == RESOLVED else previous.attempts + 1
        exhausted = attempts >= MAX_ATTEMPTS
        entry = DeadLetter(
            id=id,
            source=source,
            first_day=first_day,
            last_day=last_day,
            kind=kind,
            error=error,
            traceback=traceback,
            attempts=attempts,
            status=EXHAUSTED if exhausted else PENDING,
            failed_at=now,
            next_attempt_at=None if exhausted else now + BACKOFF[attempts - 1],
            run_id=run_id,
        )
        self._append([entry], now)
        return entry

    def resolve(self, id: str, run_id: str, now: datetime | None = None) -> DeadLetter | None:
        """The entry's days succeeded (a replay, or any later run over them)."""
        from dataclasses import replace

        now = now or datetime.now(UTC)
        previous = self.get(id)
        if previous is None or previous.status == RESOLVED:
            return previous
        entry = replace(previous, status=RESOLVED, next_attempt_at=None, run_id=run_id)
        self._append([entry], now)
        return entry

    def resolve_covered(self, source: str, first_day: date, last_day: date, run_id: str) -> list[DeadLetter]:
        """Resolve the open entries of ``source`` whose days a successful run covered."""
        covered = [
            e
            for e in self.open_entries()
            if e.source == source and first_day <= e.first_day and e.last_day <= last_day
        ]
        return [r for e in covered if (r := self.resolve(e.id, run_id)) is not None]

    def _append(self, entries: Sequence[DeadLetter], now: datetime) -> None:
        import pyarrow as pa
        from deltalake import write_deltalake

        schema = _schema()
        rows = [{**entry.__dict__, "recorded_at": now} for entry in entries]
        data = pa.Table.from_pylist(rows, schema=schema)
        table = self.location.open()
        write_deltalake(
            table if table is not None else self.location.target,
            data,
            mode="append",
            storage_options=None if table is not None else self.location.storage_options,
        )
