"""The data SLO report: over a range of partition days, per source, how often the promises were kept.

Everything is counted by the day the data is for, never by when a check ran: a source loaded
today for days long past is reported on those days (counted by run time, it once showed "rows
read 0" beside "100 % of 1320 checks").

- freshness met %: of the days of the range the source's freshness check judged (it is
  partitioned: each evaluation names its day), those whose latest judgement passed. A finished
  source (``partitions.end``), one refreshed whole or one with ``freshness.enabled: false`` has
  no freshness promise: "n/a".
- checks passed %: the latest evaluation of every other check of its bronze and silver assets for
  each day of the range (a day rerun counts once, as it is now), that passed.
- rows quarantined %: quarantined rows / rows read, over the days, from the tables' statistics.
- dead letters: the source's open dead-letter entries (``checks/dead_letters.py``), pending and
  exhausted, whatever their days: an extraction no replay could fix is never out of the report.

Check results come from the quality ledger; row counts from the Delta logs, which are the truth
about what the tables hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.checks.freshness import FRESHNESS as FRESHNESS_CHECK
from lakehouse.checks.ledger import ensure_ledger
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.resources.storage import LakeStorage
from lakehouse.resources.warehouse import COMMAND_WAIT_SECONDS, warehouse_lock
from lakehouse.tables.sql import sql_file
from lakehouse.tables.stats import rows_per_day


@dataclass(frozen=True)
class SourceSlo:
    source: str
    freshness_evaluations: int  # days judged
    freshness_met_pct: float | None
    check_evaluations: int  # (check, day) pairs
    checks_passed_pct: float | None
    rows_read: int
    rows_quarantined_pct: float | None
    freshness_note: str | None = None  # why there is no freshness promise
    dead_letters: str = "none"  # open dead-letter entries, whatever their days (never forgotten)

    def cells(self) -> list[str]:
        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1f}%"

        freshness = (
            f"n/a ({self.freshness_note})"
            if self.freshness_note
            else f"{pct(self.freshness_met_pct)} of {self.freshness_evaluations} days"
        )
        return [
            self.source,
            freshness,
            f"{pct(self.checks_passed_pct)} of {self.check_evaluations}",
            f"{self.rows_read:,}",
            pct(self.rows_quarantined_pct),
            self.dead_letters,
        ]


HEADERS = ["source", "freshness met", "checks passed", "rows read", "rows quarantined", "dead letters"]


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def freshness_note(contract: SourceContract) -> str | None:
    if not contract.partitions.partitioned:
        return "refreshed whole, no days"
    if contract.partitions.end is not None:
        return f"historical, ended {contract.partitions.end}"
    if not contract.freshness.enabled:
        return "freshness off"
    return None


def slo_report(
    contracts: Sequence[SourceContract],
    warehouse_path: str,
    lake: LakeStorage,
    start: date,
    end: date,
    wait_seconds: float = COMMAND_WAIT_SECONDS,
) -> list[SourceSlo]:
    """The partition days ``start..end`` (inclusive), for evaluations and rows alike."""
    from lakehouse.checks.dead_letters import source_summary
    from lakehouse.tables.dead_letters import DeadLetterQueue

    checks, freshness = _ledger_counts(contracts, warehouse_path, start, end, wait_seconds)
    dead_letters = DeadLetterQueue(lake.ops_table("dead_letters")).entries()
    report = []
    for contract in contracts:
        total, passed = checks[contract.name]
        days_judged = {
            day: ok for day, ok in freshness[contract.name].items() if contract.partitions.in_history(day)
        }
        note = freshness_note(contract)
        bronze = rows_per_day(lake.table("bronze", contract.name), EVENT_DATE)
        quarantine = rows_per_day(lake.table("quarantine", contract.name), "_partition_date")
        written = sum(n for d, n in bronze.items() if start <= d <= end)
        quarantined = sum(n for d, n in quarantine.items() if start <= d <= end)
        report.append(
            SourceSlo(
                source=contract.name,
                freshness_evaluations=0 if note else len(days_judged),
                freshness_met_pct=None if note else _pct(sum(days_judged.values()), len(days_judged)),
                check_evaluations=total,
                checks_passed_pct=_pct(passed, total),
                rows_read=written + quarantined,
                rows_quarantined_pct=_pct(quarantined, written + quarantined),
                freshness_note=note,
                dead_letters=source_summary(dead_letters, contract.name),
            )
        )
    return report


def _ledger_counts(
    contracts: Sequence[SourceContract], warehouse_path: str, start: date, end: date, wait_seconds: float
) -> tuple[dict[str, tuple[int, int]], dict[str, dict[date, bool]]]:
    """Per source: (check days, passed) for days ``start..end``, and whether each day's latest
    freshness judgement passed."""
    import duckdb

    checks, freshness = {}, {}
    with warehouse_lock(warehouse_path, wait_seconds=wait_seconds), duckdb.connect(warehouse_path) as con:
        ensure_ledger(con)
        for contract in contracts:
            assets = [bronze_key(contract).to_user_string(), silver_key(contract).to_user_string()]
            checks[contract.name] = con.execute(
                sql_file(__file__, "slo_counts.sql"),
                [FRESHNESS_CHECK, *assets, start.isoformat(), end.isoformat()],
            ).fetchall()[0]
            judged = con.execute(
                sql_file(__file__, "slo_freshness.sql"),
                [assets[0], FRESHNESS_CHECK, start.isoformat(), end.isoformat()],
            ).fetchall()
            freshness[contract.name] = {date.fromisoformat(day): bool(ok) for day, ok in judged}
    return checks, freshness
