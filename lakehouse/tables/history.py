"""What the platform wrote into a Delta table's log: the commit metadata of its own writes.

Every write the platform commits carries custom metadata (run id, the days it covered, the
contract version, the bronze/quarantine write it belongs to, the PII key's fingerprint). Reading
it back answers questions no data file can: which write a table's current state comes from, and
under which key each day was tokenised. Reading costs the log's commit files, not the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from lakehouse.days import days_between
from lakehouse.tables.location import TableLocation

WRITE_ID = "lakehouse_write_id"  # pairs the bronze and quarantine commits of one ingest
PARTITIONS = "partitions"  # "first..last": the days a write replaced or merged


@dataclass(frozen=True)
class Commit:
    version: int
    operation: str
    metadata: dict[str, Any]  # everything in the commit's info, the platform's keys included

    def get(self, key: str) -> str | None:
        value = self.metadata.get(key)
        return None if value is None else str(value)

    @property
    def days(self) -> list[date]:
        """The days the write covered (its ``partitions`` metadata), or none."""
        text = self.get(PARTITIONS)
        if not text or ".." not in text:
            return []
        first, last = text.split("..", 1)
        try:
            return days_between(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            return []


def commits(location: TableLocation, limit: int | None = None) -> Iterator[Commit]:
    """The table's commits, newest first (nothing when there is no table)."""
    table = location.open()
    if table is None:
        return
    for entry in table.history(limit=limit):
        yield Commit(int(entry["version"]), str(entry.get("operation", "")), dict(entry))


def latest_with(location: TableLocation, key: str) -> Commit | None:
    """The newest commit whose metadata has ``key`` (the recent log first, all of it if need be)."""
    for limit in (RECENT_COMMITS, None):
        found = next((c for c in commits(location, limit) if c.get(key) is not None), None)
        if found is not None or limit is None:
            return found
    return None


RECENT_COMMITS = 20


def current_version(location: TableLocation) -> int | None:
    table = location.open()
    return None if table is None else table.version()
