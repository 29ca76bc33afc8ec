"""What an extraction read, as one file per day, staged locally until the read is complete.

Nothing reaches the landing zone while the source is still being read: the files are written
in a temporary folder and published (each atomically) only after the last row arrived, so a
source that goes down mid-read leaves the landing zone exactly as it was. Memory holds one
chunk (PostgreSQL) or one page (HTTP) at a time, never the extraction.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from lakehouse.contracts.extracts import HttpExtract, PostgresExtract
from lakehouse.extract.window import ExtractWindow
from lakehouse.landing.publish import publish
from lakehouse.landing.zone import LandingZone

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq


@dataclass
class StagedFiles:
    """Per-day files in ``folder``; ``max_watermark`` is the largest watermark value written."""

    extract: PostgresExtract | HttpExtract
    window: ExtractWindow
    folder: str
    rows: int = 0
    max_watermark: datetime | None = None
    rows_by_day: dict[date, int] = field(default_factory=dict)
    _parquet: dict[date, pq.ParquetWriter] = field(default_factory=dict)
    _text: dict[date, TextIO] = field(default_factory=dict)
    _schema: pa.Schema | None = None

    def local_path(self, day: date) -> str:
        return os.path.join(self.folder, self.extract.file_path(day, self.window.stem))

    def seen(self, value: datetime, day: date, count: int = 1) -> None:
        self.rows += count
        self.rows_by_day[day] = self.rows_by_day.get(day, 0) + count
        if self.max_watermark is None or value > self.max_watermark:
            self.max_watermark = value

    # --- Parquet (PostgreSQL): Arrow batches of one day at a time

    def write_batch(self, day: date, batch: pa.RecordBatch) -> None:
        import pyarrow.parquet as pq

        self._schema = batch.schema
        writer = self._parquet.get(day)
        if writer is None:
            Path(self.local_path(day)).parent.mkdir(parents=True, exist_ok=True)
            writer = self._parquet[day] = pq.ParquetWriter(self.local_path(day), batch.schema)
        writer.write_batch(batch)

    # --- JSON lines (HTTP): the API's records, one object per line, numbers as they came

    def write_record(self, day: date, record: Any) -> None:
        handle = self._text.get(day)
        if handle is None:
            Path(self.local_path(day)).parent.mkdir(parents=True, exist_ok=True)
            handle = self._text[day] = open(self.local_path(day), "w", encoding="utf-8")  # noqa: SIM115
        handle.write(dump_json(record) + "\n")

    def close(self, schema: pa.Schema | None = None) -> dict[date, str]:
        """Finish every file, adding an empty one for each day of the window that had no row
        (so bronze sees the day as read, not missing); return the files by day."""
        for writer in self._parquet.values():
            writer.close()
        for handle in self._text.values():
            handle.close()
        for day in self.window.days:
            path = self.local_path(day)
            if os.path.exists(path):
                continue
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if self.extract.format == "parquet":
                import pyarrow.parquet as pq

                empty = schema or self._schema
                assert empty is not None, "a Parquet extraction knows its columns"
                pq.ParquetWriter(path, empty).close()
            else:
                Path(path).write_text("")
        return {
            day: self.local_path(day)
            for day in sorted({*self.window.days, *self.rows_by_day})
            if os.path.exists(self.local_path(day))
        }

    def publish(self, zone: LandingZone, files: dict[date, str]) -> list[str]:
        published = []
        for day, path in files.items():
            relative = self.extract.file_path(day, self.window.stem)
            publish(zone, relative, path)
            published.append(relative)
        return published


def dump_json(value: Any) -> str:
    """JSON text with ``Decimal`` numbers written as they were read (``12.50`` stays ``12.50``)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
