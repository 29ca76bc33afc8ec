"""Everything bronze checks before it writes: the circuit breaker's evidence.

A run must fail early, with the reason, and write nothing when the source is down, a path of the
landing zone cannot be read, a day of the run has no files, a file's layout breaks the contract,
the tables no longer match the contract, rewriting a day would drop rows whose files are gone,
the last ingest was interrupted between its two commits, or the PII key is not the one the
tables were tokenised with. ``plan_bronze`` gathers all of these (not just the first) without
writing anything; bronze refuses to run while any is present. It also notes what is worth a
warning but loads: empty and header-only files, matches that are not files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from lakehouse.bronze.landing import LandingFile, LandingUnavailableError, Unreadable, list_day
from lakehouse.bronze.layout import (
    LandingSchemaError,
    Layout,
    check_file_name,
    check_jsonl_fields,
    csv_fields,
    empty_file_note,
    jsonl_fields,
    match_layout,
    parquet_fields,
)
from lakehouse.bronze.pairing import unpaired_write
from lakehouse.bronze.pii_keys import check_key
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, QUARANTINE_SCHEMA, bronze_schema
from lakehouse.days import days_between, restated_days
from lakehouse.landing.zone import LandingZone
from lakehouse.privacy.retention import retained_from, today_in
from lakehouse.tables.delta import SchemaMismatchError, added_columns
from lakehouse.tables.location import TableLocation
from lakehouse.tables.scan import register_scan
from lakehouse.tables.sql import day_range
from lakehouse.tables.stats import columns_with_values

EARLY_TOLERANCE_DAYS = 1  # a file of day D may hold rows of early D+1 (export cut-off, clock skew)


class LandingFilesMissingError(RuntimeError):
    """Restating a day would drop rows whose landing files are gone."""


class NoFilesForDayError(RuntimeError):
    """A day of the run has no landing files: the source is late, down or misconfigured."""


class UnreadableLandingError(RuntimeError):
    """A landing path the run needs cannot be read (permissions, a broken link, I/O)."""


@dataclass(frozen=True)
class Problem:
    # unreachable | unreadable | no files | layout | table schema | files gone | interrupted write
    # | pii key
    kind: str
    error: Exception
    days: tuple[date, ...]  # the days it concerns

    @property
    def message(self) -> str:
        return str(self.error)


@dataclass(frozen=True)
class Withdrawn:
    """A file whose rows a run drops because it is gone from landing (``allow_missing_files``)."""

    file: str
    rows: dict[date, int]  # bronze and quarantine rows it brought, per day

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass
class BronzePlan:
    contract: SourceContract
    start: date  # the run's days...
    end: date
    first: date  # ...and the days it rewrites (its lookback before them)
    last: date
    files: list[LandingFile] = field(default_factory=list)
    layouts: dict[str, Layout] = field(default_factory=dict)  # by relative path (CSV, Parquet)
    added_columns: dict[str, list[str]] = field(default_factory=dict)  # per table: nullable columns to add
    problems: list[Problem] = field(default_factory=list)
    notes: dict[date, list[str]] = field(default_factory=lambda: defaultdict(list))  # warnings, by day
    withdrawn: list[Withdrawn] = field(default_factory=list)  # accepted losses (allow_missing_files)
    expired: tuple[date, date] | None = None  # days of the run retention expired: left as they are

    @property
    def days(self) -> list[date]:
        return days_between(self.first, self.last)

    def clamp(self, day: date) -> date:
        return min(max(day, self.first), self.last)


def arrival_days(contract: SourceContract, first: date, last: date) -> list[date]:
    """The arrival days whose files may hold rows with event dates in ``first..last``."""
    if contract.event_time_column is None:  # dated by arrival: a day's rows are its own files'
        return days_between(first, last)
    return days_between(
        first - timedelta(days=EARLY_TOLERANCE_DAYS), last + timedelta(days=contract.partitions.lookback_days)
    )


def plan_bronze(
    contract: SourceContract,
    *,
    start: date,
    end: date,
    landing_root: LandingZone,
    bronze: TableLocation,
    quarantine: TableLocation,
    allow_missing_files: bool = False,
    allow_empty_days: bool = False,
    pii_fingerprint: str | None = None,
    rotating_to: str | None = None,
    today: date | None = None,
) -> BronzePlan | None:
    """What a run for ``start..end`` would read and write, and what stops it; None when no day of
    the range is in the source's history, or every one is expired by retention (nothing to do).
    ``pii_fingerprint``: the run's key's (sources with PII); ``rotating_to``: the fingerprint a
    key rotation run installs; ``today``: the day retention windows count back from (default:
    today in the source's timezone).

    Days retention expired (``privacy.retention.retained_from``: out of bronze's window, or whose
    landing files it may have deleted) are not rewritten: the plan starts after them and names
    them in ``expired``, so a backfill over them neither trips the missing-files guard nor
    brings deleted data back."""
    if end < start:
        raise ValueError(f"empty partition range {start}..{end}")
    if not contract.partitions.partitioned:
        return _plan_whole(
            contract, landing_root, bronze, quarantine, allow_empty_days, pii_fingerprint, rotating_to
        )
    window = restated_days(contract, start, end)
    if window is None:
        return None
    kept = retained_from(contract, today if today is not None else today_in(contract))
    if kept is not None and window[0] < kept:  # retention expired them: kept as they are
        if window[1] < kept:
            return None
        expired = (window[0], kept - timedelta(days=1))
        window, start = (kept, window[1]), max(start, kept)
    else:
        expired = None
    plan = BronzePlan(contract, start, end, *window, expired=expired)
    everywhere = tuple(plan.days)
    try:
        listings = {
            day: list_day(landing_root, contract.extract, day) for day in arrival_days(contract, *window)
        }
    except LandingUnavailableError as error:
        plan.problems.append(Problem("unreachable", error, everywhere))
        return plan
    plan.files = [f for listing in listings.values() for f in listing.files]
    unreadable = [u for listing in listings.values() for u in listing.unreadable]
    _check_readable(plan, unreadable)
    for day_listing in listings.values():
        for item in day_listing.not_files:
            plan.notes[plan.clamp(item.arrival_date)].append(
                f"{item.relative_path}: matches {contract.extract.path} but is {item.kind}, not a file; not read"
            )
    if not (allow_empty_days or contract.extract.allow_empty_days):
        for day in days_between(max(start, plan.first), plan.last):
            found = listings.get(day)
            if found is None or found.files or found.unreadable:
                continue  # files, or unreadable paths (reported as such, never as "no files")
            pattern = contract.extract.path.replace("{date}", day.isoformat())
            odd = "; ".join(f"{n.relative_path} is {n.kind}" for n in found.not_files)
            plan.problems.append(
                Problem(
                    "no files",
                    NoFilesForDayError(
                        f"{contract.name}: no landing files for {day} ({pattern} matched "
                        f"{'nothing' if not odd else 'no file: ' + odd}); the source may be late or down. "
                        "Run with allow_empty_days to accept an empty day (or declare "
                        "extract.allow_empty_days: true in the contract if empty days are normal)."
                    ),
                    (day,),
                )
            )
    _check_tables(plan, bronze, quarantine)
    _check_files_still_present(
        plan, bronze, quarantine, allow_missing_files, [u.relative_path for u in unreadable]
    )
    _check_writes(plan, bronze, quarantine, pii_fingerprint, rotating_to)
    return plan


def _check_tables(plan: BronzePlan, bronze: TableLocation, quarantine: TableLocation) -> None:
    """The file layouts and both tables against the contract."""
    _check_layouts(plan, bronze)
    for name, location, schema in (
        ("bronze", bronze, bronze_schema(plan.contract)),
        ("quarantine", quarantine, QUARANTINE_SCHEMA),
    ):
        try:
            plan.added_columns[name] = added_columns(location, schema)
        except SchemaMismatchError as error:
            plan.problems.append(Problem("table schema", error, tuple(plan.days)))


def _check_writes(
    plan: BronzePlan,
    bronze: TableLocation,
    quarantine: TableLocation,
    pii_fingerprint: str | None,
    rotating_to: str | None,
) -> None:
    """What earlier writes left: an interrupted one, another PII key."""
    name, everywhere = plan.contract.name, tuple(plan.days)
    unpaired = unpaired_write(bronze, quarantine)
    if unpaired is not None:
        plan.problems.append(Problem("interrupted write", RuntimeError(unpaired.describe(name)), everywhere))
    if pii_fingerprint is not None:
        whole = not plan.contract.partitions.partitioned  # a write of it rewrites every day it holds
        changed = check_key(
            name,
            {f"bronze/{name}": (bronze, EVENT_DATE), f"quarantine/{name}": (quarantine, "_partition_date")},
            pii_fingerprint,
            rotating_to=rotating_to,
            rewritten=(date.min, date.max) if whole else (plan.first, plan.last),
        )
        if changed is not None:
            plan.problems.append(Problem("pii key", changed, everywhere))


def _plan_whole(
    contract: SourceContract,
    landing_root: LandingZone,
    bronze: TableLocation,
    quarantine: TableLocation,
    allow_empty_days: bool,
    pii_fingerprint: str | None,
    rotating_to: str | None,
) -> BronzePlan:
    """A source refreshed whole (``partitions.grain: none``): the files its path matches now,
    each dated by its delivery day (in the source's timezone), replace both tables. Nothing is
    "gone" when a file leaves: the next delivery replaces the last."""
    zone = ZoneInfo(contract.partitions.timezone)
    today = datetime.now(zone).date()
    plan = BronzePlan(contract, today, today, today, today)
    try:
        listing = list_day(landing_root, contract.extract, today)
    except LandingUnavailableError as error:
        plan.problems.append(Problem("unreachable", error, (today,)))
        return plan
    plan.files = [replace(f, arrival_date=f.modified_at.astimezone(zone).date()) for f in listing.files]
    if plan.files:
        plan.first = plan.start = min(f.arrival_date for f in plan.files)
        plan.last = plan.end = max(f.arrival_date for f in plan.files)
    _check_readable(plan, listing.unreadable)
    for item in listing.not_files:
        plan.notes[plan.last].append(
            f"{item.relative_path}: matches {contract.extract.path} but is {item.kind}, not a file; not read"
        )
    if (
        not plan.files
        and not listing.unreadable
        and not (allow_empty_days or contract.extract.allow_empty_days)
    ):
        plan.problems.append(
            Problem(
                "no files",
                NoFilesForDayError(
                    f"{contract.name}: no landing files ({contract.extract.path} matched nothing); the source "
                    "may be late or down. Run with allow_empty_days to load it empty."
                ),
                (plan.last,),
            )
        )
    _check_tables(plan, bronze, quarantine)
    _check_writes(plan, bronze, quarantine, pii_fingerprint, rotating_to)
    return plan


def _check_readable(plan: BronzePlan, unreadable: list[Unreadable]) -> None:
    """An unreadable path stops the run, named with the OS's error. It is never reported as a
    day without files: the advice for that (``allow_missing_files``) would drop the day's rows."""
    by_day: dict[date, list[Unreadable]] = defaultdict(list)
    for item in unreadable:
        by_day[plan.clamp(item.arrival_date)].append(item)
    for day, items in sorted(by_day.items()):
        plan.problems.append(
            Problem(
                "unreadable",
                UnreadableLandingError(
                    f"{plan.contract.name}: unreadable landing path(s) for {day}: "
                    + "; ".join(i.describe() for i in items)
                    + ". Nothing was written; make them readable by the process that loads bronze and rerun "
                    "(the day's files are there: do not accept the day as empty or its files as gone)."
                ),
                (day,),
            )
        )


# How far before a run a JSON-lines field's values count as recent (its absence may be a rename).
RECENT_DAYS = 7


def _check_layouts(plan: BronzePlan, bronze: TableLocation) -> None:
    fmt = plan.contract.extract.format
    con = duckdb.connect()
    if fmt == "jsonl":
        # What bronze holds for the run's days (from earlier loads) and the week before them.
        populated = columns_with_values(
            bronze, EVENT_DATE, plan.first - timedelta(days=RECENT_DAYS), plan.last
        )
    try:
        for file in plan.files:
            try:
                check_file_name(file)
                note = empty_file_note(con, plan.contract, file)
                if note and not plan.contract.extract.allow_empty_days:
                    plan.notes[plan.clamp(file.arrival_date)].append(note)
                if file.size == 0:
                    continue
                if fmt == "jsonl":
                    check_jsonl_fields(plan.contract, file, jsonl_fields(con, file), populated)
                    continue
                fields = csv_fields(file, plan.contract) if fmt == "csv" else parquet_fields(con, file)
                if fields:
                    plan.layouts[file.relative_path] = match_layout(plan.contract, file, fields)
            except LandingSchemaError as error:
                plan.problems.append(Problem("layout", error, (plan.clamp(file.arrival_date),)))
    finally:
        con.close()


def _check_files_still_present(
    plan: BronzePlan,
    bronze: TableLocation,
    quarantine: TableLocation,
    allow_missing_files: bool,
    unreadable: list[str],
) -> None:
    """Rows of the rewritten days whose landing files are gone: a problem, or, when the run
    accepts the loss, the plan's ``withdrawn`` files (the receipt names them and their rows).
    A file under an unreadable path is not gone (that is its own problem, with its own advice)."""
    present = {f.relative_path for f in plan.files}

    def hidden(name: str) -> bool:
        return any(name == u or name.startswith(u.rstrip("/") + "/") for u in unreadable)

    gone: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    con = duckdb.connect()
    try:
        for location, column in ((bronze, EVENT_DATE), (quarantine, "_partition_date")):
            if not register_scan(con, "existing", location, (column, plan.first, plan.last)):
                continue
            rows = con.execute(
                f"SELECT {column}, _source_file, count(*) FROM existing "
                f"WHERE {day_range(column, plan.first, plan.last)} GROUP BY ALL"
            ).fetchall()
            for day, source_file, count in rows:
                if source_file not in present and not hidden(source_file):
                    gone[source_file][day] += count
    finally:
        con.close()
    if not gone:
        return
    if allow_missing_files:
        plan.withdrawn = [Withdrawn(name, dict(days)) for name, days in sorted(gone.items())]
        return
    listing = "; ".join(
        f"{name} (rows of {', '.join(d.isoformat() for d in sorted(days))})"
        for name, days in sorted(gone.items())
    )
    error = LandingFilesMissingError(
        f"bronze/{plan.contract.name}: rewriting {plan.first}..{plan.last} would drop rows whose landing files "
        f"are gone: {listing}. Restore the files, or rerun with allow_missing_files to accept losing those rows "
        "(they then leave silver and gold too)."
    )
    plan.problems.append(
        Problem("files gone", error, tuple(sorted({d for days in gone.values() for d in days})))
    )
