"""The backfill section of ``bench/README.md``, from ``bench/backfill.py``'s results.

``section(runs)`` takes the parsed ``backfill-*.json`` results, oldest first, and renders the
newest run of each size (days, orders a day) as ratios measured in that run, then the steps and
events of the newest run of the largest size. A ratio above ``POOR`` gets a line naming what
dominates it.
"""

from __future__ import annotations

from typing import Any

TITLE = "## A year's backfill: one run, one pass, one run a day"
POOR = 1.5  # a ratio above this is explained in a line of prose
NOISE = 0.15  # dbt's build time differing by more than this between two ways: a noisy machine


def section(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return f"{TITLE}\n\nNo run recorded yet.\n"
    by_size: dict[tuple[int, int], dict[str, Any]] = {}
    for run in runs:
        by_size[(run["days"], run["orders_per_day"])] = run  # the newest run of each size wins
    newest = by_size[max(by_size)]  # the details: the newest run of the largest size
    lines = [
        TITLE,
        "",
        "The same landing files, a fresh lake each: one Dagster run over every day (the platform's",
        "single-run backfill), one pass of the same library functions and one `dbt build` outside",
        "Dagster, and one Dagster run per day. Per-day runs are measured over the first days of the",
        "range only; their cost for the whole range is extrapolated from those runs (which see",
        "smaller tables than the later days, so it leans low).",
        "",
        "| days | orders a day | landing rows read | single run / one pass | per-day runs (extrapolated) / single run | orchestration share | event-log writes share | date, machine |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_size_row(run) for _, run in sorted(by_size.items())]
    lines += ["", *_steps(newest), "", *_events(newest), ""]
    floors = _floors(newest)
    if floors:
        lines += [*floors, ""]
    prose = [p for p in (_single_prose(newest), _daily_prose(newest)) if p]
    if prose:
        lines += ["\n\n".join(prose), ""]
    return "\n".join(lines)


def _size_row(run: dict[str, Any]) -> str:
    single, daily = run["single_run"], run["per_partition"]
    rows = sum(run["one_pass"]["rows_read"].values())
    return (
        f"| {run['days']:,} | {run['orders_per_day']:,} | {rows:,} | **{run['ratio_single_to_one_pass']:.2f}x** | "
        f"**{run['ratio_per_partition_to_single']:.2f}x** (from {daily['measured_runs']} runs) | "
        f"{single['orchestration_s'] / single['seconds']:.0%} | {single['event_write_s'] / single['seconds']:.0%} | "
        f"{run.get('date', '-')}, {run.get('machine', '-')} |"
    )


def _steps(run: dict[str, Any]) -> list[str]:
    single, parts = run["single_run"], run["one_pass"]["parts_s"]
    writes = single.get("event_write_s_by_step", {})
    lines = [
        f"Single run of {run['days']} days at {run['orders_per_day']:,} orders a day ({run.get('date', '-')}), "
        "by step:",
        "",
        "| step | share of the run | against its one-pass part | event-log writes, share of the step |",
        "|---|---|---|---|",
    ]
    for step, seconds in sorted(single["steps_s"].items(), key=lambda kv: -kv[1]):
        part = parts.get(step)
        against = f"{seconds / part:.2f}x" if part else "no counterpart"
        lines.append(
            f"| `{step}` | {seconds / single['seconds']:.0%} | {against} | {writes.get(step, 0.0) / seconds:.0%} |"
        )
    orchestration = single["orchestration_s"]
    lines.append(
        f"| orchestration (run minus its steps) | {orchestration / single['seconds']:.0%} | no counterpart | "
        f"{_share(writes.get('run', 0.0), orchestration)} |"
    )
    return lines


def _events(run: dict[str, Any]) -> list[str]:
    single = run["single_run"]
    by_type, sizes = single.get("event_write_s_by_type", {}), single.get("event_bytes_by_type", {})
    total_writes, total_bytes = single["event_write_s"], single.get("event_bytes_total", 0)
    serialised = f" ({total_bytes / 2**20:,.0f} MiB serialised)" if total_bytes else ""
    lines = [
        f"Its event log: {single['events_total']:,} entries{serialised}, "
        f"{single['events_total'] / run['days']:,.0f} a day of the range "
        f"(a one-day run writes {run['per_partition']['mean_events']:,.0f}).",
        "",
        "| event type | entries | share of the bytes | share of the write time |",
        "|---|---|---|---|",
    ]
    other_count, other_bytes, other_writes = 0, 0, 0.0
    for kind, count in single["events"].items():
        written, size = by_type.get(kind, 0.0), sizes.get(kind, 0)
        if count * 100 < single["events_total"] and written * 100 < total_writes:
            other_count, other_bytes, other_writes = (
                count + other_count,
                size + other_bytes,
                written + other_writes,
            )
            continue  # the run's bookkeeping
        lines.append(
            f"| `{kind}` | {count:,} | {_share(size, total_bytes)} | {_share(written, total_writes)} |"
        )
    if other_count:
        lines.append(
            f"| the rest | {other_count:,} | {_share(other_bytes, total_bytes)} | "
            f"{_share(other_writes, total_writes)} |"
        )
    heaviest = single.get("heaviest_metadata_bytes", {})
    if heaviest:
        lines += ["", "The heaviest metadata, summed over every event that carries it:", ""]
        lines += [
            f"- {_metadata_name(key)}: {_share(size, total_bytes)} of the bytes"
            for key, size in list(heaviest.items())[:5]
        ]
    return lines


def _metadata_name(key: str) -> str:
    """``"ASSET_MATERIALIZATION bronze__orders: files"`` as Markdown."""
    kind, _, rest = key.partition(" ")
    step, _, name = rest.partition(": ")
    return f"`{name}` on the `{kind}` events of `{step}`"


def _floors(run: dict[str, Any]) -> list[str]:
    """The event writes against the disk, and how noisy the machine was."""
    single, passed, daily = run["single_run"], run["one_pass"], run["per_partition"]
    lines = ["Floors and noise, measured in the same run:", ""]
    if "event_write_in_commits" in run:
        lines.append(
            f"- An event-log entry took as long to write as {run['event_write_in_commits']:.1f} SQLite commits "
            "timed on the same disk in the same run (the default event log is SQLite)."
        )
    if single.get("dbt_s") and passed.get("dbt_s"):
        ratio = single["dbt_s"] / passed["dbt_s"]
        noisy = " (the same work: the machine was noisy while they ran)" if abs(ratio - 1) > NOISE else ""
        lines.append(
            f"- dbt's own build time (its `Finished running` line), single run / one pass: {ratio:.2f}x{noisy}; "
            f"dbt's build of one day takes {daily.get('mean_dbt_s', 0.0) / passed['dbt_s']:.2f}x its build of "
            "the whole range."
        )
    return lines if len(lines) > 2 else []


def _single_prose(run: dict[str, Any]) -> str:
    """What the single run pays beyond the one pass, when that is a lot: the step (or the
    orchestration) with the largest excess over its one-pass part, and the event writes' share."""
    ratio = run["ratio_single_to_one_pass"]
    if ratio <= POOR:
        return ""
    single, parts = run["single_run"], run["one_pass"]["parts_s"]
    excess = {step: seconds - parts.get(step, 0.0) for step, seconds in single["steps_s"].items()}
    excess["orchestration (run minus its steps)"] = single["orchestration_s"]
    total = single["seconds"] - run["one_pass"]["seconds"]
    name, seconds = max(excess.items(), key=lambda kv: kv[1])
    text = (
        f"The single run costs {ratio:.2f}x the one pass. Most of the difference is `{name}` "
        f"({_share(seconds, total)} of it)"
    )
    outside = name.startswith("orchestration")
    writes = single.get("event_write_s_by_step", {}).get("run" if outside else name)
    if writes:
        whole = single["orchestration_s"] if outside else single["steps_s"][name]
        text += f", {_share(writes, whole)} of {'which' if outside else 'that step'} is writing events to the event log"
    text += f"; event-log writes in all are {_share(single['event_write_s'], total)} of the difference"
    by_type = single.get("event_write_s_by_type", {})
    if by_type:
        kind = max(by_type, key=by_type.get)
        text += f", most of them `{kind}` ({single['events'].get(kind, 0):,} entries)"
    return text + "."


def _daily_prose(run: dict[str, Any]) -> str:
    """What a one-day run pays every time, when the per-day runs cost a lot more than one run."""
    ratio = run["ratio_per_partition_to_single"]
    if ratio <= POOR:
        return ""
    daily = run["per_partition"]
    parts = {**daily["mean_steps_s"], "orchestration (run minus its steps)": daily["mean_orchestration_s"]}
    name, seconds = max(parts.items(), key=lambda kv: kv[1])
    mean = daily["mean_run_s"]
    text = (
        f"{run['days']} one-day runs would cost {ratio:.2f}x the single run (extrapolated from "
        f"{daily['measured_runs']} measured): each pays its whole fixed cost again, and the largest part "
        f"of a one-day run is `{name}` ({_share(seconds, mean)} of it"
    )
    if name == "gold_dbt_models" and daily.get("mean_dbt_s"):
        text += f"; dbt's own build is {_share(daily['mean_dbt_s'], seconds)} of that step"
    text += ")"
    text += f"; event-log writes are {_share(daily['mean_event_write_s'], mean)} of a run"
    growth = daily.get("growth_last_third_to_first")
    if growth is not None:
        text += f", and the last third of the measured runs cost {growth:.2f}x the first third"
    return text + "."


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole > 0 else "-"
