"""The demo's closing table: rows per table per layer, quarantine, checks, from the run's events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import dagster as dg

from lakehouse.assets.metadata import RESTATED_BY, RUN_TOTALS
from lakehouse.cli.table import check_rows, summary_line


def _value(metadata: Mapping[str, dg.MetadataValue], key: str) -> object:
    """One of the run's totals, or else a metadata value: each day's materialisation carries
    that day's numbers under the same names, the run's are its ``run_totals`` entry."""
    totals = getattr(metadata.get(RUN_TOTALS), "value", None)
    if isinstance(totals, dict) and key in totals:
        return totals[key]
    entry = metadata.get(key)
    return getattr(entry, "value", entry) if entry is not None else None


def _fmt(n: object) -> str:
    return f"{n:,}" if isinstance(n, int) else ("" if n is None else str(n))


def summarize(result: dg.ExecuteInProcessResult) -> str:
    """One line per asset of the run (the metadata of its latest materialisation) and the checks."""
    latest: dict[dg.AssetKey, Mapping[str, dg.MetadataValue]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if RESTATED_BY not in materialization.metadata:  # the lookback days' markers
            latest[materialization.asset_key] = materialization.metadata

    rows: list[tuple[str, str, str, str]] = []
    order = {"bronze": 0, "silver": 1, "gold": 2}
    for key in sorted(latest, key=lambda k: (order.get(k.path[0], 9), k.path[-1])):
        metadata = latest[key]
        layer, name = key.path[0], "/".join(key.path)
        if layer == "bronze":
            source = key.path[-1]
            rows.append(
                (
                    "landing",
                    source,
                    _fmt(_value(metadata, "rows_read")),
                    f"rows in {_value(metadata, 'files_read')} files",
                )
            )
            rows.append(("bronze", name, _fmt(_value(metadata, "rows_written")), ""))
            reasons = _value(metadata, "quarantine_reasons")
            reasons = reasons if isinstance(reasons, dict) else {}
            detail = ", ".join(f"{k} {v}" for k, v in list(reasons.items())[:4])
            rows.append(
                ("quarantine", f"quarantine/{source}", _fmt(_value(metadata, "rows_quarantined")), detail)
            )
        elif layer == "silver":
            mode = _value(metadata, "mode")
            note = f"{_fmt(_value(metadata, 'rows_flagged'))} flagged"
            if mode == "scd2":
                note += ", rows = versions first seen in the range"
            rows.append(("silver", name, _fmt(_value(metadata, "rows_held")), note))
        else:  # a daily model's table, or an unpartitioned model's row count
            table_rows = _value(metadata, "table_rows")
            rows.append(
                (
                    layer,
                    name,
                    _fmt(table_rows if table_rows is not None else _value(metadata, "dagster/row_count")),
                    "",
                )
            )

    widths = [max(len(r[i]) for r in [("layer", "table", "rows", ""), *rows]) for i in range(4)]
    lines = [f"{'layer':<{widths[0]}}  {'table':<{widths[1]}}  {'rows':>{widths[2]}}  note"]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]

    checks = check_rows(result.get_asset_check_evaluations())
    lines.append("")
    lines.append(summary_line(checks) + " (one evaluation per check and day, and dbt's per table)")
    not_passed = Counter((r.asset, r.check, r.result) for r in checks if not r.passed)
    for (asset, check, outcome), days in sorted(not_passed.items()):
        lines.append(f"  {outcome:<6} {asset} {check} on {days} day(s)")
    return "\n".join(lines)
