"""Gold per day: what each day of a microbatch model holds, and its dbt tests judged day by day.

A microbatch model (``incremental_strategy='microbatch'``, ``batch_size='day'``) is built one
batch per day, so its days are real partitions: each day's materialisation carries that day's
row count, and each of its tests gets one result per day of the run's window. dbt itself runs a
test once over the whole table, so the platform re-runs the test's compiled SQL (from the run's
``run_results.json``) after dbt, on each day's rows: every reference to the model becomes the
model filtered to the day, and dbt's own wrapper (``fail_calc``, ``warn_if``, ``error_if``,
``limit``) and its rule (an error above ``error_if`` fails, else above ``warn_if`` warns) give
the day's result, exactly as dbt would have on that day alone. dbt's whole-table result stays
the step's result (``scope: table``). A test whose SQL cannot run outside dbt (it reads a
``source()``, which exists only inside the dbt process) keeps dbt's result alone.

Run after dbt has let go of the warehouse, through one read-only connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import dagster as dg

from lakehouse.checks.outcome import ERROR, WARN, CheckOutcome, DayResult
from lakehouse.tables.sql import ident, literal

if TYPE_CHECKING:
    import duckdb

DIALECT = "duckdb"


def microbatch_event_time(node: Mapping[str, Any]) -> str | None:
    """The column a daily microbatch model is batched by, or None for any other model."""
    config = node.get("config", {})
    if (
        config.get("materialized") == "incremental"
        and config.get("incremental_strategy") == "microbatch"
        and config.get("batch_size") == "day"
        and config.get("event_time")
    ):
        return str(config["event_time"])
    return None


def rows_per_day(
    con: duckdb.DuckDBPyConnection, relation: str, event_time: str, days: Sequence[date]
) -> dict[date, int]:
    """Rows of ``relation`` per day of ``days`` (zeros included)."""
    counts = dict.fromkeys(days, 0)
    if not days:
        return counts
    day = f"CAST({ident(event_time)} AS DATE)"
    rows = con.execute(
        f"SELECT {day}, count(*) FROM {relation} "
        f"WHERE {day} BETWEEN {literal(min(days))} AND {literal(max(days))} GROUP BY 1"
    ).fetchall()
    counts.update({d: int(n) for d, n in rows if d in counts})
    return counts


def restricted_to_day(sql: str, relation: str, event_time: str, day: date) -> str:
    """``sql`` with every reference to ``relation`` replaced by its rows of ``day`` (same alias)."""
    from sqlglot import exp, parse_one

    target = _parts(exp.to_table(relation, dialect=DIALECT))
    tree = parse_one(sql, read=DIALECT)
    for table in list(tree.find_all(exp.Table)):
        if _parts(table) != target:
            continue
        only_day = (
            exp.select("*")
            .from_(exp.table_(table.name, db=table.db, catalog=table.catalog, quoted=True))
            .where(f"CAST({ident(event_time)} AS DATE) = {literal(day)}", dialect=DIALECT)
        )
        table.replace(exp.alias_(exp.Subquery(this=only_day), table.alias_or_name, table=True, quoted=True))
    return tree.sql(dialect=DIALECT)


def _parts(table: Any) -> tuple[str, str, str]:
    return (table.catalog.lower(), table.db.lower(), table.name.lower())


@dataclass(frozen=True)
class DbtTest:
    """One dbt test of a microbatch model, as the run compiled it."""

    check_key: dg.AssetCheckKey
    blocking: bool
    compiled_sql: str
    config: Mapping[str, Any]
    model_relation: str
    event_time: str

    def judge(self, con: duckdb.DuckDBPyConnection, day: date, rows: int) -> DayResult:
        """dbt's verdict on ``day``'s rows alone (``default__get_test_sql`` and dbt's rule)."""
        fail_calc = self.config.get("fail_calc") or "count(*)"
        limit = self.config.get("limit")
        failures, should_warn, should_error = con.execute(
            f"SELECT {fail_calc} AS failures, {fail_calc} {self.config.get('warn_if') or '!= 0'} AS should_warn, "
            f"{fail_calc} {self.config.get('error_if') or '!= 0'} AS should_error FROM ("
            f"{restricted_to_day(self.compiled_sql, self.model_relation, self.event_time, day)}"
            f"{f' LIMIT {int(limit)}' if limit is not None else ''}) AS dbt_internal_test"
        ).fetchall()[0]
        severity_config = str(self.config.get("severity") or "error").lower()
        if severity_config == ERROR and should_error:
            severity, passed = ERROR, False
        elif should_warn:
            severity, passed = WARN, False
        else:
            severity, passed = (ERROR if self.blocking else WARN), True
        failing = int(failures or 0)
        return DayResult(
            day.isoformat(),
            passed=passed,
            severity=severity,
            metadata={
                "failing_rows": failing,
                "dagster_dbt/failed_row_count": failing,
                "evaluated_rows": rows,
            },
            summary=f"{failing} failing row(s) among the day's {rows} row(s) ({fail_calc})",
        )


def evaluate_per_day(
    con: duckdb.DuckDBPyConnection,
    tests: Sequence[DbtTest],
    days: Sequence[date],
    rows: Mapping[str, Mapping[date, int]],
    log: Any,
) -> list[CheckOutcome]:
    """Each test on each of ``days``; ``rows``: rows per day by model relation. A test whose SQL
    does not run here (see the module's docstring) is left to dbt's own result, and said so."""
    import duckdb
    from sqlglot.errors import SqlglotError

    outcomes = []
    for test in tests:
        try:
            results = [test.judge(con, day, rows.get(test.model_relation, {}).get(day, 0)) for day in days]
        except (duckdb.Error, SqlglotError) as error:
            log.info(
                f"{test.check_key.to_user_string()}: no per-day result, dbt's over the table only ({error})"
            )
            continue
        outcomes.append(
            CheckOutcome(
                asset_key=test.check_key.asset_key,
                name=test.check_key.name,
                blocking=test.blocking,
                days=results,
            )
        )
    return outcomes
