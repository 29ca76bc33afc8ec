"""One of two writers racing on one Delta table on S3 (run as a process by test_s3_lake.py).

Usage: python -m tests.infra.concurrent_writer <table uri> <day> <value> <start at (epoch s)>
Replaces the partition ``day`` with rows carrying ``value``, starting at the agreed instant;
prints ``committed`` or ``conflict: <error>``.
"""

from __future__ import annotations

import sys
import time
from datetime import date

import pyarrow as pa
from deltalake.exceptions import CommitFailedError

from lakehouse.tables.delta import replace_partitions
from lakehouse.tables.location import TableLocation

SCHEMA = pa.schema([pa.field("day", pa.date32()), pa.field("id", pa.int64()), pa.field("value", pa.string())])


def main() -> None:
    uri, day_text, value, start_at = sys.argv[1:5]
    day = date.fromisoformat(day_text)
    location = TableLocation(uri)  # the S3 connection from the environment
    data = pa.table({"day": [day] * 3, "id": [1, 2, 3], "value": [value] * 3}, schema=SCHEMA)
    location.open()  # both writers start from the same snapshot
    time.sleep(max(0.0, float(start_at) - time.time()))
    try:
        replace_partitions(
            location, data, schema=SCHEMA, partition_column="day", start=day, end=day, metadata={"w": value}
        )
        print("committed")
    except CommitFailedError as error:
        print(f"conflict: {error}")


if __name__ == "__main__":
    main()
