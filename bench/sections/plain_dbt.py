"""The README section of ``bench/plain_dbt.py``: the platform against plain ``dbt build``.

``section(runs)`` takes the JSON results of ``bench/plain_dbt.py`` (``bench/results/plain_dbt-*.json``,
oldest first, newest last) and renders the newest as Markdown, like the sections of
``bench/report.py``; earlier runs appear as one line of ratios.
"""

from __future__ import annotations

from typing import Any

TITLE = "## Against plain dbt"
SLOWER = 1.30  # above this ratio the section names what dominates the platform's run
PHASES = (("one_day", "one day"), ("backfill", "backfill"))


def section(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return f"{TITLE}\n\nNo run recorded yet.\n"
    run = runs[-1]
    lines = [
        TITLE,
        "",
        "The same two marts (`fct_daily_sales`, `customer_segment_daily_sales`) built from the same",
        "landing files by `bench/plain_dbt/`, the dbt-duckdb project a user would write instead:",
        "staging models reading the CSV and JSON-lines files with DuckDB, PII tokenised with SHA-256,",
        "orders incremental by day (delete+insert of the window's days), customer versions as SCD2,",
        "the platform's mart tests plus unique and not-null keys and accepted values. Both restate the",
        f"{run.get('lookback_days', 2)} lookback days, and run dbt with one thread. One day: the platform's daily run",
        "against one incremental `dbt build --vars` for the day, each after the earlier days were built.",
        "Backfill: the platform's single run over the range against one `dbt build --full-refresh`",
        "over it, both from nothing. Wall time is the figure; CPU time (dbt's processes included) moves",
        "less with other work on the machine but misses waiting (the Dagster event log's writes).",
        f"{run.get('date', '-')}, {run.get('machine', '-')}:",
        "",
        "| run | orders a day | landing rows read | platform / plain dbt | CPU time, platform / plain dbt | marts |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in PHASES:
        phase = run.get(key)
        if phase is None:
            continue
        size = run["rows_per_day"] if key == "one_day" else run["backfill_rows_per_day"]
        name = f"{label} ({_days(phase['days'])})"
        lines.append(
            f"| {name} | {size:,} | {sum(phase['rows_read'].values()):,} | "
            f"**{phase['ratio_platform_to_plain_dbt']:.2f}x** | {_cpu(phase)} | {_marts(phase['marts'])} |"
        )
    spread = _spread(run)
    if spread:
        lines += ["", spread]
    notes = [note for key, label in PHASES if (note := _dominant(run.get(key), label))]
    if notes:
        lines += ["", f"Where the platform is more than {SLOWER - 1:.0%} slower, what dominates its run:", ""]
        lines += notes
    differing = [
        _difference(run[key]["marts"], label)
        for key, label in PHASES
        if key in run and not run[key]["marts"]["match"]
    ]
    if differing:
        lines += ["", *differing]
    if len(runs) > 1:
        earlier = ", ".join(
            f"{r.get('date', '-')}: "
            + " / ".join(
                f"{label} {r[key]['ratio_platform_to_plain_dbt']:.2f}x" for key, label in PHASES if key in r
            )
            for r in runs[:-1][-5:]
        )
        lines += ["", f"Earlier runs (platform / plain dbt): {earlier}."]
    lines.append("")
    return "\n".join(lines)


NOISY = 1.30  # repeats of one side further apart than this: the machine was busy


def _spread(run: dict[str, Any]) -> str | None:
    """A warning when the repeats of a side differ by more than ``NOISY`` (wall time)."""
    worst = []
    for key, label in PHASES:
        phase = run.get(key)
        if phase is None:
            continue
        for side, name in (("platform_runs_s", "platform"), ("plain_dbt_runs_s", "plain dbt")):
            times = phase.get(side) or []
            if len(times) > 1 and max(times) / min(times) > NOISY:
                worst.append(f"{name}'s {label} runs {min(times):.0f}-{max(times):.0f} s")
    if not worst:
        return None
    return (
        f"The machine was busy during this run: repeats varied ({'; '.join(worst)}), so the wall ratios "
        "carry that noise (the best repeat of each side is used); the CPU ratios are the steadier figure."
    )


def _cpu(phase: dict[str, Any]) -> str:
    ratio = phase.get("cpu_ratio_platform_to_plain_dbt")
    return "-" if ratio is None else f"{ratio:.2f}x"


def _days(days: str) -> str:
    first, _, last = days.partition("..")
    return first if first == last else f"{first}..{last}"


def _marts(marts: dict[str, Any]) -> str:
    if marts["match"]:
        return f"equal ({marts['days']})"
    differing = len({d["order_date"] for d in marts["fct_daily_sales_differing_days"]})
    orders = marts["fct_daily_sales_totals"]["orders"]
    gap = orders["plain_dbt"] - orders["platform"]
    return f"{differing} day(s) differ, {gap:+,} orders in plain dbt"


def _difference(marts: dict[str, Any], label: str) -> str:
    late = marts["late_only_orders_in_landing"]
    orders = marts["fct_daily_sales_totals"]["orders"]
    revenue = marts["fct_daily_sales_totals"]["gross_revenue"]
    explained = (
        f"The whole difference: {late['valid']:,} valid and {late['flagged']:,} flagged orders were only ever delivered more "
        "than the lookback days after their day; the platform quarantines them (reason `late`), and a plain "
        "dbt build that reads their day and their file together counts them (its daily builds never do)."
        if marts["difference_explained_by_late_orders"]
        else f"Orders delivered too late ({late['valid']:,} valid, {late['flagged']:,} flagged) do not explain "
        "all of it; see `fct_daily_sales_differing_days` in the JSON."
    )
    return (
        f"Marts of the {label}: plain dbt has {orders['plain_dbt']:,} orders and {revenue['plain_dbt']:,.2f} "
        f"gross revenue over {marts['days']}, the platform {orders['platform']:,} and "
        f"{revenue['platform']:,.2f}. {explained}"
    )


def _dominant(phase: dict[str, Any] | None, label: str) -> str | None:
    if phase is None or phase["ratio_platform_to_plain_dbt"] <= SLOWER:
        return None
    total = phase["platform_s"]
    parts = {f"`{step}`": seconds for step, seconds in phase["platform_steps_s"].items()}
    parts["orchestration (the run minus its steps)"] = phase["platform_orchestration_s"]
    ranked = sorted(parts.items(), key=lambda kv: -kv[1])
    (top, top_s), rest = ranked[0], ranked[1:3]
    plain = phase["plain_dbt_s"]
    overhead = phase["plain_dbt_overhead_s"]
    others = ", ".join(f"{name} {seconds / total:.0%}" for name, seconds in rest)
    inside = ""
    command = phase.get("platform_dbt_command_s")
    if "gold" in top and command is not None:
        inside = (
            f" dbt's own command is {command / top_s:.0%} of that step; the rest is starting dbt and recording "
            "what it built, day by day (each test re-judged per day, every result logged as an event)."
        )
    events = phase.get("platform_events")
    if events:
        inside += (
            f" The run logged {events['total']:,} Dagster events, {events['check_evaluations']:,} of them check "
            f"results and {events['materializations']:,} materialisations (one per check or asset and day)."
        )
    return (
        f"- {label}: {top}, {top_s / total:.0%} of the run and {top_s / plain:.2f}x plain dbt's whole build "
        f"(dbt's start, parse and set-up are {overhead / plain:.0%} of that build); then {others}.{inside}"
    )
