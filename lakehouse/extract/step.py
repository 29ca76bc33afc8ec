"""The extraction inside a bronze step (Dagster's side of ``extract/run.py``).

Extraction runs in the bronze step rather than as a ``landing/<source>`` step of its own, so
that reading, bronze's commit and the watermark's commit are one sequence in one process: the
watermark can only move after the bronze write it describes, and a retry of the step redoes
all three. The landing zone keeps the source-faithful copy of what was read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import dagster as dg

from lakehouse.contracts.extracts import HttpExtract, PostgresExtract
from lakehouse.contracts.loader import LoadedContract
from lakehouse.extract.errors import ExtractionError, SourceUnavailableError
from lakehouse.extract.run import Extraction, extract_for_run
from lakehouse.extract.watermarks import WatermarkStore
from lakehouse.resources.secrets import secret_env, secret_key
from lakehouse.tables.dead_letters import DeadLetterQueue


def _progress(
    context: dg.AssetExecutionContext, name: str, every_seconds: float = 30.0
) -> Callable[[int], None]:
    """A progress line at most every ``every_seconds`` (each log line is an event-log row)."""
    state = {"rows": 0, "logged": time.monotonic()}

    def seen(rows: int) -> None:
        state["rows"] += rows
        if time.monotonic() - state["logged"] >= every_seconds:
            state["logged"] = time.monotonic()
            context.log.info(f"{name}: {int(state['rows']):,} rows read so far")

    return seen


def extract_step(
    context: dg.AssetExecutionContext, loaded: LoadedContract, start: date, end: date
) -> Extraction | None:
    """Extract a live source for the run's days; None for a files source."""
    contract = loaded.contract
    if not isinstance(contract.extract, PostgresExtract | HttpExtract):
        return None
    lake = context.resources.lake
    secret = getattr(context.resources, secret_key(contract)).value if secret_env(contract) else None
    watermarks = WatermarkStore(lake.ops_table("watermarks"))
    try:
        extraction = extract_for_run(
            contract,
            start=start,
            end=end,
            zone=lake.landing(),
            watermarks=watermarks,
            dead_letters=DeadLetterQueue(lake.ops_table("dead_letters")),
            secret=secret,
            run_id=context.run_id,
            on_chunk=_progress(context, contract.name),
        )
    except ExtractionError as error:
        committed = watermarks.get(contract.name)
        raise dg.Failure(
            description=f"{error}. Nothing was delivered to the landing zone or written to bronze; the "
            f"watermark stays at {committed.value.isoformat() if committed else 'none (initial load)'}"
            + (
                " and a dead-letter entry was recorded for a replay."
                if isinstance(error, SourceUnavailableError)
                else "."
            ),
            allow_retries=True,
        ) from None
    meta = extraction.metadata()
    context.log.info(
        f"{contract.name}: extracted {extraction.rows} rows in {meta['extract_window']} into "
        f"{len(extraction.files)} landing files"
    )
    return extraction
