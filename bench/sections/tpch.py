"""The README section of ``bench/tpch.py``: TPC-H lineitem and orders through bronze and silver.

``section(runs)`` renders the results of ``bench/results/tpch-*.json`` (oldest first, as
``bench/report.py`` reads them) as Markdown in the style of ``bench/report.py``: the newest run of
each day size for the one-day measure, the newest backfill, and, wherever a ratio is worse than
1.5x, what dominates the difference, computed from the run's own step timings.
"""

from __future__ import annotations

from typing import Any

WORSE = 1.5  # a ratio above this gets its dominant cost named

TITLE = "## TPC-H lineitem and orders (tpchgen-cli)"

INTRO = """\
TPC-H's `lineitem` (Parquet, 16 columns, four DECIMAL(15,2), a two-column key) and `orders` (CSV
with quoted free text), generated offline by `tpchgen-cli` and onboarded by the contracts in
`bench/tpch/sources/` (bronze and silver only: TPC-H has no gold models here). Landing holds one
file per arrival day, rows grouped by event date (`l_shipdate`, `o_orderdate`); 5% of rows arrive
a day late, which the contracts' `lookback_days: 1` restates. TPC-H has ~2,500 lineitems a day at
scale factor 1, so the one-day measure re-dates a contiguous slice of the generated rows (key
order) to each day its files hold, shifting each row's other dates with it; the backfill uses
TPC-H's own dates."""


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _ratio(figures: dict[str, Any], key: str) -> str:
    return f"{figures[key]:.2f}x" if key in figures else "-"


def _dominant(costs: dict[str, float]) -> tuple[str, float]:
    name = max(costs, key=lambda k: costs[k])
    return name, costs[name]


def _day_rows(by_size: dict[int, dict[str, Any]]) -> list[str]:
    lines = [
        "One daily partition (its lookback day restated), one Dagster run, against",
        "`bench/tpch_baseline.sql` (hand-written DuckDB, same files, same bronze and silver work):",
        "",
        "| lineitems a day | orders a day | landing rows read | platform / baseline | in CPU time | orchestration share | scale factor | date, machine |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, run in sorted(by_size.items()):
        day = run["day"]
        rows = sum(day["rows_read"].values())
        lines.append(
            f"| {size:,} | {day['orders_per_day']:,} | {rows:,} | **{day['ratio_platform_to_baseline']:.2f}x** | "
            f"{_ratio(day, 'ratio_cpu_platform_to_baseline')} | "
            f"{_share(day['orchestration_s'], day['platform_s'])} | {run['scale_factor']:g} | "
            f"{run.get('date', '-')}, {run.get('machine', '-')} |"
        )
    size, run = max(by_size.items())
    day = run["day"]
    lines += ["", f"Steps at {size:,} lineitems a day, as shares of the run:", ""]
    for step, seconds in sorted(day["steps_s"].items(), key=lambda kv: -kv[1]):
        lines.append(f"- `{step}`: {_share(seconds, day['platform_s'])}")
    lines.append(
        f"- orchestration (the run minus its steps): {_share(day['orchestration_s'], day['platform_s'])}"
    )
    ratio = day["ratio_platform_to_baseline"]
    if ratio > WORSE:
        costs = {**{f"`{s}`": v for s, v in day["steps_s"].items()}, "orchestration": day["orchestration_s"]}
        name, seconds = _dominant(costs)
        lines += [
            "",
            f"At {ratio:.2f}x the baseline, the dominant cost is {name}: {_share(seconds, day['platform_s'])} of "
            f"the run, {seconds / day['baseline_s']:.2f}x the whole baseline on its own.",
        ]
        step = name.strip("`")
        library = (day.get("library_steps_s") or {}).get(step)
        rules = (day.get("rules_outside_dagster_s") or {}).get(step)
        if library is not None:
            call = "ingest_range" if step.startswith("bronze") else "build_range"
            lines[-1] += (
                f" Timed alone outside Dagster from the same snapshot, `{call}` is "
                f"{_share(library, seconds)} of that step"
                + (f" and the contract's great-expectations rules {_share(rules, seconds)}" if rules else "")
                + "."
            )
    return lines


def _excess(run: dict[str, Any]) -> list[str]:
    """What the backfill run spends beyond the library's own work, by kind of cost: the rules
    (timed alone outside Dagster), the rest of the steps beyond their library calls (the checks'
    other work and the per-day records they write to the event log), and the orchestration
    around the steps (run start, step launches, the run's own events)."""
    fill = run["backfill"]
    window = fill["days"] + run.get("lookback_days", 0)
    rules = sum((fill.get("rules_outside_dagster_s") or {}).values())
    in_steps = sum(fill["steps_s"].values()) - sum(fill["library_steps_s"].values())
    events = fill.get("events") or {}
    checks, materialised = events.get("ASSET_CHECK_EVALUATION", 0), events.get("ASSET_MATERIALIZATION", 0)
    costs = {
        f"the great-expectations rules (one suite per day of the {window}-day window, per source)": rules,
        f"the steps' work beyond `ingest_range` and `build_range` other than the rules: the other "
        f"checks and the per-day results they record ({checks:,} check evaluations and "
        f"{materialised:,} materialisations in the event log)": in_steps - rules,
        "orchestration (the run minus its steps)": fill["orchestration_s"],
    }
    name, seconds = _dominant(costs)
    excess = fill["platform_s"] - fill["library_s"]
    parts = ", ".join(f"{_share(v, excess)}" for v in costs.values())
    return [
        f"The run's excess over the library ({_share(excess, fill['platform_s'])} of the run) is dominated "
        f"by {name}: {_share(seconds, excess)} of the excess (rules, rest of the steps, orchestration: "
        f"{parts}).",
    ]


def _backfill_rows(run: dict[str, Any]) -> list[str]:
    fill = run["backfill"]
    rows = sum(fill["rows_read"].values())
    cpu_total = f"{fill['platform_cpu_s'] / fill['baseline_cpu_s']:.2f}x" if "platform_cpu_s" in fill else "-"
    lines = [
        f"A {fill['days']}-day backfill ({fill['start']}..{fill['end']}, TPC-H's own dates, scale factor "
        f"{run['scale_factor']:g}, {rows:,} landing rows) from an empty lake, {run.get('date', '-')}, "
        f"{run.get('machine', '-')}:",
        "",
        "| what | against | ratio | in CPU time |",
        "|---|---|---|---|",
        f"| one Dagster run (`materialize_range`) | the same library functions outside Dagster "
        f"(`ingest_range`, `build_range`) | **{fill['ratio_platform_to_library']:.2f}x** | "
        f"{_ratio(fill, 'ratio_cpu_platform_to_library')} |",
        f"| the library functions | hand-written DuckDB (`tpch_baseline.sql` over the range) | "
        f"**{fill['ratio_library_to_baseline']:.2f}x** | {_ratio(fill, 'ratio_cpu_library_to_baseline')} |",
        f"| one Dagster run | hand-written DuckDB | **{fill['ratio_platform_to_baseline']:.2f}x** | "
        f"{cpu_total} |",
    ]
    if fill["ratio_platform_to_library"] > WORSE:
        lines += ["", *_excess(run)]
    if fill["ratio_library_to_baseline"] > WORSE:
        gaps = {s: v for s, v in fill["library_steps_s"].items()}
        name, seconds = _dominant(gaps)
        lines += [
            "",
            f"Of the library's time, `{name}` takes the most: {_share(seconds, fill['library_s'])}, "
            f"{seconds / fill['baseline_s']:.2f}x the whole hand-written range on its own.",
        ]
    return lines


def section(runs: list[dict[str, Any]]) -> str:
    """Markdown for the TPC-H benchmark from its results, oldest first (the newest of each size wins)."""
    by_size: dict[int, dict[str, Any]] = {}
    backfill: dict[str, Any] | None = None
    for run in runs:
        if "day" in run:
            by_size[run["day"]["rows_per_day"]] = run
        if "backfill" in run:
            backfill = run
    if not by_size and backfill is None:
        return f"{TITLE}\n\nNo run recorded yet.\n"
    lines = [TITLE, "", INTRO, ""]
    if by_size:
        lines += [*_day_rows(by_size), ""]
    if backfill is not None:
        lines += [*_backfill_rows(backfill), ""]
    return "\n".join(lines)
