"""Everything bronze checks before it writes: the circuit breaker's evidence.

A run must fail early, with the reason, and write nothing when the source is down, a day of the
run has no files, a file's layout breaks the contract, the tables no longer match the contract,
or rewriting a day would drop rows whose files are gone. ``plan_bronze`` gathers all of these
(not just the first) without writing anything; bronze refuses to run while any is present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from lakehouse.bronze.landing import LandingFile, LandingUnavailableError, files_for_day
from lakehouse.bronze.layout import (
    LandingSchemaError,
    Layout,
    check_file_name,
    check_jsonl_fields,
    csv_fields,
    jsonl_fields,
    match_layout,
    parquet_fields,
)
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, QUARANTINE_SCHEMA, bronze_schema
from lakehouse.days import days_between, restated_days
from lakehouse.landing.zone import LandingZone
from lakehouse.tables.delta import SchemaMismatchError, added_columns, partition_dataset
from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import day_range
from lakehouse.tables.stats import columns_with_values

EARLY_TOLERANCE_DAYS = 1  # a file of day D may hold rows of early D+1 (export cut-off, clock skew)


class LandingFilesMissingError(RuntimeError):
    """Restating a day would drop rows whose landing files are gone."""


class NoFilesForDayError(RuntimeError):
    """A day of the run has no landing files: the source is late, down or misconfigured."""


@dataclass(frozen=True)
class Problem:
    kind: str  # unreachable | no files | layout | table schema | files gone
    error: Exception
    days: tuple[date, ...]  # the days it concerns

    @property
    def message(self) -> str:
        return str(self.error)


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

    @property
    def days(self) -> list[date]:
        return days_between(self.first, self.last)

    def clamp(self, day: date) -> date:
        return min(max(day, self.first), self.last)


def arrival_days(contract: SourceContract, first: date, last: date) -> list[date]:
    """The arrival days whose files may hold rows with event dates in ``first..last``."""
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
) -> BronzePlan | None:
    """What a run for ``start..end`` would read and write, and what stops it; None when the
    whole range precedes the source's history (nothing to do)."""
    if end < start:
        raise ValueError(f"empty partition range {start}..{end}")
    window = restated_days(contract, start, end)
    if window is None:
        return None
    plan = BronzePlan(contract, start, end, *window)
    everywhere = tuple(plan.days)
    try:
        by_day = {
            day: files_for_day(landing_root, contract.extract, day) for day in arrival_days(contract, *window)
        }
    except LandingUnavailableError as error:
        plan.problems.append(Problem("unreachable", error, everywhere))
        return plan
    plan.files = [f for files in by_day.values() for f in files]
    if not allow_empty_days:
        for day in days_between(max(start, plan.first), end):
            if not by_day.get(day):
                pattern = contract.extract.path.replace("{date}", day.isoformat())
                plan.problems.append(
                    Problem(
                        "no files",
                        NoFilesForDayError(
                            f"{contract.name}: no landing files for {day} ({pattern} matched nothing); the source may be "
                            "late or down. Run with allow_empty_days to accept an empty day."
                        ),
                        (day,),
                    )
                )
    _check_layouts(plan, bronze)
    for name, location, schema in (
        ("bronze", bronze, bronze_schema(contract)),
        ("quarantine", quarantine, QUARANTINE_SCHEMA),
    ):
        try:
            plan.added_columns[name] = added_columns(location, schema)
        except SchemaMismatchError as error:
            plan.problems.append(Problem("table schema", error, everywhere))
    if not allow_missing_files:
        _check_files_still_present(plan, bronze, quarantine)
    return plan


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


def _check_files_still_present(plan: BronzePlan, bronze: TableLocation, quarantine: TableLocation) -> None:
    present = {f.relative_path for f in plan.files}
    gone: dict[str, set[date]] = {}
    con = duckdb.connect()
    try:
        for location, column in ((bronze, EVENT_DATE), (quarantine, "_partition_date")):
            dataset = partition_dataset(location)
            if dataset is None:
                continue
            con.register("existing", dataset)
            rows = con.execute(
                f"SELECT DISTINCT {column}, _source_file FROM existing WHERE {day_range(column, plan.first, plan.last)}"
            ).fetchall()
            for day, source_file in rows:
                if source_file not in present:
                    gone.setdefault(source_file, set()).add(day)
    finally:
        con.close()
    if gone:
        listing = "; ".join(
            f"{name} (rows of {', '.join(d.isoformat() for d in sorted(days))})"
            for name, days in sorted(gone.items())
        )
        error = LandingFilesMissingError(
            f"bronze/{plan.contract.name}: rewriting {plan.first}..{plan.last} would drop rows whose landing files "
            f"are gone: {listing}. Restore the files, or rerun with allow_missing_files to accept losing those rows."
        )
        plan.problems.append(
            Problem("files gone", error, tuple(sorted({d for days in gone.values() for d in days})))
        )
