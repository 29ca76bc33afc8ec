"""Bronze ingestion for a range of days: landing files → typed Delta rows + quarantine.

A run for days ``start..end`` restates ``start - lookback_days .. end`` (never before the
source's ``partitions.start``): rows arrive up to ``lookback_days`` late, so the file delivered
today holds rows of the previous days, and rewriting those days is how they get them (as dbt's
incremental "lookback" does). It reads every file that can hold rows of those days, stages them
in DuckDB, then replaces exactly those days in the bronze table and in the quarantine table.
Each row read and attributed to one of those days ends up in exactly one of the two, so
``read = written + quarantined`` holds per day (the reconciliation check verifies it on the
written tables).

Nothing is written while ``preflight.plan_bronze`` reports a problem (the circuit breaker).
Bronze is committed first, then quarantine, as a pair (``pairing.py``): if the second commit
fails, bronze is restored, so the two never disagree.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import duckdb

from lakehouse.bronze.pairing import repair_unpaired, restore_bronze
from lakehouse.bronze.pii import key_fingerprint
from lakehouse.bronze.pii_keys import FINGERPRINT
from lakehouse.bronze.preflight import BronzePlan, Withdrawn, plan_bronze
from lakehouse.bronze.records import STAGED, FileReport, clear_column, stage_file, staging_connection
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, QUARANTINE_SCHEMA, bronze_schema
from lakehouse.days import days_between
from lakehouse.landing.zone import LandingZone
from lakehouse.tables.delta import create_if_missing, replace_partitions
from lakehouse.tables.history import WRITE_ID, latest_with
from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import ARROW_BATCH_ROWS, ident, literal, scalar

if TYPE_CHECKING:
    import pyarrow as pa

    from lakehouse.privacy.vault import TokenVault


class LandingReadError(RuntimeError):
    """A landing file the plan found readable failed while staging (an I/O error, a timeout,
    gone unreadable since): not the data's fault, and nothing was written."""


class PairWriteError(RuntimeError):
    """The quarantine commit of an ingest failed after bronze's (bronze is restored when it can be)."""


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
    withdrawn: list[Withdrawn] = field(default_factory=list)  # files gone, rows dropped (accepted)
    vault_entries: int = 0  # tokens the vault learnt in this run

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


def ingest_range(
    contract: SourceContract,
    *,
    start: date,
    end: date,
    landing_root: LandingZone,
    bronze: TableLocation,
    quarantine: TableLocation,
    pii_key: str | None,
    run_id: str,
    commit_metadata: dict[str, str] | None = None,
    allow_missing_files: bool = False,
    allow_empty_days: bool = False,
    vault: TokenVault | None = None,
) -> BronzeResult:
    """Repair an interrupted ingest, plan and ingest; raise the first problem the plan found
    (nothing is written then)."""
    repair_unpaired(bronze, quarantine, contract.name)
    plan = plan_bronze(
        contract,
        start=start,
        end=end,
        landing_root=landing_root,
        bronze=bronze,
        quarantine=quarantine,
        allow_missing_files=allow_missing_files,
        allow_empty_days=allow_empty_days,
        pii_fingerprint=key_fingerprint(pii_key) if pii_key and contract.pii_columns else None,
    )
    if plan is None:  # no day of the range in the source's history: nothing to read or write
        return BronzeResult(start=start, end=end, restated_start=start, files=[], days={})
    if plan.problems:
        raise plan.problems[0].error
    return ingest_planned(
        plan,
        bronze=bronze,
        quarantine=quarantine,
        pii_key=pii_key,
        run_id=run_id,
        commit_metadata=commit_metadata,
        vault=vault,
    )


def ingest_planned(
    plan: BronzePlan,
    *,
    bronze: TableLocation,
    quarantine: TableLocation,
    pii_key: str | None,
    run_id: str,
    commit_metadata: dict[str, str] | None = None,
    vault: TokenVault | None = None,
) -> BronzeResult:
    """Stage the plan's files, then commit: the vault's new entries first, then bronze and
    quarantine as a pair. ``vault`` is required when the contract has ``pii: tokenize`` columns."""
    if plan.problems:
        raise ValueError("a plan with problems must not be ingested; the circuit breaker stops it")
    contract, first, last = plan.contract, plan.first, plan.last
    if contract.tokenized_columns and vault is None:
        raise ValueError(f"{contract.name}: pii: tokenize columns need the token vault to ingest")
    with tempfile.TemporaryDirectory(prefix="lakehouse-bronze-") as spill:
        con = staging_connection(contract, pii_key, temp_dir=spill)
        try:
            reports = []
            for f in plan.files:
                try:
                    reports.append(
                        stage_file(con, contract, f, plan.layouts.get(f.relative_path), first, last)
                    )
                except (OSError, duckdb.IOException) as error:
                    raise LandingReadError(
                        f"{contract.name}: reading landing file {f.relative_path} (arrived {f.arrival_date}) "
                        f"failed: {error}"
                    ) from error
            result = BronzeResult(
                start=plan.start,
                end=plan.end,
                restated_start=first,
                files=reports,
                days=_count_days(con, first, last),
                withdrawn=plan.withdrawn,
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
            metadata = {
                "dagster_run_id": run_id,
                "partitions": f"{first}..{last}",
                WRITE_ID: uuid.uuid4().hex,
                **(commit_metadata or {}),
            }
            if pii_key and contract.pii_columns:
                metadata[FINGERPRINT] = key_fingerprint(pii_key)
            if plan.withdrawn:  # the receipt of an accepted loss, in the log of the table that lost it
                metadata["withdrawn_files"] = json.dumps({w.file: w.total for w in plan.withdrawn})
            if vault is not None and contract.tokenized_columns:  # before bronze: no token without its entry
                result.vault_entries = vault.store(contract.name, _vault_entries(con, contract))
            _write_pair(con, plan, bronze, quarantine, metadata, run_id)
        finally:
            con.close()
    return result


def _write_pair(
    con: duckdb.DuckDBPyConnection,
    plan: BronzePlan,
    bronze: TableLocation,
    quarantine: TableLocation,
    metadata: dict[str, str],
    run_id: str,
) -> None:
    """Bronze, then quarantine, with one write id; bronze restored if quarantine's commit fails.

    Both tables exist before either is written, so the version to restore to always exists."""
    contract, first, last = plan.contract, plan.first, plan.last
    partitioned = contract.partitions.partitioned  # else one table replaced whole
    create_if_missing(bronze, bronze_schema(contract), EVENT_DATE if partitioned else None)
    create_if_missing(quarantine, QUARANTINE_SCHEMA, "_partition_date" if partitioned else None)
    table = bronze.open()
    assert table is not None
    before = table.version()
    replace_partitions(
        bronze,
        con.sql(_bronze_select(contract)).to_arrow_reader(ARROW_BATCH_ROWS),
        schema=bronze_schema(contract),
        partition_column=EVENT_DATE if partitioned else None,
        start=first,
        end=last,
        metadata=metadata,
        add_columns=bool(plan.added_columns.get("bronze")),
    )
    try:
        replace_partitions(
            quarantine,
            con.sql(_quarantine_select(run_id)).to_arrow_reader(ARROW_BATCH_ROWS),
            schema=QUARANTINE_SCHEMA,
            partition_column="_partition_date" if partitioned else None,
            start=first,
            end=last,
            metadata=metadata,
            add_columns=bool(plan.added_columns.get("quarantine")),
        )
    except Exception as error:
        paired = latest_with(quarantine, WRITE_ID)
        try:
            restore_bronze(
                bronze, before, (paired.get(WRITE_ID) if paired else None) or "", "quarantine failed"
            )
        except Exception as restore_error:
            raise PairWriteError(
                f"{quarantine.uri}: the quarantine commit failed ({error}) after bronze's, and restoring "
                f"{bronze.uri} to version {before} failed too ({restore_error}); the next run restores it "
                "before loading"
            ) from error
        raise PairWriteError(
            f"{quarantine.uri}: the quarantine commit failed ({type(error).__name__}: {error}); "
            f"{bronze.uri} was restored to version {before}, so neither table changed"
        ) from error


def _vault_entries(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> pa.Table:
    """``column``, ``token``, ``value`` of every token the staged rows hold (bronze's and
    quarantine's), distinct, as Arrow columns for the vault's anti-join."""
    selects = [
        f'SELECT DISTINCT {literal(name)} AS "column", {ident(name)} AS token, {clear_column(name)} AS value '
        f"FROM {STAGED} WHERE {ident(name)} IS NOT NULL AND {clear_column(name)} IS NOT NULL"
        for name in contract.tokenized_columns
    ]
    return con.sql(" UNION ".join(selects)).to_arrow_table()


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
    """Bronze's rows in the order they were staged: the plan's files in order, each file's rows
    in file order (DuckDB preserves insertion order), so a rerun writes the same files. Sorting
    them by event time instead cost 2.5x the whole write at a million rows a day, for nothing a
    reader needs: the write splits them by day anyway."""
    columns = ", ".join(ident(f.name) for f in bronze_schema(contract))
    return f"SELECT {columns} FROM {STAGED} WHERE _error IS NULL"
