"""The watermark of each live source, stored with the lake (``<lake root>/_ops/watermarks``).

Durable and beside the data it describes: a Delta table (local or S3, atomic commits), not
code, not a sensor cursor. It is an append-only log (a source's watermark is its latest entry),
which keeps the history of what each run read and needs no read-modify-write between
concurrent writers. A watermark never moves backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lakehouse.tables.location import TableLocation

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Watermark:
    source: str
    value: datetime  # the largest watermark column value bronze committed
    rows: int  # rows the extraction read
    run_id: str
    committed_at: datetime


def _schema() -> pa.Schema:
    import pyarrow as pa

    timestamp = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            pa.field("source", pa.string(), nullable=False),
            pa.field("value", timestamp, nullable=False),
            pa.field("rows", pa.int64(), nullable=False),
            pa.field("run_id", pa.string(), nullable=False),
            pa.field("committed_at", timestamp, nullable=False),
        ]
    )


class WatermarkStore:
    def __init__(self, location: TableLocation):
        self.location = location

    def get(self, source: str) -> Watermark | None:
        table = self.location.open()
        if table is None:
            return None
        import pyarrow.dataset as pads

        rows = (
            table.to_pyarrow_dataset(filesystem=self.location.filesystem())
            .to_table(filter=pads.field("source") == source)
            .to_pylist()
        )
        if not rows:
            return None
        latest = max(rows, key=lambda r: (r["value"], r["committed_at"]))
        return Watermark(**latest)

    def commit(self, source: str, value: datetime, *, rows: int, run_id: str) -> Watermark:
        """Record ``value`` (or keep the current one if it is later: never backwards)."""
        current = self.get(source)
        if current is not None and current.value >= value:
            value = current.value
        mark = Watermark(source, value.astimezone(UTC), rows, run_id, datetime.now(UTC))
        import pyarrow as pa
        from deltalake import write_deltalake

        data = pa.Table.from_pylist([mark.__dict__], schema=_schema())
        table = self.location.open()
        write_deltalake(
            table if table is not None else self.location.target,
            data,
            mode="append",
            storage_options=None if table is not None else self.location.storage_options,
        )
        return mark
