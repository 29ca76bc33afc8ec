"""One extraction for a run: read the window, deliver the files, advance the watermark later.

The dual safety of incremental loads: (1) the watermark lives in the lake's ``_ops/watermarks``
table, not in code or a sensor cursor; (2) it moves only in ``Extraction.commit``, which bronze
calls after its own commit. Anything that fails before (the read, the publish, the circuit
breaker, bronze's write) leaves it where it was, and the next run reads the same rows again
(plus the lookback), replacing the files of the failed attempt.

A failure that is not the data's fault (the database or API down, 5xx/429 to the last attempt)
is recorded in the dead-letter queue for the replay sensor; nothing reaches the landing zone.
"""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from lakehouse.bronze.landing import LandingUnavailableError
from lakehouse.contracts.extracts import HttpExtract, PostgresExtract
from lakehouse.contracts.model import SourceContract
from lakehouse.extract.errors import LandingUnreachableError, SourceUnavailableError, dsn_secrets, redact
from lakehouse.extract.files import StagedFiles
from lakehouse.extract.watermarks import Watermark, WatermarkStore
from lakehouse.extract.window import ExtractWindow, window_for
from lakehouse.landing.zone import LandingZone
from lakehouse.tables.dead_letters import DeadLetterQueue


@dataclass
class Extraction:
    """What one extraction delivered, and the watermark bronze's commit may advance to."""

    source: str
    store: WatermarkStore
    dead_letters: DeadLetterQueue
    window: ExtractWindow | None
    committed: Watermark | None
    rows: int = 0
    new_watermark: datetime | None = None
    files: list[str] = field(default_factory=list)
    rows_by_day: dict[date, int] = field(default_factory=dict)

    def commit(self, run_id: str, first_day: date, last_day: date) -> Watermark | None:
        """Bronze committed: the watermark moves to the largest value read (never backwards),
        and dead letters of these days are resolved."""
        mark = None
        if self.new_watermark is not None:
            mark = self.store.commit(self.source, self.new_watermark, rows=self.rows, run_id=run_id)
        self.dead_letters.resolve_covered(self.source, first_day, last_day, run_id)
        return mark

    def metadata(self) -> dict[str, str | int]:
        if self.window is None:
            return {"extracted_rows": 0, "extract_window": "nothing new before the run's end"}
        lower = "[" if self.window.lower_inclusive else "("
        return {
            "extracted_rows": self.rows,
            "extract_window": f"{lower}{self.window.lower.isoformat()}, {self.window.until.isoformat()})",
            "extract_files": len(self.files),
            "watermark_before": self.committed.value.isoformat() if self.committed else "none",
            "watermark_read": self.new_watermark.isoformat() if self.new_watermark else "no rows",
        }


def extract_for_run(
    contract: SourceContract,
    *,
    start: date,
    end: date,
    zone: LandingZone,
    watermarks: WatermarkStore,
    dead_letters: DeadLetterQueue,
    secret: str | None,
    run_id: str,
    on_chunk: Callable[[int], None] | None = None,
) -> Extraction:
    """Read what changed up to the end of ``end`` into the landing zone; raise an
    ``ExtractionError`` (after recording a dead letter when it may pass) with nothing delivered."""
    extract = contract.extract
    assert isinstance(extract, PostgresExtract | HttpExtract)
    committed = watermarks.get(contract.name)
    window = window_for(contract, committed.value if committed else None, end)
    extraction = Extraction(contract.name, watermarks, dead_letters, window, committed)
    if window is None:
        return extraction
    secrets: list[str | None] = (
        [*dsn_secrets(secret)] if isinstance(extract, PostgresExtract) and secret else [secret]
    )
    with tempfile.TemporaryDirectory(prefix=f"lakehouse-extract-{contract.name}-") as folder:
        staged = StagedFiles(extract, window, folder)
        try:
            if isinstance(extract, PostgresExtract):
                from lakehouse.extract.postgres import extract_postgres

                assert secret is not None
                schema = extract_postgres(contract, secret, staged, on_chunk=on_chunk)
            else:
                from lakehouse.extract.http import extract_http

                extract_http(contract, secret, staged, on_page=on_chunk)
                schema = None
            files = staged.close(schema)
            extraction.files = staged.publish(zone, files)
        except (SourceUnavailableError, LandingUnavailableError) as error:
            failure = (
                error
                if isinstance(error, SourceUnavailableError)
                else LandingUnreachableError(
                    f"{contract.name}: delivering to the landing zone failed: {error}"
                )
            )
            dead_letters.record_failure(
                source=contract.name,
                first_day=start,
                last_day=end,
                kind=failure.kind,
                error=redact(str(failure), secrets),
                traceback=redact(traceback.format_exc(), secrets),
                run_id=run_id,
            )
            if failure is error:
                raise
            raise failure from None
    extraction.rows, extraction.new_watermark = staged.rows, staged.max_watermark
    extraction.rows_by_day = dict(staged.rows_by_day)
    return extraction
