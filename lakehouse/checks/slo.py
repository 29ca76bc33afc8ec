"""The data SLO report: over the last N days, per source, how often the promises were kept.

- freshness met %: the source's freshness check evaluations that passed;
- checks passed %: every other evaluation of its bronze and silver assets that passed;
- rows quarantined %: quarantined rows / rows read, over the days, from the tables' statistics.

Check results come from the quality ledger; row counts from the Delta logs, which are the truth
about what the tables hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.checks.ledger import ensure_ledger
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.resources.storage import LakeStorage
from lakehouse.resources.warehouse import COMMAND_WAIT_SECONDS, warehouse_lock
from lakehouse.tables.sql import sql_file
from lakehouse.tables.stats import rows_per_day

FRESHNESS_CHECK = "freshness_check"  # the name Dagster's time-partition freshness checks carry


@dataclass(frozen=True)
class SourceSlo:
    source: str
    freshness_evaluations: int
    freshness_met_pct: float | None
    check_evaluations: int
    checks_passed_pct: float | None
    rows_read: int
    rows_quarantined_pct: float | None

    def cells(self) -> list[str]:
        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.1f}%"

        return [
            self.source,
            f"{pct(self.freshness_met_pct)} of {self.freshness_evaluations}",
            f"{pct(self.checks_passed_pct)} of {self.check_evaluations}",
            f"{self.rows_read:,}",
            pct(self.rows_quarantined_pct),
        ]


HEADERS = ["source", "freshness met", "checks passed", "rows read", "rows quarantined"]


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def slo_report(
    contracts: Sequence[SourceContract],
    warehouse_path: str,
    lake: LakeStorage,
    days: int,
    today: date | None = None,
    wait_seconds: float = COMMAND_WAIT_SECONDS,
) -> list[SourceSlo]:
    """The last ``days`` days up to and including ``today`` (UTC), for evaluations and rows alike."""
    today = today or datetime.now(UTC).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    evaluations = _ledger_counts(contracts, warehouse_path, since, wait_seconds)
    report = []
    for contract in contracts:
        fresh_total, fresh_passed, total, passed = evaluations[contract.name]
        bronze = rows_per_day(lake.table("bronze", contract.name), EVENT_DATE)
        quarantine = rows_per_day(lake.table("quarantine", contract.name), "_partition_date")
        written = sum(n for d, n in bronze.items() if first_day <= d <= today)
        quarantined = sum(n for d, n in quarantine.items() if first_day <= d <= today)
        report.append(
            SourceSlo(
                source=contract.name,
                freshness_evaluations=fresh_total,
                freshness_met_pct=_pct(fresh_passed, fresh_total),
                check_evaluations=total,
                checks_passed_pct=_pct(passed, total),
                rows_read=written + quarantined,
                rows_quarantined_pct=_pct(quarantined, written + quarantined),
            )
        )
    return report


def _ledger_counts(
    contracts: Sequence[SourceContract], warehouse_path: str, since: datetime, wait_seconds: float
) -> dict[str, tuple[int, int, int, int]]:
    """Per source: freshness evaluations and passes, other evaluations and passes, since ``since``."""
    import duckdb

    counts = {}
    with warehouse_lock(warehouse_path, wait_seconds=wait_seconds), duckdb.connect(warehouse_path) as con:
        ensure_ledger(con)
        for contract in contracts:
            assets = [bronze_key(contract).to_user_string(), silver_key(contract).to_user_string()]
            counts[contract.name] = con.execute(
                sql_file(__file__, "slo_counts.sql"), [FRESHNESS_CHECK, *assets, since]
            ).fetchall()[0]
    return counts
