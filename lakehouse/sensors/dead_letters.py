"""The sensor that replays dead letters (``tables/dead_letters.py``) when their backoff is over.

Each due entry becomes one run of its source's bronze and silver assets over the entry's days
(the range tags: one run, however many days), tagged with the entry's id. The run key is the
entry and its attempt, so a tick never launches an attempt twice (a queued run that has not yet
failed or succeeded keeps the entry due, and its key blocks the next tick). The run itself
settles the entry: its bronze write resolves it (``resolve_covered``), its failure records the
next attempt on the entry's days, or exhausts it after the last one. Gold follows with the next
run that selects it; the replay restores what the failure kept out of the lake.

Every tick whose open entries differ from the last one's also records ``reports/dead_letters``
(a materialisation listing them) and its ``no_exhausted_dead_letters`` check, which fails while
an entry is exhausted: the UI shows what no replay could fix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import dagster as dg

from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.contracts.model import SourceContract
from lakehouse.resources import LakeStorage
from lakehouse.runs import range_tags
from lakehouse.tables.dead_letters import DEAD_LETTER_TAG, RESOLVED, DeadLetter, DeadLetterQueue

SENSOR_NAME = "dead_letter_replay"
SENSOR_INTERVAL_SECONDS = 30  # the shortest backoff is a minute


def replay_keys(contract: SourceContract) -> list[dg.AssetKey]:
    return [bronze_key(contract), silver_key(contract)]


def replay_tags(entry: DeadLetter, contract: SourceContract) -> dict[str, str]:
    """The entry's id, and its days as one range (a source refreshed whole has no days)."""
    days = range_tags(entry.first_day, entry.last_day) if contract.partitions.partitioned else {}
    return {DEAD_LETTER_TAG: entry.id, **days}


def replay_request(entry: DeadLetter, contract: SourceContract) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"dead_letter:{entry.id}:attempt-{entry.attempts + 1}",
        asset_selection=replay_keys(contract),
        tags=replay_tags(entry, contract),
    )


def replay_requests(
    entries: Sequence[DeadLetter], contracts: Sequence[SourceContract], now: datetime
) -> list[dg.RunRequest]:
    """A run for each due entry whose source still has a contract (others stay listed)."""
    by_name = {c.name: c for c in contracts}
    return [replay_request(e, by_name[e.source]) for e in entries if e.due(now) and e.source in by_name]


def state_digest(entries: Sequence[DeadLetter]) -> str:
    """What the report shows: the open entries' ids, attempts and statuses."""
    state = sorted(f"{e.id}:{e.attempts}:{e.status}" for e in entries if e.status != RESOLVED)
    return hashlib.sha256("|".join(state).encode()).hexdigest()[:16]


def dead_letter_sensor(
    contracts: Sequence[SourceContract], clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dg.SensorDefinition:
    """``clock``: what "now" is for the backoff (a test moves it on instead of waiting)."""
    keys = [key for contract in contracts for key in replay_keys(contract)]

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=dg.AssetSelection.assets(*keys),
        description="Replays dead letters (extractions that failed for reasons not the data's) once their "
        "backoff (1, 5, 30 min) is over, one run per entry over its days; records reports/dead_letters.",
    )
    def dead_letter_replay(context: dg.SensorEvaluationContext, lake: LakeStorage) -> dg.SensorResult:
        from lakehouse.checks.dead_letters import evaluation, materialization

        entries = DeadLetterQueue(lake.ops_table("dead_letters")).entries()
        requests = replay_requests(entries, contracts, clock())
        digest = state_digest(entries)
        changed = digest != context.cursor
        return dg.SensorResult(
            run_requests=requests,
            asset_events=[materialization(entries), evaluation(entries)] if changed else [],
            cursor=digest,
            skip_reason=None if requests or changed else "no dead letter is due",
        )

    return dead_letter_replay
