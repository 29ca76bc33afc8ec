"""Bronze ingestion for a range of days: landing files → typed Delta rows + quarantine.

For the days ``start..end`` it reads every file that can hold their rows (files that arrived from
the day before ``start`` to ``lookback_days`` after ``end``), stages them in DuckDB, then replaces
exactly those days in the bronze table and in the quarantine table. Each row read from landing
and attributed to one of those days ends up in exactly one of the two, so
``read = written + quarantined`` holds per day.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, QUARANTINE_SCHEMA, bronze_schema
from lakehouse.days import days_between
from lakehouse.ingest.landing import files_for_days
from lakehouse.ingest.records import (
    EARLY_TOLERANCE_DAYS,
    STAGED,
    FileReport,
    stage_file,
    staging_connection,
)
from lakehouse.sql import ident, literal
from lakehouse.tables.delta import replace_partitions
from lakehouse.tables.location import TableLocation

BATCH_ROWS = 256 * 1024


@dataclass
class DayCounts:
    read: int = 0
    written: int = 0
    quarantined: int = 0


@dataclass
class BronzeResult:
    start: date
    end: date
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
) -> BronzeResult:
    if end < start:
        raise ValueError(f"empty partition range {start}..{end}")
    files = files_for_days(landing_root, contract.extract, arrival_days(contract, start, end))
    with tempfile.TemporaryDirectory(prefix="lakehouse-bronze-") as spill:
        con = staging_connection(contract, pii_key, temp_dir=spill)
        try:
            reports = [stage_file(con, contract, f, start, end) for f in files]
            result = BronzeResult(start=start, end=end, files=reports, days=_count_days(con, start, end))
            result.rescued_rows = _scalar(
                con,
                f"SELECT count(*) FROM {STAGED} WHERE _error IS NULL AND "
                f"_rescued_data IS NOT NULL AND {_in_range(start, end)}",
            )
            result.quarantine_reasons = _reason_summary(con, start, end)
            con.execute("SET TimeZone = 'UTC'")  # Arrow export labels timestamps with the session zone
            metadata = {"dagster_run_id": run_id, "partitions": f"{start}..{end}", **(commit_metadata or {})}
            replace_partitions(
                quarantine,
                con.sql(_quarantine_select(run_id, start, end)).to_arrow_reader(BATCH_ROWS),
                schema=QUARANTINE_SCHEMA,
                partition_column="_partition_date",
                start=start,
                end=end,
                metadata=metadata,
            )
            replace_partitions(
                bronze,
                con.sql(_bronze_select(contract, start, end)).to_arrow_reader(BATCH_ROWS),
                schema=bronze_schema(contract),
                partition_column=EVENT_DATE,
                start=start,
                end=end,
                metadata=metadata,
            )
        finally:
            con.close()
    return result


def _in_range(start: date, end: date) -> str:
    return f"_partition_date BETWEEN {literal(start)} AND {literal(end)}"


def _scalar(con, sql: str) -> int:
    return con.execute(sql).fetchall()[0][0]


def _count_days(con, start: date, end: date) -> dict[date, DayCounts]:
    days = {d: DayCounts() for d in days_between(start, end)}
    rows = con.execute(
        f"SELECT _partition_date, count(*), count(_error) FROM {STAGED} WHERE {_in_range(start, end)} GROUP BY 1"
    ).fetchall()
    for day, read, quarantined in rows:
        days[day] = DayCounts(read=read, written=read - quarantined, quarantined=quarantined)
    return days


def _reason_summary(con, start: date, end: date) -> dict[str, int]:
    """Quarantined rows by kind of reason (the text before the first colon), most frequent first."""
    rows = con.execute(
        f"SELECT split_part(_error, ':', 1) AS kind, count(*) FROM {STAGED} "
        f"WHERE _error IS NOT NULL AND {_in_range(start, end)} GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return dict(rows)


def _quarantine_select(run_id: str, start: date, end: date) -> str:
    return (
        f"SELECT _partition_date, _source_file, _line, _error AS _reason, _raw, _row_hash, "
        f"{literal(run_id)} AS _run_id FROM {STAGED} "
        f"WHERE _error IS NOT NULL AND {_in_range(start, end)} "
        f"ORDER BY _partition_date, _source_file, _line NULLS LAST, _row_hash"
    )


def _bronze_select(contract: SourceContract, start: date, end: date) -> str:
    columns = ", ".join(ident(f.name) for f in bronze_schema(contract))
    event = ident(contract.partitions.event_time)
    return (
        f"SELECT {columns} FROM {STAGED} WHERE _error IS NULL AND {_in_range(start, end)} "
        f"ORDER BY {EVENT_DATE}, {event}, _source_file, _row_hash"
    )
