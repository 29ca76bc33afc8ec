"""Materialisation metadata: what a run did, in numbers the UI shows next to each asset.

A run over a range of days records one materialisation per day. Each day's carries that day's
own numbers (``dagster/row_count``, rows read, quarantined, flagged, and the day's check figures
that are worth a plot), set with ``context.add_asset_metadata(..., partition_key=day)`` before
the step's ``MaterializeResult``; the lookback days a run rewrote besides its own are logged as
materialisations of their partitions with the same numbers. The UI plots numeric metadata per
partition, so what the ``MaterializeResult`` itself carries (copied onto every day) holds no
number: the run's totals are one JSON entry, ``run_totals``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import dagster as dg

from lakehouse.checks.outcome import CheckOutcome

if TYPE_CHECKING:  # the engines load only when a run needs them, not with the definitions
    from lakehouse.bronze.ingest import BronzeResult
    from lakehouse.silver.build import SilverResult

RUN_TOTALS = "run_totals"  # the run-level numbers, as one JSON entry
# The run's tables (a row per day, a line per file) that grow with the run's range.
RUN_TABLES = ("per_day", "files")
RUN_TABLES_MAX_DAYS = 31
RESTATED_BY = "restated_by_run_for"  # on a lookback day's materialisation: the run's first day

# Per-day check figures put on the day's materialisation (so they plot by partition, which the
# check's own plots cannot: they plot by time), as "<check>_<figure>".
_PLOTTED_FIGURES = ("failing_pct", "change_pct")

DayMetadata = Mapping[date, Mapping[str, Any]]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def record_days(
    context: dg.AssetExecutionContext,
    key: dg.AssetKey,
    per_day: DayMetadata,
    *,
    multi_asset: bool = False,
) -> None:
    """Put each day's own metadata on its materialisation; call before the step's result.

    Days of the run's partition range go to the materialisations Dagster records for the step;
    earlier days (lookback) are logged as materialisations of those partitions, first, so that
    the latest record of the asset (which carries the data version Dagster's provenance
    tracking compares with) is of a partition of the run.
    """
    if not per_day:  # nothing per day (an unpartitioned asset, a window before the source's history)
        return
    start = date.fromisoformat(context.partition_key_range.start)
    for day, metadata in sorted(per_day.items()):
        if day < start:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=key,
                    partition=day.isoformat(),
                    metadata={**metadata, RESTATED_BY: context.partition_key_range.start},
                )
            )
        else:
            context.add_asset_metadata(
                dict(metadata), asset_key=key if multi_asset else None, partition_key=day.isoformat()
            )


def check_figures(outcomes: Sequence[CheckOutcome]) -> dict[date, dict[str, float]]:
    """Each day's plotted check figures, by day, named ``<check>_<figure>``."""
    figures: dict[date, dict[str, float]] = {}
    for outcome in outcomes:
        for day in outcome.days:
            if day.day is None:  # a table refreshed whole has no days to plot
                continue
            for name in _PLOTTED_FIGURES:
                value = day.metadata.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    figures.setdefault(date.fromisoformat(day.day), {})[f"{outcome.name}_{name}"] = value
    return figures


def _merge(*per_day: DayMetadata) -> dict[date, dict[str, Any]]:
    merged: dict[date, dict[str, Any]] = {}
    for mapping in per_day:
        for day, metadata in mapping.items():
            merged.setdefault(day, {}).update(metadata)
    return merged


def bronze_days(result: BronzeResult, outcomes: Sequence[CheckOutcome]) -> dict[date, dict[str, Any]]:
    counts = {
        day: {
            "dagster/row_count": c.written,
            "rows_read": c.read,
            "rows_quarantined": c.quarantined,
        }
        for day, c in result.days.items()
    }
    return _merge(counts, check_figures(outcomes))


def bronze_metadata(result: BronzeResult) -> dict[str, Any]:
    """The run's own facts (the same on every day's materialisation): no bare numbers."""
    per_day = markdown_table(
        ["day", "read", "written", "quarantined"],
        [(d, c.read, c.written, c.quarantined) for d, c in sorted(result.days.items())],
    )
    metadata: dict[str, Any] = {
        "partitions": f"{result.start}..{result.end}",
        "days_rewritten": f"{result.restated_start}..{result.end}",
        RUN_TOTALS: dg.MetadataValue.json(
            {
                "rows_read": result.rows_read,
                "rows_written": result.rows_written,
                "rows_quarantined": result.rows_quarantined,
                "rows_with_rescued_data": result.rescued_rows,
                "files_read": len(result.files),
            }
        ),
        "per_day": dg.MetadataValue.md(per_day),
    }
    if result.files:
        metadata["files"] = dg.MetadataValue.md(
            "\n".join(f"- `{f.file}` ({f.rows} rows)" for f in result.files)
        )
    if result.quarantine_reasons:
        metadata["quarantine_reasons"] = dg.MetadataValue.json(result.quarantine_reasons)
    if result.rescued_columns:
        metadata["rescued_columns"] = dg.MetadataValue.json(result.rescued_columns)
    return metadata


def silver_days(
    counts: Mapping[date, tuple[int, int]], outcomes: Sequence[CheckOutcome]
) -> dict[date, dict[str, Any]]:
    """``counts``: (rows held, rows flagged) per day of the window, from the table after the write."""
    rows = {day: {"dagster/row_count": n, "rows_flagged": flagged} for day, (n, flagged) in counts.items()}
    return _merge(rows, check_figures(outcomes))


def silver_metadata(result: SilverResult) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "mode": result.mode,
        "days_rewritten": f"{result.window_start}..{result.window_end}",
        RUN_TOTALS: dg.MetadataValue.json(
            {
                "rows_held": sum(result.rows_by_day.values()),
                "bronze_rows_read": result.batch_rows,
                "rows_merged": result.written.merged_rows,
                "rows_inserted": result.written.inserted,
                "rows_updated": result.written.updated,
                "rows_deleted": result.written.deleted,
                "rows_flagged": result.flag_summary.flagged_rows,
                "files_rewritten": result.written.files_rewritten,
                "files_untouched": result.written.files_untouched,
            }
        ),
        "per_day": dg.MetadataValue.md(
            markdown_table(["day", "silver rows"], sorted(result.rows_by_day.items()))
        ),
    }
    if result.flag_summary.counts:
        metadata["flags"] = dg.MetadataValue.json(result.flag_summary.counts)
    return metadata


def move_run_tables(
    metadata: dict[str, Any], per_day: dict[date, dict[str, Any]]
) -> dict[date, dict[str, Any]]:
    """A run's step metadata is copied onto every day's materialisation. For a run over more than
    ``RUN_TABLES_MAX_DAYS`` days, its tables (a row per day, a line per file) move to its last
    day's alone: a year's backfill otherwise wrote them 365 times, each a year long, and they were
    40 % of its event log (``bench/backfill.py``). Each day keeps its own counts either way."""
    if len(per_day) <= RUN_TABLES_MAX_DAYS:
        return per_day
    last = max(per_day)
    moved = {name: metadata.pop(name) for name in RUN_TABLES if name in metadata}
    if moved:
        metadata["run_tables"] = f"on the materialisation of {last}, the run's last day"
    return {**per_day, last: {**per_day[last], **moved}}


def as_whole_table(metadata: dict[str, Any], rows: int) -> dict[str, Any]:
    """A table refreshed whole has one materialisation: its run totals are its own numbers, shown
    as numbers (``dagster/row_count``, plotted), not folded into ``run_totals`` as for a range."""
    totals = metadata.get(RUN_TOTALS)
    lifted = dict(getattr(totals, "value", totals) or {})
    rest = {k: v for k, v in metadata.items() if k not in (RUN_TOTALS, "per_day")}
    return {**rest, **lifted, "dagster/row_count": rows}


def record_restated_days(context: dg.AssetExecutionContext, key: dg.AssetKey, days: DayMetadata) -> None:
    """Only the lookback days of ``days`` (those before the run's range), as ``record_days``."""
    start = date.fromisoformat(context.partition_key_range.start)
    record_days(context, key, {d: m for d, m in days.items() if d < start}, multi_asset=True)
