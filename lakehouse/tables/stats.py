"""Row and null counts read from the Delta log's per-file statistics: no data file is opened.

Checks that compare days (reconciliation on the written tables, volume against the trailing
average) need counts of many partitions; the log already records ``numRecords`` for every
file delta-rs writes, so the cost is the log's, not the table's.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pyarrow as pa

from lakehouse.tables.location import TableLocation


def rows_per_day(location: TableLocation, partition_column: str) -> Counter[date]:
    """Rows per value of the date partition column, for the table's current version."""
    table = location.open()
    counts: Counter[date] = Counter()
    if table is None:
        return counts
    actions = pa.table(table.get_add_actions(flatten=True))
    if f"partition.{partition_column}" not in actions.column_names:
        return _scanned_rows_per_day(location, partition_column)
    values = actions.column(f"partition.{partition_column}").to_pylist()
    records = actions.column("num_records").to_pylist()
    for day, count in zip(values, records, strict=True):
        if count is None:
            raise ValueError(f"{location.uri}: a data file has no row-count statistics")
        counts[day if isinstance(day, date) else date.fromisoformat(str(day))] += count
    return counts


def _scanned_rows_per_day(location: TableLocation, column: str) -> Counter[date]:
    """An unpartitioned table (a source refreshed whole, small by nature): its day column read."""
    from lakehouse.tables.delta import partition_dataset

    dataset = partition_dataset(location)
    counts: Counter[date] = Counter()
    if dataset is not None:
        for day in dataset.to_table(columns=[column]).column(column).to_pylist():
            counts[day] += 1
    return counts


def columns_with_values(location: TableLocation, partition_column: str, first: date, last: date) -> set[str]:
    """The columns that hold a non-null value in some file of the days ``first..last``."""
    table = location.open()
    if table is None:
        return set()
    actions = pa.table(table.get_add_actions(flatten=True))
    days = [
        d if isinstance(d, date) else date.fromisoformat(str(d))
        for d in actions[f"partition.{partition_column}"].to_pylist()
    ]
    in_window = [first <= d <= last for d in days]
    records = actions["num_records"].to_pylist()
    populated = set()
    for name in actions.column_names:
        if not name.startswith("null_count."):
            continue
        nulls = actions[name].to_pylist()
        if any(
            w and n is not None and r is not None and n < r
            for w, n, r in zip(in_window, nulls, records, strict=True)
        ):
            populated.add(name.removeprefix("null_count."))
    return populated
