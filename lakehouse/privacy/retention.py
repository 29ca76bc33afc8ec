"""Retention by purpose: delete the days a contract's windows no longer cover, then vacuum.

A window of N days (``retention.bronze_days`` ...) keeps the N most recent days of its layer,
today (in the source's timezone) included; older days are expired:

- bronze (by ``_event_date``), quarantine (by ``_partition_date``) and merge/append silver (by
  ``_event_date``) lose them through a Delta ``delete`` whose predicate names the partition column
  only, so whole files leave the table and nothing is rewritten;
- scd2 silver (unpartitioned) loses the versions that ended (``valid_to``) before the window; a
  current version, whatever its age, is the key's present state and stays;
- landing files of expired arrival days (the ``{date}`` of their path) are deleted.

Then every table is vacuumed (``tables/vacuum.py``), which is when the deleted days' bytes leave
storage. Each step reads what is expired before it acts, and acts only when something is: a
rerun deletes nothing more and commits nothing. The bronze step keeps its hands off expired days
(``retained_from``): a backfill over them neither trips the missing-files guard nor rewrites them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from lakehouse.contracts.model import SourceContract
from lakehouse.landing.zone import LandingZone
from lakehouse.tables.location import TableLocation
from lakehouse.tables.vacuum import VacuumReport, vacuum

EVENT_DATE = "_event_date"
QUARANTINE_DATE = "_partition_date"
RETENTION_RUN = "lakehouse_retention"  # commit metadata of retention's deletes: the cutoff


def today_in(contract: SourceContract, now: datetime | None = None) -> date:
    """Today in the source's timezone: where its days start and end."""
    zone = ZoneInfo(contract.partitions.timezone)
    return (now or datetime.now(zone)).astimezone(zone).date()


def cutoff(days: int | None, today: date) -> date | None:
    """The first day a window of ``days`` keeps (None: no window, keep everything)."""
    return None if days is None else today - timedelta(days=days - 1)


def retained_from(contract: SourceContract, today: date) -> date | None:
    """The first event day the bronze step may (re)write: none before bronze's window (an
    expired day must not come back), nor any whose landing files retention may have deleted.

    A file of arrival day D may hold rows of day D + 1 (``EARLY_TOLERANCE_DAYS``), so the first
    rewritable event day is one after the first kept arrival day, for sources dated by event
    time. None: no window limits it."""
    from lakehouse.bronze.preflight import EARLY_TOLERANCE_DAYS

    retention = contract.retention
    bounds = []
    if (bronze := cutoff(retention.bronze_days, today)) is not None:
        bounds.append(bronze)
    if (landing := cutoff(retention.landing_days, today)) is not None:
        tolerance = 0 if contract.event_time_column is None else EARLY_TOLERANCE_DAYS
        bounds.append(landing + timedelta(days=tolerance))
    return max(bounds) if bounds else None


@dataclass
class TableRetention:
    """What retention did to one table (or a source's landing files)."""

    table: str  # "bronze/orders", "landing/orders"
    cutoff: date | None  # days before it are expired; None: no window
    days_deleted: list[date] = field(default_factory=list)
    rows_deleted: int = 0  # scd2: versions; landing: none counted
    files_removed: int = 0  # data files the delete took out of the table, or landing files deleted
    bytes_freed: int = 0  # landing files' bytes, plus what vacuum gave back
    version_before: int | None = None
    version_after: int | None = None
    vacuumed_files: int = 0
    note: str = ""

    def add_vacuum(self, report: VacuumReport) -> None:
        self.vacuumed_files += report.files_removed
        self.bytes_freed += report.bytes_freed
        self.version_after = report.version

    def row(self) -> tuple:
        return (
            self.table,
            str(self.cutoff) if self.cutoff else "",
            _day_text(self.days_deleted),
            self.rows_deleted,
            self.files_removed,
            self.vacuumed_files,
            self.bytes_freed,
            "" if self.version_before is None else self.version_before,
            "" if self.version_after is None else self.version_after,
        )


ROW_HEADERS = [
    "table",
    "keeps from",
    "days deleted",
    "rows deleted",
    "files removed",
    "files vacuumed",
    "bytes freed",
    "version before",
    "version after",
]


def _day_text(days: list[date]) -> str:
    from lakehouse.bronze.pii_keys import day_ranges

    return day_ranges(days) if days else ""


def expire_days(
    location: TableLocation, column: str, before: date | None, name: str, run_id: str = ""
) -> TableRetention:
    """Delete the partitions of ``column`` older than ``before``: whole files, one commit."""
    from lakehouse.tables.delta import commit_properties
    from lakehouse.tables.stats import rows_per_day

    report = TableRetention(name, before)
    table = location.open()
    if table is None:
        return report
    report.version_before = report.version_after = table.version()
    if before is None:
        return report
    held = rows_per_day(location, column)
    expired = sorted(day for day, count in held.items() if day < before and count)
    if not expired:
        return report
    metrics = table.delete(
        f"{column} < '{before.isoformat()}'",
        commit_properties=commit_properties(
            {
                RETENTION_RUN: f"before {before}",
                "dagster_run_id": run_id,
                # Not "partitions": that key says which days a write (re)wrote, and this wrote none.
                "lakehouse_retention_days": f"{expired[0]}..{expired[-1]}",
            }
        ),
    )
    report.days_deleted = expired
    report.rows_deleted = int(metrics.get("num_deleted_rows") or 0)
    report.files_removed = int(metrics.get("num_removed_files") or 0)
    report.version_after = table.version()
    return report


def expire_versions(
    location: TableLocation, contract: SourceContract, before: date | None, name: str, run_id: str = ""
) -> TableRetention:
    """scd2: delete the versions that ended before the window (``valid_to`` before midnight of
    ``before`` in the source's timezone). Unpartitioned, so the files holding them are rewritten
    without them."""
    import duckdb

    from lakehouse.tables.delta import commit_properties, partition_dataset

    report = TableRetention(name, before)
    table = location.open()
    if table is None:
        return report
    report.version_before = report.version_after = table.version()
    if before is None:
        return report
    start = datetime(before.year, before.month, before.day, tzinfo=ZoneInfo(contract.partitions.timezone))
    instant = start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    con = duckdb.connect()
    try:
        con.register("silver", partition_dataset(location))
        con.execute("SET TimeZone = 'UTC'")
        days = con.execute(
            f"SELECT DISTINCT CAST(timezone('{contract.partitions.timezone}', valid_to) AS DATE) FROM silver "
            "WHERE valid_to < CAST(? AS TIMESTAMPTZ) ORDER BY 1",
            [instant],
        ).fetchall()
    finally:
        con.close()
    if not days:
        return report
    metrics = table.delete(
        f"valid_to < '{instant}'",
        commit_properties=commit_properties({RETENTION_RUN: f"before {before}", "dagster_run_id": run_id}),
    )
    report.days_deleted = [row[0] for row in days]
    report.rows_deleted = int(metrics.get("num_deleted_rows") or 0)
    report.files_removed = int(metrics.get("num_removed_files") or 0)
    report.version_after = table.version()
    return report


def expire_landing(zone: LandingZone, contract: SourceContract, before: date | None) -> TableRetention:
    """Delete the landing files of arrival days before ``before`` (a local landing zone; on S3 an
    expiration lifecycle rule on the prefix does the same without a run, and is what to use)."""
    report = TableRetention(f"landing/{contract.name}", before)
    if before is None or not contract.partitions.partitioned:
        return report
    if not isinstance(zone, str):
        report.note = "S3 landing zone: expire it with an S3 lifecycle rule on the source's prefix"
        return report
    from lakehouse.bronze.landing import files_for_day

    root = Path(zone)
    for day in arrival_days_held(root, contract.extract.path):
        if day >= before:
            continue
        files = files_for_day(zone, contract.extract, day)
        for file in files:
            report.bytes_freed += file.size
            os.remove(file.path)
            _remove_empty_parents(Path(file.path).parent, root)
        if files:
            report.days_deleted.append(day)
            report.files_removed += len(files)
    return report


def arrival_days_held(root: Path, template: str) -> list[date]:
    """The arrival days the landing zone has something for: the names that fill ``{date}`` in
    the template's part that holds it (a folder per day, or a file name), listed once."""
    import glob
    import re

    parts = [p for p in template.split("/") if p]
    index = next(i for i, p in enumerate(parts) if "{date}" in p)
    dated = parts[index]
    pattern = re.compile(
        "^" + re.escape(dated).replace(re.escape("{date}"), r"(\d{4}-\d{2}-\d{2})").replace(r"\*", ".*") + "$"
    )
    found: set[date] = set()
    for path in glob.glob(str(root.joinpath(*parts[:index], dated.replace("{date}", "*")))):
        match = pattern.match(os.path.basename(path))
        if match:
            try:
                found.add(date.fromisoformat(match.group(1)))
            except ValueError:
                continue
    return sorted(found)


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()  # only when empty
        except OSError:
            return
        directory = directory.parent


@dataclass
class SourceRetention:
    source: str
    tables: list[TableRetention]


def apply_retention(
    contract: SourceContract,
    *,
    landing: LandingZone,
    table: Callable[[str, str], TableLocation],
    retain_hours: int,
    today: date | None = None,
    run_id: str = "",
) -> SourceRetention:
    """One source's expired days deleted from every layer, then its tables vacuumed.
    ``table``: ``(layer, name) -> TableLocation`` (``LakeStorage.table``)."""
    day = today or today_in(contract)
    windows = contract.retention
    name, entity = contract.name, contract.entity_name
    bronze, quarantine, silver = table("bronze", name), table("quarantine", name), table("silver", entity)
    if not contract.partitions.partitioned:  # every load replaces it with what its files hold now
        reports = [
            TableRetention(f"{layer}/{n}", None, note="refreshed whole: it keeps what its current files hold")
            for layer, n in (("bronze", name), ("quarantine", name), ("silver", entity))
        ]
        for report, location in zip(reports, (bronze, quarantine, silver), strict=True):
            report.add_vacuum(vacuum(location, retain_hours))
        return SourceRetention(name, reports)
    reports = [expire_landing(landing, contract, cutoff(windows.landing_days, day))]
    reports.append(
        expire_days(bronze, EVENT_DATE, cutoff(windows.bronze_days, day), f"bronze/{name}", run_id)
    )
    reports.append(
        expire_days(
            quarantine, QUARANTINE_DATE, cutoff(windows.quarantine_days, day), f"quarantine/{name}", run_id
        )
    )
    silver_cutoff = cutoff(windows.silver_days, day)
    if contract.silver.mode == "scd2":
        reports.append(expire_versions(silver, contract, silver_cutoff, f"silver/{entity}", run_id))
    else:
        reports.append(expire_days(silver, EVENT_DATE, silver_cutoff, f"silver/{entity}", run_id))
    for report, location in zip(reports[1:], (bronze, quarantine, silver), strict=True):
        report.add_vacuum(vacuum(location, retain_hours))
    return SourceRetention(name, reports)
