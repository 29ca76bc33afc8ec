"""Dead letters as the UI, the CLI and the SLO report show them.

Exhausted entries (every replay failed) must never be forgotten: they fail the
``no_exhausted_dead_letters`` check of ``reports/dead_letters`` (an error, so the asset shows
red in the UI), are listed on that asset's latest materialisation, and in the SLO report's
"dead letters" column, until a replay or a later run over their days resolves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from lakehouse.tables.dead_letters import EXHAUSTED, PENDING, RESOLVED, DeadLetter

DEAD_LETTERS_KEY = dg.AssetKey(["reports", "dead_letters"])
NO_EXHAUSTED = "no_exhausted_dead_letters"
HEADERS = ["id", "source", "days", "kind", "attempts", "status", "next attempt", "error"]


def first_line(text: str, width: int = 100) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def days(entry: DeadLetter) -> str:
    return (
        str(entry.first_day) if entry.first_day == entry.last_day else f"{entry.first_day}..{entry.last_day}"
    )


def row(entry: DeadLetter) -> list[str]:
    from lakehouse.tables.dead_letters import MAX_ATTEMPTS

    due = f"{entry.next_attempt_at:%Y-%m-%d %H:%M} UTC" if entry.next_attempt_at else "-"
    return [
        entry.id,
        entry.source,
        days(entry),
        entry.kind,
        f"{entry.attempts}/{MAX_ATTEMPTS}",
        entry.status,
        due,
        first_line(entry.error),
    ]


def source_summary(entries: Sequence[DeadLetter], source: str) -> str:
    """The SLO report's cell: the source's open entries (whatever their days: never forgotten)."""
    mine = [e for e in entries if e.source == source and e.status != RESOLVED]
    if not mine:
        return "none"
    exhausted = [e for e in mine if e.status == EXHAUSTED]
    parts = [f"{len(mine) - len(exhausted)} pending"] if len(mine) > len(exhausted) else []
    if exhausted:
        parts.append(f"{len(exhausted)} exhausted ({', '.join(days(e) for e in exhausted)})")
    return ", ".join(parts)


def judge(entries: Sequence[DeadLetter]) -> tuple[bool, str, dict[str, Any]]:
    """The check's verdict over every entry: passed, its description, its metadata."""
    from lakehouse.assets.metadata import markdown_table

    open_entries = [e for e in entries if e.status != RESOLVED]
    exhausted = [e for e in open_entries if e.status == EXHAUSTED]
    metadata: dict[str, Any] = {
        "pending": dg.MetadataValue.int(sum(e.status == PENDING for e in open_entries)),
        "exhausted": dg.MetadataValue.int(len(exhausted)),
        "entries": dg.MetadataValue.md(
            markdown_table(HEADERS, [row(e) for e in open_entries]) if open_entries else "none open"
        ),
    }
    if not exhausted:
        return True, f"no exhausted dead letters ({len(open_entries)} pending a replay)", metadata
    description = "exhausted dead letters (fix the cause, then `lakehouse dlq replay ID`): " + "; ".join(
        f"{e.id} {e.source} {days(e)}: {first_line(e.error)}" for e in exhausted
    )
    return False, description, metadata


def evaluation(entries: Sequence[DeadLetter]) -> dg.AssetCheckEvaluation:
    passed, description, metadata = judge(entries)
    return dg.AssetCheckEvaluation(
        asset_key=DEAD_LETTERS_KEY,
        check_name=NO_EXHAUSTED,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata=metadata,
    )


def materialization(entries: Sequence[DeadLetter]) -> dg.AssetMaterialization:
    _, description, metadata = judge(entries)
    return dg.AssetMaterialization(asset_key=DEAD_LETTERS_KEY, description=description, metadata=metadata)
