"""Materialisation metadata: what a run did, in numbers the UI shows next to each asset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import dagster as dg

from lakehouse.contracts.model import SourceContract

if TYPE_CHECKING:  # the engines load only when a run needs them, not with the definitions
    from lakehouse.bronze.ingest import BronzeResult
    from lakehouse.silver.build import SilverResult


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def column_schema(contract: SourceContract) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type,
                description=c.description,
                constraints=dg.TableColumnConstraints(nullable=c.nullable),
                tags={"pii": "tokenized"} if c.pii else {},
            )
            for c in contract.columns
        ]
    )


def record_restated_days(
    context: dg.AssetExecutionContext, key: dg.AssetKey, days: Mapping[date, Mapping[str, int]]
) -> None:
    """Record the lookback days a run rewrote besides its own as materialisations of those
    partitions, so the UI's partition status says what the tables hold."""
    for day, counts in sorted(days.items()):
        context.log_event(
            dg.AssetMaterialization(
                asset_key=key,
                partition=day.isoformat(),
                metadata={**counts, "restated_by_run_for": context.partition_key_range.start},
            )
        )


def bronze_metadata(result: BronzeResult) -> dict[str, Any]:
    per_day = markdown_table(
        ["day", "read", "written", "quarantined"],
        [(d, c.read, c.written, c.quarantined) for d, c in sorted(result.days.items())],
    )
    metadata: dict[str, Any] = {
        "dagster/row_count": result.rows_written,
        "partitions": f"{result.start}..{result.end}",
        "days_rewritten": f"{result.restated_start}..{result.end}",
        "rows_read": result.rows_read,
        "rows_written": result.rows_written,
        "rows_quarantined": result.rows_quarantined,
        "rows_with_rescued_data": result.rescued_rows,
        "files_read": len(result.files),
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


def silver_metadata(result: SilverResult) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "dagster/row_count": sum(result.rows_by_day.values()),
        "mode": result.mode,
        "days_rewritten": f"{result.window_start}..{result.window_end}",
        "bronze_rows_read": result.batch_rows,
        "rows_merged": result.written.merged_rows,
        "rows_inserted": result.written.inserted,
        "rows_updated": result.written.updated,
        "rows_deleted": result.written.deleted,
        "target_files_scanned": result.written.files_scanned,
        "target_files_skipped": result.written.files_skipped,
        "rows_flagged": result.flag_summary.flagged_rows,
        "per_day": dg.MetadataValue.md(
            markdown_table(["day", "silver rows"], sorted(result.rows_by_day.items()))
        ),
    }
    if result.flag_summary.counts:
        metadata["flags"] = dg.MetadataValue.json(result.flag_summary.counts)
    return metadata
