"""Rows and flagged rows per day that silver holds after a write: each day's own numbers for its
materialisation (the UI's row count and flag count of a partition).

Counted on the table, not the batch, so a day shows what it holds now, rows merged by earlier
runs included. Only the ``_event_date`` and ``dq_valid`` columns of the window's days are read
(the filter reaches the Delta scan). For SCD2 a day's rows are the versions first observed then.
"""

from __future__ import annotations

from datetime import date

import duckdb

from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.days import days_between
from lakehouse.tables.location import TableLocation
from lakehouse.tables.scan import register_scan
from lakehouse.tables.sql import day_range


def rows_and_flagged_per_day(silver: TableLocation, first: date, last: date) -> dict[date, tuple[int, int]]:
    """(rows, rows with ``dq_valid`` false) for every day of ``first..last``, zeros included."""
    counts = dict.fromkeys(days_between(first, last), (0, 0))
    with duckdb.connect() as con:
        if not register_scan(con, "silver_table", silver, (EVENT_DATE, first, last)):
            return counts
        rows = con.execute(
            f"SELECT {EVENT_DATE}, count(*), count(*) FILTER (WHERE NOT dq_valid) FROM silver_table "
            f"WHERE {day_range(EVENT_DATE, first, last)} GROUP BY 1"
        ).fetchall()
    counts.update({day: (int(n), int(flagged)) for day, n, flagged in rows})
    return counts
