"""Benchmark: TPC-H lineitem and orders (tpchgen-cli) through bronze and silver, as ratios.

    .venv/bin/python bench/tpch.py [--scale-factor 1] [--rows-per-day 500000] [--days 365]
                                   [--repeat 2] [--workdir /tmp/bench-tpch/run]

A second data shape beside the demo's: TPC-H's two largest tables, generated offline by
``tpchgen-cli`` (a PyPI package), onboarded by the contracts in ``bench/tpch/sources/``
(lineitem: Parquet files, 16 columns, four DECIMAL(15,2), three dates, a two-column key;
orders: CSV files with quoted free text). The run points ``LAKEHOUSE_SOURCES_DIR`` there, so the
demo's sources are not loaded, and selects only the TPC-H sources' bronze and silver assets
(TPC-H has no gold models).

Landing layout. TPC-H dates a row (orders by ``o_orderdate``, lineitem by ``l_shipdate``) but
says nothing of deliveries, so each table is laid out as one file per arrival day, rows grouped by
event date: a row arrives on its event day, or, for ``--late-pct`` of them (5 %, chosen by a hash
of the key), the day after, which is what the contracts' ``lookback_days: 1`` is for.

1. One daily partition. TPC-H at scale factor 1 has only ~2,500 lineitems a ship date and ~625
   orders an order date, too few for a day's cost to be the data's. So the day is scaled
   honestly: a contiguous slice of the generated rows, in key order (``--rows-per-day``
   lineitems, a quarter as many orders: TPC-H's four lines an order), is re-dated to each day
   the run's files hold, the row's other dates shifted by the same number of days so TPC-H's
   intervals within a row hold (ship before receipt, commit around ship). The re-dated rows
   keep every value but the dates; what they lose is the cross-table relation (a line shipped
   after its order), which neither bronze nor silver looks at. Rows not in a slice keep their
   own dates (the day's natural ~2,500 x SF rows come along). The scale factor is raised when
   the slices need more rows than it generates. The lookback day is materialised untimed, then
   the day is timed (the run restating its lookback day) as one Dagster run, in process,
   against ``bench/tpch_baseline.sql``: hand-written DuckDB doing the same bronze and silver
   work from the same files (typed bronze with the platform's audit columns, latest row per key
   into silver, the quality flags, per-day counts), best of ``--repeat`` from the same snapshot.
   Each repeat also runs the day through the library functions alone (``ingest_range``,
   ``build_range``), so a step's own work can be told from what the platform wraps around it;
   the three sides are interleaved, so the machine's drifting load hits them alike.
2. A backfill of ``--days`` days (natural TPC-H dates, no re-dating) from an empty lake: one
   Dagster run over the range (``lakehouse.runs.materialize_range``, single-run backfill)
   against one pass of the same library functions outside Dagster
   (``lakehouse.bronze.ingest.ingest_range`` then ``lakehouse.silver.build.build_range``, per
   source, over the same range) and against the baseline script over the range. Outside Dagster,
   the contracts' great-expectations rules are also timed on their own (not in the library's
   total): the silver step evaluates them per day. The run's event counts are kept too: a range
   run records a materialisation and every check's result per day, per asset.

Every figure is a ratio against a baseline measured in the same run on these noisy 2 cores;
seconds are kept in the JSON (``bench/results/tpch-<timestamp>.json``) only to explain ratios.
``bench/sections/tpch.py`` renders the newest result as a Markdown section. Generated tables
and laid-out landing files are cached beside the work dir and reused by runs of the same size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "tpch" / "sources"
LOOKBACK = 1  # the contracts' partitions.lookback_days
# Rows tpchgen-cli generates at scale factor 1 (TPC-H: 1,500,000 orders, ~6,001,215 lineitems).
ROWS_AT_SF1 = {"lineitem": 6_001_215, "orders": 1_500_000}
LINES_PER_ORDER = 4  # TPC-H's average: 1 to 7 lines an order


@dataclass(frozen=True)
class Table:
    """How one TPC-H table is laid out as landing files."""

    name: str
    event: str  # the contract's event_time column
    key: tuple[str, ...]  # the contract's primary key
    shifted: tuple[str, ...]  # other dates moved with the event date when a row is re-dated
    format: str  # the contract's extract.format, also the files' suffix

    def folder(self, landing: Path) -> Path:
        return landing / "tpch" / self.name


TABLES = (
    Table(
        "lineitem",
        "l_shipdate",
        ("l_orderkey", "l_linenumber"),
        ("l_commitdate", "l_receiptdate"),
        "parquet",
    ),
    Table("orders", "o_orderdate", ("o_orderkey",), (), "csv"),
)


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def _cpu_seconds() -> float:
    """CPU time of this process (every thread: DuckDB's, delta-rs's): less sensitive than wall
    time to what else a shared machine runs, though not immune (caches, clock)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _timed_with_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    cpu = _cpu_seconds()
    wall = _timed(fn)
    return wall, _cpu_seconds() - cpu


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _tpchgen() -> str:
    """The tpchgen-cli executable: beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "tpchgen-cli"
    found = str(beside) if beside.exists() else shutil.which("tpchgen-cli")
    if not found:
        raise SystemExit(
            "tpchgen-cli is not installed: uv pip install --python .venv/bin/python tpchgen-cli "
            "(or scripts/setup --dev)"
        )
    return found


def generate_tables(cache: Path, scale: float) -> tuple[Path, float, str]:
    """TPC-H orders and lineitem at ``scale`` as Parquet (tpchgen-cli, cached); the generation's seconds
    (0 when cached) and the generator's version."""
    binary = _tpchgen()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    out = cache / f"tables-sf{scale:g}"
    if (out / ".complete").exists():
        return out, 0.0, version
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print(f"generating TPC-H orders and lineitem at scale factor {scale:g} ({version}) ...", flush=True)
    seconds = _timed(
        lambda: subprocess.run(
            [binary, "parquet", "-s", f"{scale:g}", "-T", "orders", "-T", "lineitem", "-o", str(out), "-q"],
            check=True,
        )
    )
    (out / ".complete").touch()
    print(f"  {seconds:.0f} s", flush=True)
    return out, seconds, version


def lay_out(
    tables: Path,
    landing: Path,
    first: date,
    last: date,
    *,
    late_pct: float,
    slices: dict[str, int] | None = None,
) -> dict[str, dict[str, dict[str, int]]]:
    """Write each table's landing files for the arrival days ``first..last`` under ``landing``
    (``tpch/<table>/<arrival day>/<table>.<format>``, rows ordered by event date and key).

    ``slices``: rows per day to concentrate per table: the first ``len(days) x n`` rows in key
    order are re-dated, ``n`` to each event day ``first..last`` (their other dates shifted by the
    same amount). Returns, per table, the rows of each arrival day by event day (ISO keys)."""
    import duckdb

    days = _days(first, last)
    late_bp = round(late_pct * 100)  # basis points of rows that arrive a day late
    stats: dict[str, dict[str, dict[str, int]]] = {}
    scratch = landing.parent / f"{landing.name}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET temp_directory = '{scratch}/spill'")
        for table in TABLES:
            per_day = (slices or {}).get(table.name, 0)
            source = f"read_parquet('{tables}/{table.name}.parquet')"
            key = ", ".join(table.key)
            moved = ", ".join(f"{c} + _delta AS {c}" for c in (table.event, *table.shifted))
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE laid AS
                WITH numbered AS (SELECT *, row_number() OVER (ORDER BY {key}) - 1 AS _pos FROM {source}),
                redated AS (
                    SELECT *, CAST(CASE WHEN _pos < {per_day * len(days)}
                                        THEN (DATE '{first}' + CAST(_pos // {max(per_day, 1)} AS INTEGER)) - {table.event}
                                        ELSE 0 END AS INTEGER) AS _delta
                    FROM numbered
                ),
                moved AS (SELECT * REPLACE ({moved}) FROM redated)
                SELECT * EXCLUDE (_pos, _delta),
                       {table.event} + CASE WHEN hash({key}) % 10000 < {late_bp} THEN 1 ELSE 0 END AS _arrival
                FROM moved
                """
            )
            con.execute(f"DELETE FROM laid WHERE _arrival NOT BETWEEN DATE '{first}' AND DATE '{last}'")
            counts = con.execute(
                f"SELECT _arrival, {table.event}, count(*) FROM laid GROUP BY ALL ORDER BY ALL"
            ).fetchall()
            by_arrival: dict[str, dict[str, int]] = {}
            for arrival, event, n in counts:
                by_arrival.setdefault(arrival.isoformat(), {})[event.isoformat()] = n
            empty = [d for d in days if d.isoformat() not in by_arrival]
            if empty:
                raise SystemExit(
                    f"{table.name}: no rows arrive on {', '.join(map(str, empty[:5]))}"
                    f"{' ...' if len(empty) > 5 else ''} at this scale factor; raise --scale-factor"
                )
            stats[table.name] = by_arrival
            written = scratch / table.name
            options = "FORMAT parquet" if table.format == "parquet" else "FORMAT csv, HEADER true"
            con.execute(
                f"COPY (SELECT * FROM laid ORDER BY _arrival, {table.event}, {key}) TO '{written}' "
                f"({options}, PARTITION_BY (_arrival))"
            )
            folder = table.folder(scratch / "landing")
            folder.mkdir(parents=True)
            for day in days:
                (part,) = (written / f"_arrival={day}").iterdir()
                target = folder / day.isoformat() / f"{table.name}.{table.format}"
                target.parent.mkdir()
                part.rename(target)
                delivered = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23)
                os.utime(target, (delivered.timestamp(), delivered.timestamp()))  # _ingested_at
    shutil.rmtree(landing, ignore_errors=True)
    (scratch / "landing").rename(landing)
    (landing / "layout.json").write_text(json.dumps(stats))
    shutil.rmtree(scratch)
    return stats


def cached_landing(
    cache: Path,
    name: str,
    tables: Path,
    first: date,
    last: date,
    late_pct: float,
    slices: dict[str, int] | None,
) -> tuple[Path, dict[str, dict[str, dict[str, int]]]]:
    landing = cache / name
    if not (landing / ".complete").exists():
        print(f"laying out landing files {first}..{last} ({name}) ...", flush=True)
        seconds = _timed(lambda: lay_out(tables, landing, first, last, late_pct=late_pct, slices=slices))
        (landing / ".complete").touch()
        print(f"  {seconds:.0f} s", flush=True)
    return landing, json.loads((landing / "layout.json").read_text())


def link_landing(cached: Path, landing_root: Path) -> None:
    """The cached landing files under ``landing_root`` as hard links (the runs only read them)."""
    shutil.copytree(
        cached / "tpch",
        landing_root / "tpch",
        copy_function=os.link,  # type: ignore[arg-type]
    )


def rows_in_window(stats: dict[str, dict[str, int]], first: date, last: date) -> int:
    """The rows a run for the window ``first..last`` stages: its files' rows of its days."""
    arrivals = {d.isoformat() for d in _days(first - timedelta(days=1), last + timedelta(days=LOOKBACK))}
    wanted = {d.isoformat() for d in _days(first, last)}
    return sum(
        n for a, by_event in stats.items() if a in arrivals for e, n in by_event.items() if e in wanted
    )


def landing_files(landing_root: Path, first: date, last: date) -> dict[str, list[str]]:
    """Per table, the files the platform's plan lists for the window ``first..last``."""
    arrivals = _days(first - timedelta(days=1), last + timedelta(days=LOOKBACK))
    return {
        t.name: [
            str(p)
            for d in arrivals
            for p in sorted((t.folder(landing_root) / d.isoformat()).glob(f"*.{t.format}"))
        ]
        for t in TABLES
    }


class Baseline:
    """``bench/tpch_baseline.sql`` over a directory of its own."""

    def __init__(self, out: Path, landing_root: Path) -> None:
        self.out, self.landing_root = out, landing_root
        self.script = (HERE / "tpch_baseline.sql").read_text()
        out.mkdir(parents=True, exist_ok=True)

    def run(self, first: date, last: date) -> None:
        import duckdb

        files = landing_files(self.landing_root, first, last)
        sql = self.script.format(
            lineitem_files=repr(files["lineitem"]),
            orders_files=repr(files["orders"]),
            window_start=first,
            day=last,
            out=self.out,
        )
        with duckdb.connect(str(self.out / "baseline.duckdb")) as con:
            con.execute(sql)


def _step_seconds(result: Any) -> dict[str, float]:
    steps: dict[str, float] = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = event.event_specific_data.duration_ms / 1000
    return steps


def _event_counts(result: Any) -> dict[str, int]:
    """Events the run wrote to the instance's event log, by type (materialisations and check
    evaluations are recorded per day: a range run writes one of each per day)."""
    counts: dict[str, int] = {}
    for event in result.all_events:
        counts[event.event_type_value] = counts.get(event.event_type_value, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _quiet(work: Path) -> contextlib.AbstractContextManager[Any]:
    """Dagster's and the libraries' progress output into a log file, not the terminal."""
    log = open(work / "run.log", "a")  # noqa: SIM115 - closed by the ExitStack
    stack = contextlib.ExitStack()
    stack.enter_context(log)
    stack.enter_context(contextlib.redirect_stdout(log))
    return stack


def selection(defs: Any, contracts: list[Any]) -> Any:
    """The TPC-H sources' bronze and silver assets with their own checks, nothing else.

    Not ``AssetSelection.assets(...)`` alone: that brings every check targeting those keys, and
    the demo's dbt project (loaded whatever the sources dir) declares source tests on
    ``silver/orders`` (``order_id`` not null), which would run dbt against TPC-H's orders."""
    import dagster as dg

    from lakehouse.assets.naming import bronze_key, silver_key

    keys = {k(c) for c in contracts for k in (bronze_key, silver_key)}
    own = [
        check
        for a in defs.assets or []
        if isinstance(a, dg.AssetsDefinition) and keys & set(a.keys)
        for check in a.check_keys
        if check.asset_key in keys
    ]
    return dg.AssetSelection.assets(*keys).without_checks() | dg.AssetSelection.checks(*own)


def measure_day(args: argparse.Namespace, tables: Path, cache: Path, work: Path) -> dict[str, Any]:
    """Measure 1: one daily partition (its lookback day restated) against the baseline script."""
    import dagster as dg

    from lakehouse.platform import build_definitions
    from lakehouse.runs import materialize_range
    from lakehouse.settings import Settings

    day = args.day
    # The untimed run for the lookback day reads from D-2L-1; the timed one up to D+L.
    first_file, last_file = day - timedelta(days=2 * LOOKBACK + 1), day + timedelta(days=LOOKBACK)
    slices = {"lineitem": args.rows_per_day, "orders": args.orders_per_day}
    name = f"landing-day-sf{args.scale_factor:g}-{args.rows_per_day}-{args.orders_per_day}-{day}-late{args.late_pct:g}"
    cached, stats = cached_landing(cache, name, tables, first_file, last_file, args.late_pct, slices)

    root = work / "day"
    settings = Settings.from_env(data_dir=str(root / "data"))
    link_landing(cached, Path(settings.landing_root))
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.get()
    contracts = _contracts()
    chosen = selection(defs, contracts)
    window_start = day - timedelta(days=LOOKBACK)
    print(
        f"one day: materialising the lookback day(s) {window_start}..{day - timedelta(days=1)} (untimed) ...",
        flush=True,
    )
    with _quiet(work):
        materialize_range(
            defs,
            window_start,
            day - timedelta(days=1),
            instance=instance,
            selection=chosen,
            console_log_level="ERROR",
        )
    lake = Path(settings.lake_root)
    snapshot = root / "snapshot"
    shutil.copytree(lake, snapshot)

    baseline = Baseline(root / "baseline", Path(settings.landing_root))
    for d in _days(window_start, day - timedelta(days=1)):
        baseline.run(d - timedelta(days=LOOKBACK), d)
    baseline_snapshot = root / "baseline_snapshot"
    shutil.copytree(baseline.out, baseline_snapshot)

    def restore(target: Path, source: Path) -> None:
        shutil.rmtree(target)
        shutil.copytree(source, target)

    # Interleaved, each from its snapshot: the platform's run, the same day through the library
    # functions alone (what each step's own work costs, to tell it from what the platform wraps
    # around it), then the baseline; on a shared machine, load drifts between repeats, not within.
    platform_times: list[float] = []
    baseline_times: list[float] = []
    platform_cpu: list[float] = []
    baseline_cpu: list[float] = []
    library_runs: list[dict[str, Any]] = []
    steps: list[dict[str, float]] = []  # per run: the best run's steps explain the best run
    events: dict[str, int] = {}
    rules: dict[str, float] = {}
    for i in range(args.repeat):
        restore(lake, snapshot)
        result: Any = None

        def run() -> None:
            nonlocal result
            with _quiet(work):
                result = materialize_range(
                    defs, day, day, instance=instance, selection=chosen, console_log_level="ERROR"
                )

        wall, cpu = _timed_with_cpu(run)
        platform_times.append(wall)
        platform_cpu.append(cpu)
        steps.append(_step_seconds(result))
        events = _event_counts(result)
        if i == args.repeat - 1:  # on the run's silver: the rules of its two days, timed alone
            with _quiet(work):
                rules = rules_outside_dagster(contracts, lake, day, day)
        restore(lake, snapshot)
        with _quiet(work):
            library_runs.append(library_pass(contracts, lake, Path(settings.landing_root), day, day))
        restore(baseline.out, baseline_snapshot)
        wall, cpu = _timed_with_cpu(lambda: baseline.run(window_start, day))
        baseline_times.append(wall)
        baseline_cpu.append(cpu)
        print(
            f"  run {i + 1}: platform {platform_times[-1]:.1f} s, library {library_runs[-1]['total_s']:.1f} s, "
            f"baseline {baseline_times[-1]:.1f} s",
            flush=True,
        )
    library = min(library_runs, key=lambda r: r["total_s"])

    platform, best_baseline = min(platform_times), min(baseline_times)
    steps_s = steps[platform_times.index(platform)]
    return {
        "partition": str(day),
        "window": [str(window_start), str(day)],
        "rows_per_day": args.rows_per_day,
        "orders_per_day": args.orders_per_day,
        "rows_read": {t: rows_in_window(stats[t], window_start, day) for t in stats},
        "rows_in_day": {t: sum(by_event.get(str(day), 0) for by_event in stats[t].values()) for t in stats},
        "platform_s": platform,
        "platform_runs_s": platform_times,
        "baseline_s": best_baseline,
        "baseline_runs_s": baseline_times,
        "ratio_platform_to_baseline": platform / best_baseline,
        "platform_cpu_s": min(platform_cpu),
        "baseline_cpu_s": min(baseline_cpu),
        "ratio_cpu_platform_to_baseline": min(platform_cpu) / min(baseline_cpu),
        "steps_s": steps_s,
        "orchestration_s": platform - sum(steps_s.values()),
        "library_s": library["total_s"],
        "library_cpu_s": min(r["cpu_s"] for r in library_runs),
        "library_steps_s": library["steps_s"],
        "rules_outside_dagster_s": rules,
        "events": events,
    }


def _contracts() -> list[Any]:
    from lakehouse.contracts.loader import load_contract

    return [load_contract(SOURCES / f"{t.name}.yaml").contract for t in TABLES]


def library_pass(
    contracts: list[Any], lake: Path, landing_root: Path, first: date, last: date
) -> dict[str, Any]:
    """The backfill outside Dagster: ``ingest_range`` for every source, then ``build_range``, as the
    run's steps do (bronze before silver), with fresh tables under ``lake``."""
    from lakehouse.bronze.ingest import ingest_range
    from lakehouse.silver.build import build_range
    from lakehouse.tables.location import TableLocation

    run_id = uuid.uuid4().hex

    def table(layer: str, name: str) -> TableLocation:
        return TableLocation(str(lake / layer / name))

    steps: dict[str, float] = {}
    rows: dict[str, int] = {}
    began, cpu = time.perf_counter(), _cpu_seconds()
    for contract in contracts:
        t0 = time.perf_counter()
        result = ingest_range(
            contract,
            start=first,
            end=last,
            landing_root=str(landing_root),
            bronze=table("bronze", contract.name),
            quarantine=table("quarantine", contract.name),
            pii_key=None,
            run_id=run_id,
        )
        steps[f"bronze__{contract.name}"] = time.perf_counter() - t0
        rows[contract.name] = result.rows_read
    for contract in contracts:
        t0 = time.perf_counter()
        build_range(
            contract,
            start=first,
            end=last,
            bronze=table("bronze", contract.name),
            silver=table("silver", contract.entity_name),
            quarantine=table("quarantine", contract.name),
            run_id=run_id,
        )
        steps[f"silver__{contract.entity_name}"] = time.perf_counter() - t0
    return {
        "total_s": time.perf_counter() - began,
        "cpu_s": _cpu_seconds() - cpu,
        "steps_s": steps,
        "rows_read": rows,
    }


def rules_outside_dagster(contracts: list[Any], lake: Path, first: date, last: date) -> dict[str, float]:
    """The silver step's great-expectations rules, timed alone on the library pass's silver: one
    suite per day of the window (what ``evaluate_rules`` does inside the step)."""
    from lakehouse.assets.naming import silver_key
    from lakehouse.checks.quality import evaluate_rules
    from lakehouse.days import restated_days
    from lakehouse.tables.location import TableLocation

    seconds = {}
    for contract in contracts:
        window = restated_days(contract, first, last)
        assert window is not None
        silver = TableLocation(str(lake / "silver" / contract.entity_name))
        seconds[f"silver__{contract.entity_name}"] = _timed(
            lambda c=contract, s=silver, w=window: evaluate_rules(c, s, _days(*w), silver_key(c))
        )
    return seconds


def measure_backfill(args: argparse.Namespace, tables: Path, cache: Path, work: Path) -> dict[str, Any]:
    """Measure 2: a ``--days`` backfill in one Dagster run against the library functions alone."""
    import dagster as dg

    from lakehouse.platform import build_definitions
    from lakehouse.runs import materialize_range
    from lakehouse.settings import Settings

    first, last = args.backfill_start, args.backfill_start + timedelta(days=args.days - 1)
    first_file, last_file = first - timedelta(days=LOOKBACK + 1), last + timedelta(days=LOOKBACK)
    name = f"landing-range-sf{args.scale_factor:g}-{first_file}-{last_file}-late{args.late_pct:g}"
    cached, stats = cached_landing(cache, name, tables, first_file, last_file, args.late_pct, None)
    root = work / "backfill"
    landing_root = root / "landing"
    link_landing(cached, landing_root)
    contracts = _contracts()
    window_start = first - timedelta(days=LOOKBACK)
    # Imports are not what is measured: the first silver step of a process would pay for them.
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401

    platform_times, library_times, baseline_times = [], [], []
    platform_cpu, library_cpu, baseline_cpu = [], [], []
    steps: list[dict[str, float]] = []
    library_steps: list[dict[str, float]] = []
    library_rows: dict[str, int] = {}
    rules: dict[str, float] = {}
    events: dict[str, int] = {}
    for i in range(args.backfill_repeat):
        settings = Settings.from_env(data_dir=str(root / f"platform-{i}"), landing_root=str(landing_root))
        defs = build_definitions(settings)
        instance = dg.DagsterInstance.get()
        print(f"backfill {first}..{last} ({args.days} days), repeat {i + 1}: one Dagster run ...", flush=True)
        result: Any = None

        chosen = selection(defs, contracts)

        def run(
            defs: dg.Definitions = defs, instance: dg.DagsterInstance = instance, chosen: Any = chosen
        ) -> None:
            nonlocal result
            with _quiet(work):
                result = materialize_range(
                    defs, first, last, instance=instance, selection=chosen, console_log_level="ERROR"
                )

        wall, cpu = _timed_with_cpu(run)
        platform_times.append(wall)
        platform_cpu.append(cpu)
        steps.append(_step_seconds(result))
        events = _event_counts(result)
        print(f"  platform: {platform_times[-1]:.1f} s", flush=True)
        shutil.rmtree(root / f"platform-{i}" / "lake")

        lake = root / f"library-{i}"
        with _quiet(work):
            library = library_pass(contracts, lake, landing_root, first, last)
        library_times.append(library["total_s"])
        library_cpu.append(library["cpu_s"])
        library_rows = library["rows_read"]
        library_steps.append(library["steps_s"])
        print(f"  library (ingest_range, build_range): {library_times[-1]:.1f} s", flush=True)
        if i == args.backfill_repeat - 1:
            with _quiet(work):
                rules = rules_outside_dagster(contracts, lake, first, last)
            print(
                f"  great-expectations rules alone: {sum(rules.values()):.1f} s (not in either total)",
                flush=True,
            )
        shutil.rmtree(lake)

        baseline = Baseline(root / f"baseline-{i}", landing_root)
        wall, cpu = _timed_with_cpu(lambda b=baseline: b.run(window_start, last))
        baseline_times.append(wall)
        baseline_cpu.append(cpu)
        print(f"  baseline (hand-written DuckDB): {baseline_times[-1]:.1f} s", flush=True)
        shutil.rmtree(baseline.out)

    expected = {t: rows_in_window(stats[t], window_start, last) for t in stats}
    if expected != library_rows:
        print(f"  note: rows read {library_rows} differ from the layout's count {expected}", flush=True)
    platform, library_s, baseline_s = min(platform_times), min(library_times), min(baseline_times)
    steps_s = steps[platform_times.index(platform)]
    return {
        "start": str(first),
        "end": str(last),
        "days": args.days,
        "window": [str(window_start), str(last)],
        "rows_read": library_rows,
        "platform_s": platform,
        "platform_runs_s": platform_times,
        "library_s": library_s,
        "library_runs_s": library_times,
        "baseline_s": baseline_s,
        "baseline_runs_s": baseline_times,
        "ratio_platform_to_library": platform / library_s,
        "ratio_library_to_baseline": library_s / baseline_s,
        "ratio_platform_to_baseline": platform / baseline_s,
        "platform_cpu_s": min(platform_cpu),
        "library_cpu_s": min(library_cpu),
        "baseline_cpu_s": min(baseline_cpu),
        "ratio_cpu_platform_to_library": min(platform_cpu) / min(library_cpu),
        "ratio_cpu_library_to_baseline": min(library_cpu) / min(baseline_cpu),
        "steps_s": steps_s,
        "library_steps_s": library_steps[library_times.index(library_s)],
        "orchestration_s": platform - sum(steps_s.values()),
        "rules_outside_dagster_s": rules,
        "events": events,
    }


def required_scale(rows_per_day: int, orders_per_day: int, days: int) -> float:
    """The smallest scale factor (in tenths) whose tables hold ``days`` slices of each size."""
    need = max(rows_per_day * days / ROWS_AT_SF1["lineitem"], orders_per_day * days / ROWS_AT_SF1["orders"])
    return math.ceil(need * 1.02 * 10) / 10  # TPC-H's line count per order varies: 2 % spare


@contextlib.contextmanager
def _environment(work: Path) -> Iterator[dict[str, str]]:
    env = {
        "LAKEHOUSE_SOURCES_DIR": str(SOURCES),
        "LAKEHOUSE_DATA_DIR": str(work / "data"),
        "LAKEHOUSE_STRICT_CONTRACTS": "1",
        "LAKEHOUSE_PII_KEY": os.environ.get("LAKEHOUSE_PII_KEY", "bench-key"),
        "LAKEHOUSE_VAULT_KEY": os.environ.get("LAKEHOUSE_VAULT_KEY", "bench-vault-key"),
        "DAGSTER_HOME": str(work / "dagster_home"),
    }
    os.environ.update(env)
    (work / "dagster_home").mkdir(parents=True)
    (work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    yield env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale-factor", type=float, default=1.0, help="TPC-H scale factor (raised if the day needs it)"
    )
    parser.add_argument(
        "--rows-per-day", type=int, default=500_000, help="lineitems concentrated into each day"
    )
    parser.add_argument("--orders-per-day", type=int, help="orders per day (default: rows per day / 4)")
    parser.add_argument(
        "--late-pct", type=float, default=5.0, help="rows that arrive the day after their event day"
    )
    parser.add_argument(
        "--day", type=date.fromisoformat, default=date(1996, 6, 12), help="measure 1's partition"
    )
    parser.add_argument("--repeat", type=int, default=2, help="measure 1's timed runs of each side")
    parser.add_argument("--days", type=int, default=365, help="measure 2's backfill length")
    parser.add_argument("--backfill-start", type=date.fromisoformat, default=date(1995, 1, 1))
    parser.add_argument("--backfill-repeat", type=int, default=1, help="measure 2's runs of each side")
    parser.add_argument("--skip-day", action="store_true", help="measure 2 only")
    parser.add_argument("--skip-backfill", action="store_true", help="measure 1 only")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-tpch/run"))
    parser.add_argument(
        "--cache", type=Path, help="generated tables and landing files (default: <workdir>-cache)"
    )
    args = parser.parse_args()
    if args.orders_per_day is None:
        args.orders_per_day = max(1, args.rows_per_day // LINES_PER_ORDER)
    if not args.skip_day:
        needed = required_scale(args.rows_per_day, args.orders_per_day, 3 * LOOKBACK + 2)
        if needed > args.scale_factor:
            print(
                f"scale factor raised from {args.scale_factor:g} to {needed:g} to hold the day's slices",
                flush=True,
            )
            args.scale_factor = needed

    work: Path = args.workdir
    cache: Path = args.cache or work.parent / f"{work.name}-cache"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cache.mkdir(parents=True, exist_ok=True)
    with _environment(work):
        tables, generation_s, version = generate_tables(cache, args.scale_factor)
        results: dict[str, Any] = {
            "benchmark": "tpch",
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.uname().machine}, {os.cpu_count()} cores",
            "generator": version,
            "scale_factor": args.scale_factor,
            "late_pct": args.late_pct,
            "lookback_days": LOOKBACK,
        }
        if generation_s:
            results["generation_s"] = generation_s
        if not args.skip_day:
            results["day"] = measure_day(args, tables, cache, work)
        if not args.skip_backfill:
            results["backfill"] = measure_backfill(args, tables, cache, work)
        # The whole process's peak (layout and the untimed runs included): an upper bound.
        results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from sections.tpch import section  # bench/sections/tpch.py, beside this file

    print()
    print(section([results]))
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / f"tpch-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
