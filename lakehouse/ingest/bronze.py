"""Bronze ingestion for a range of days: landing files → typed Delta rows + quarantine.

A run for days ``start..end`` restates ``start - lookback_days .. end`` (never before the
source's ``partitions.start``): rows arrive up to ``lookback_days`` late, so the file delivered
today holds rows of the previous days, and rewriting those days is how they get them (as dbt's
incremental "lookback" does). It reads every file that can hold rows of those days (arrived from
the day before the first to ``lookback_days`` after the last), stages them in DuckDB, then
replaces exactly those days in the bronze table and in the quarantine table. Each row read and
attributed to one of those days ends up in exactly one of the two, so
``read = written + quarantined`` holds per day.

Rewriting a day must not lose what it held: if rows of a day came from files that are no longer
in the landing zone (deleted, expired, moved), the run stops and names them, unless the caller
explicitly accepts the loss.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, QUARANTINE_SCHEMA, bronze_schema
from lakehouse.days import days_between, restated_days
from lakehouse.ingest.landing import files_for_days
from lakehouse.ingest.records import EARLY_TOLERANCE_DAYS, STAGED, FileReport, stage_file, staging_connection
from lakehouse.sql import ARROW_BATCH_ROWS, day_range, ident, literal, scalar
from lakehouse.tables.delta import partition_dataset, replace_partitions, schema_mode_for
from lakehouse.tables.location import TableLocation


class LandingFilesMissingError(RuntimeError):
    """Restating a day would drop rows whose landing files are gone."""


@dataclass
class DayCounts:
    read: int = 0
    written: int = 0
    quarantined: int = 0


@dataclass
class BronzeResult:
    start: date  # the run's days...
    end: date
    restated_start: date  # ...and the earlier days it rewrote (its lookback)
    files: list[FileReport]
    days: dict[date, DayCounts]
    rescued_rows: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(d.read for d in self.days.values())

    @property
    def rows_written(self) -> int:
        return sum(d.written for d in self.days.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(d.quarantined for d in self.days.values())

    @property
    def rescued_columns(self) -> list[str]:
        return sorted({c for f in self.files for c in f.rescued_columns})

    @property
    def missing_columns(self) -> list[str]:
        return sorted({c for f in self.files for c in f.missing_columns})


def arrival_days(contract: SourceContract, start: date, end: date) -> list[date]:
    """The arrival days whose files may hold rows with event dates in ``start..end``."""
    return days_between(
        start - timedelta(days=EARLY_TOLERANCE_DAYS), end + timedelta(days=contract.partitions.lookback_days)
    )


def ingest_range(
    contract: SourceContract,
    *,
    start: date,
    end: date,
    landing_root: str,
    bronze: TableLocation,
    quarantine: TableLocation,
    pii_key: str | None,
    run_id: str,
    commit_metadata: dict[str, str] | None = None,
    allow_missing_files: bool = False,
) -> BronzeResult:
    if end < start:
        raise ValueError(f"empty partition range {start}..{end}")
    restated = restated_days(contract, start, end)
    if restated is None:  # entirely before the source's history: nothing to read or write
        return BronzeResult(start=start, end=end, restated_start=start, files=[], days={})
    first, last = restated
    files = files_for_days(landing_root, contract.extract, arrival_days(contract, first, last))
    schema = bronze_schema(contract)
    modes = {
        "bronze": schema_mode_for(bronze, schema),
        "quarantine": schema_mode_for(quarantine, QUARANTINE_SCHEMA),
    }
    if not allow_missing_files:
        _refuse_to_drop_rows(contract, bronze, quarantine, first, last, {f.relative_path for f in files})

    with tempfile.TemporaryDirectory(prefix="lakehouse-bronze-") as spill:
        con = staging_connection(contract, pii_key, temp_dir=spill)
        try:
            reports = [stage_file(con, contract, f, first, last) for f in files]
            result = BronzeResult(
                start=start, end=end, restated_start=first, files=reports, days=_count_days(con, first, last)
            )
            result.rescued_rows = scalar(
                con, f"SELECT count(*) FROM {STAGED} WHERE _error IS NULL AND _rescued_data IS NOT NULL"
            )
            result.quarantine_reasons = dict(
                con.execute(
                    f"SELECT split_part(_error, ':', 1) AS kind, count(*) FROM {STAGED} "
                    "WHERE _error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
                ).fetchall()
            )
            con.execute("SET TimeZone = 'UTC'")  # Arrow export labels timestamps with the session zone
            metadata = {"dagster_run_id": run_id, "partitions": f"{first}..{last}", **(commit_metadata or {})}
            replace_partitions(
                quarantine,
                con.sql(_quarantine_select(run_id)).to_arrow_reader(ARROW_BATCH_ROWS),
                schema=QUARANTINE_SCHEMA,
                partition_column="_partition_date",
                start=first,
                end=last,
                metadata=metadata,
                schema_mode=modes["quarantine"],
            )
            replace_partitions(
                bronze,
                con.sql(_bronze_select(contract)).to_arrow_reader(ARROW_BATCH_ROWS),
                schema=schema,
                partition_column=EVENT_DATE,
                start=first,
                end=last,
                metadata=metadata,
                schema_mode=modes["bronze"],
            )
        finally:
            con.close()
    return result


def _refuse_to_drop_rows(
    contract: SourceContract,
    bronze: TableLocation,
    quarantine: TableLocation,
    first: date,
    last: date,
    present: set[str],
) -> None:
    con = duckdb.connect()
    try:
        gone: dict[str, set[str]] = {}
        for location, column in ((bronze, EVENT_DATE), (quarantine, "_partition_date")):
            dataset = partition_dataset(location)
            if dataset is None:
                continue
            con.register("existing", dataset)
            rows = con.execute(
                f"SELECT DISTINCT {column}, _source_file FROM existing WHERE {day_range(column, first, last)}"
            ).fetchall()
            for day, source_file in rows:
                if source_file not in present:
                    gone.setdefault(source_file, set()).add(day.isoformat())
    finally:
        con.close()
    if gone:
        listing = "; ".join(
            f"{name} (rows of {', '.join(sorted(days))})" for name, days in sorted(gone.items())
        )
        raise LandingFilesMissingError(
            f"bronze/{contract.name}: rewriting {first}..{last} would drop rows whose landing files are gone: "
            f"{listing}. Restore the files, or rerun with allow_missing_files to accept losing those rows."
        )


def _count_days(con: duckdb.DuckDBPyConnection, first: date, last: date) -> dict[date, DayCounts]:
    days = {d: DayCounts() for d in days_between(first, last)}
    rows = con.execute(f"SELECT _partition_date, count(*), count(_error) FROM {STAGED} GROUP BY 1").fetchall()
    for day, read, quarantined in rows:
        days[day] = DayCounts(read=read, written=read - quarantined, quarantined=quarantined)
    return days


def _quarantine_select(run_id: str) -> str:
    return (
        f"SELECT _partition_date, _source_file, _line, _row_number, _error AS _reason, _raw, _row_hash, "
        f"{literal(run_id)} AS _run_id FROM {STAGED} WHERE _error IS NOT NULL "
        f"ORDER BY _partition_date, _source_file, _line NULLS LAST, _row_number NULLS LAST, _row_hash"
    )


def _bronze_select(contract: SourceContract) -> str:
    columns = ", ".join(ident(f.name) for f in bronze_schema(contract))
    event = ident(contract.partitions.event_time)
    return (
        f"SELECT {columns} FROM {STAGED} WHERE _error IS NULL "
        f"ORDER BY {EVENT_DATE}, {event}, _source_file, _row_number, _row_hash"
    )
