"""The landing sensor: files arriving in the landing zone start one run for the days they hold.

Each tick lists, for every daily file source, the arrival-day folders of its horizon (the last
``HORIZON_DAYS`` days, within the source's history): the cost follows the days listed, never the
zone's history. A file is new when the cursor has not seen it with the same identity (size and
modification time in nanoseconds locally, the ETag on S3), so a rewritten file counts again. A
new file whose arrival day's bronze partition was materialised after the file was written is
already processed (by the daily automation, the demo, a backfill): it is recorded without a run.

The new files of one tick make ONE run over the range tags (``lakehouse/runs.py``), from the
earliest arrival day to the latest, within the source's history (sources whose files cover
other days get a run of their own: a run over days a source has no files for would trip its
circuit breaker). Bronze restates each run day's ``lookback_days`` before it, so a late file's
rows reach their earlier days; silver runs in the same run. Gold is not in it: it follows by automation once every source
feeding it has the day, or may be stale (``assets/automation.py``).
Files of a day not complete yet wait for a later tick (their day's partition does not exist).

The cursor keeps only the files of the horizon (per source, per arrival day), so its size is
bounded by the deliveries of ``HORIZON_DAYS`` days, whatever the history. Files older than the
horizon are the bootstrap's or a backfill's business, not the sensor's.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.contracts.model import SourceContract
from lakehouse.resources.storage import LakeStorage
from lakehouse.runs import materialised_at, range_tags

HORIZON_DAYS = 7  # arrival days a tick lists (and the cursor remembers), today included
TRIGGER_TAG = "lakehouse/trigger"
FILES_TAG = "lakehouse/landing_files"

Seen = dict[str, dict[str, dict[str, str]]]  # source -> arrival day -> relative path -> identity


@dataclass(frozen=True)
class Arrival:
    """One file in the landing zone as the sensor compares it."""

    source: str
    relative_path: str
    day: date  # its arrival day (the {date} of its folder)
    identity: str  # changes when the file is rewritten
    modified_at: datetime  # UTC


def watched(contracts: Sequence[SourceContract]) -> list[SourceContract]:
    """Daily file sources: live sources extract in their own run; sources refreshed whole have
    no arrival days."""
    return [c for c in contracts if c.extract.kind == "files" and c.partitions.partitioned]


def horizon(contract: SourceContract, today: date) -> list[date]:
    """The arrival days a tick lists for ``contract``: the last ``HORIZON_DAYS``, in its history."""
    first = max(today - timedelta(days=HORIZON_DAYS - 1), contract.partitions.start)
    last = min(today, contract.partitions.end) if contract.partitions.end else today
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def list_arrivals(zone: object, contract: SourceContract, day: date) -> list[Arrival]:
    """The files of one arrival day, without reading them (on S3: the listing alone)."""
    if isinstance(zone, str):
        import os

        from lakehouse.bronze.landing import list_day

        arrivals = []
        for file in list_day(zone, contract.extract, day).files:
            status = os.stat(file.path)
            arrivals.append(
                Arrival(
                    contract.name,
                    file.relative_path,
                    day,
                    f"{status.st_size}:{status.st_mtime_ns}",
                    datetime.fromtimestamp(status.st_mtime, tz=UTC),
                )
            )
        return arrivals
    return [
        Arrival(contract.name, obj.relative_path, day, obj.etag, obj.modified_at)
        for obj in zone.objects_for_day(contract.extract, day)  # type: ignore[attr-defined]
    ]


def load_cursor(text: str | None) -> Seen:
    return json.loads(text)["seen"] if text else {}


def dump_cursor(seen: Seen) -> str:
    return json.dumps({"seen": seen}, sort_keys=True, separators=(",", ":"))


@dataclass
class Tick:
    """What one evaluation found: the files that need a run, and the cursor to keep."""

    new: list[Arrival]
    seen: Seen
    waiting: list[Arrival]  # new files of a day not complete yet


def bootstrapping(instance: dg.DagsterInstance, source: str) -> bool:
    """Whether a bootstrap run of ``source`` (the contract sensor's) is queued or running."""
    from lakehouse.sensors.bootstrap import BOOTSTRAP_TAG

    finished = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
    unfinished = [status for status in dg.DagsterRunStatus if status not in finished]
    runs = instance.get_run_records(
        filters=dg.RunsFilter(tags={BOOTSTRAP_TAG: source}, statuses=unfinished), limit=1
    )
    return bool(runs)


def evaluate(
    instance: dg.DagsterInstance,
    zone: object,
    contracts: Sequence[SourceContract],
    seen: Seen,
    now: datetime,
    last_complete: date | None,
) -> Tick:
    """Compare the horizon's files with ``seen``: new or rewritten files of complete days need a
    run unless bronze materialised their day after they were written; the cursor keeps the
    files found now (a file gone from the zone leaves it)."""
    tick = Tick(new=[], seen={}, waiting=[])
    for contract in watched(contracts):
        before = seen.get(contract.name, {})
        if bootstrapping(instance, contract.name):
            # Its bootstrap reads these files: judged once it finished (then materialised after
            # they were written, they need no run of their own), never loaded twice at once.
            tick.seen[contract.name] = before
            continue
        kept: dict[str, dict[str, str]] = {}
        unseen: list[Arrival] = []
        for listed in horizon(contract, now.date()):
            found = list_arrivals(zone, contract, listed)
            known = before.get(listed.isoformat(), {})
            kept[listed.isoformat()] = {
                a.relative_path: a.identity for a in found if known.get(a.relative_path) == a.identity
            }
            unseen += [a for a in found if known.get(a.relative_path) != a.identity]
        done = materialised_at(instance, bronze_key(contract), {a.day.isoformat() for a in unseen})
        for arrival in unseen:
            day = arrival.day.isoformat()
            if last_complete is None or arrival.day > last_complete:
                tick.waiting.append(arrival)  # not recorded: judged again once its day exists
                continue
            kept[day][arrival.relative_path] = arrival.identity
            if done.get(day, 0.0) < arrival.modified_at.timestamp():
                tick.new.append(arrival)
        tick.seen[contract.name] = {day: files for day, files in kept.items() if files}
    return tick


def run_range(arrivals: Sequence[Arrival], contract: SourceContract) -> tuple[date, date]:
    """The partitions whose runs read one source's new files: their arrival days, within its
    history. Bronze restates the ``lookback_days`` before each; a file's early rows (of the day
    after its arrival) reach that day with its own run, which reads the files before it."""
    days = [a.day for a in arrivals]
    last = min(max(days), contract.partitions.end) if contract.partitions.end else max(days)
    return max(min(days), contract.partitions.start), last


def landing_requests(
    arrivals: Sequence[Arrival], contracts: Mapping[str, SourceContract]
) -> list[dg.RunRequest]:
    """One run per range of days: the sources whose new files cover the same days share it
    (normally all of them). Each run's key names its files and their identities, so a tick
    evaluated twice cannot start it twice."""
    by_range: dict[tuple[date, date], list[Arrival]] = defaultdict(list)
    for source in sorted({a.source for a in arrivals}):
        mine = [a for a in arrivals if a.source == source]
        by_range[run_range(mine, contracts[source])].extend(mine)
    requests = []
    for (start, end), files in sorted(by_range.items()):
        digest = hashlib.sha256(
            "\n".join(sorted(f"{a.source}/{a.relative_path}@{a.identity}" for a in files)).encode()
        ).hexdigest()[:16]
        changed = [contracts[s] for s in sorted({a.source for a in files})]
        requests.append(
            dg.RunRequest(
                run_key=f"landing:{digest}",
                asset_selection=[key for c in changed for key in (bronze_key(c), silver_key(c))],
                tags={**range_tags(start, end), TRIGGER_TAG: "landing", FILES_TAG: str(len(files))},
            )
        )
    return requests


def landing_sensor(
    contracts: Sequence[SourceContract], calendar: dg.TimeWindowPartitionsDefinition, interval_seconds: int
) -> dg.SensorDefinition:
    sources = {c.name: c for c in watched(contracts)}
    target = dg.AssetSelection.assets(*(k for c in sources.values() for k in (bronze_key(c), silver_key(c))))

    @dg.sensor(
        name="landing_files",
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        target=target,
        description="Starts one run for the days new or rewritten landing files can hold (bronze, "
        "then silver), once each file's arrival day is complete; gold follows by automation.",
    )
    def landing_files(context: dg.SensorEvaluationContext, lake: LakeStorage) -> dg.SensorResult:
        now = datetime.now(UTC)
        last = calendar.get_last_partition_key()  # the last complete day (UTC)
        last_complete = date.fromisoformat(last) if last else None
        tick = evaluate(
            context.instance,
            lake.landing(),
            list(sources.values()),
            load_cursor(context.cursor),
            now,
            last_complete,
        )
        cursor = dump_cursor(tick.seen)
        if not tick.new:
            waiting = f"; {len(tick.waiting)} file(s) wait for their day to end" if tick.waiting else ""
            return dg.SensorResult(skip_reason=f"no new landing files{waiting}", cursor=cursor)
        context.log.info(
            "%d new landing file(s): %s",
            len(tick.new),
            ", ".join(f"{a.source}/{a.relative_path}" for a in tick.new),
        )
        return dg.SensorResult(run_requests=landing_requests(tick.new, sources), cursor=cursor)

    return landing_files
