"""The demo's closing table: rows per table per layer, quarantine, checks, from the run's events."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg


def _value(metadata: Mapping[str, dg.MetadataValue], key: str) -> object:
    entry = metadata.get(key)
    return getattr(entry, "value", entry) if entry is not None else None


def _fmt(n: object) -> str:
    return f"{n:,}" if isinstance(n, int) else ("" if n is None else str(n))


def summarize(result: dg.ExecuteInProcessResult) -> str:
    """One line per asset of the run (the metadata of its latest materialisation) and the checks."""
    latest: dict[dg.AssetKey, Mapping[str, dg.MetadataValue]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if "restated_by_run_for" not in materialization.metadata:  # the lookback days' markers
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
            reasons = _value(metadata, "quarantine_reasons") or {}
            detail = ", ".join(f"{k} {v}" for k, v in list(reasons.items())[:4])
            rows.append(
                ("quarantine", f"quarantine/{source}", _fmt(_value(metadata, "rows_quarantined")), detail)
            )
        elif layer == "silver":
            mode = _value(metadata, "mode")
            note = f"{_fmt(_value(metadata, 'rows_flagged'))} flagged"
            if mode == "scd2":
                note += ", rows = versions first seen in the range"
            rows.append(("silver", name, _fmt(_value(metadata, "dagster/row_count")), note))
        else:
            rows.append((layer, name, _fmt(_value(metadata, "dagster/row_count")), ""))

    widths = [max(len(r[i]) for r in [("layer", "table", "rows", ""), *rows]) for i in range(4)]
    lines = [f"{'layer':<{widths[0]}}  {'table':<{widths[1]}}  {'rows':>{widths[2]}}  note"]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}".rstrip() for a, b, c, d in rows]

    evaluations = result.get_asset_check_evaluations()
    passed = sum(1 for e in evaluations if e.passed)
    failed = [e for e in evaluations if not e.passed]
    lines.append("")
    lines.append(f"checks: {passed} passed, {len(failed)} failed")
    for e in failed:
        lines.append(f"  FAILED {e.asset_key.to_user_string()} {e.check_name} ({e.severity.value.lower()})")
    return "\n".join(lines)
