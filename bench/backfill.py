"""Benchmark: a year's backfill as one Dagster run, against one pass of the same code outside
Dagster and against one Dagster run per day.

    .venv/bin/python bench/backfill.py [--days 365] [--orders-per-day 3000] [--per-partition-days 20]

A backfill is where the platform's per-day bookkeeping adds up: a run over a year records a
materialisation and a check evaluation per day, per asset and check, and the gold step re-runs
every dbt test on each day. This measures what that costs against the same work done without it.

The demo's two sources (``sources/orders.yaml``, ``sources/customers.yaml``, copied with their
``partitions.start`` moved to the first day of the range, so that a year fits in the calendar)
are generated once for ``--days`` arrival days ending yesterday (the calendar's last complete
day), and kept between runs of the same size. Each way below starts from a fresh lake and a
fresh Dagster instance over the same landing files:

1. single run: ``materialize_range(defs, start, end)``, every asset of the year in one run, in
   process (the platform's single-run backfill);
2. one pass: the platform's own library functions called once for the whole range, outside
   Dagster: ``bronze.ingest.ingest_range`` (with the token vault) and ``silver.build.build_range``
   for each source, then one ``dbt build`` of the project over the range's event times, as the
   gold step invokes it (same profile, variables and window flags);
3. per partition: ``materialize_range(defs, d, d)`` for each of the first ``--per-partition-days``
   days, each run restating its lookback as the daily run does. A run costs seconds, so only
   those are measured; the cost of ``--days`` of them is *extrapolated* from the measured runs
   (which see smaller tables than the year's later days, so the extrapolation leans low).

Reported as ratios measured in the same run: single run / one pass, and per partition
(extrapolated) / single run. For the single run also: its events by type, the time spent
writing them to the event log, the orchestration share (run time minus the sum of its steps)
and each step's duration beside its one-pass counterpart; the event writes are set against one
SQLite commit timed on the same disk (the default event log is SQLite). The silver and gold
tables of the single run and the one pass are counted, to show that both did the same work.
The machine is noisy: each way is measured once and only the ratios mean anything; dbt's own
build time, the same work in the single run and the one pass, shows how noisy it was. At the
defaults this takes about 11 minutes on 2 quiet cores (9.5 with 10 one-day runs, each ~9 s;
generating the landing files, once per size and day, ~40 s more), two to three times that on
cores other work shares. Results go to ``bench/results/backfill-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

    from lakehouse.settings import Settings

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCES = ("orders", "customers")  # the demo's contracts, in sources/
CONTRACT_START = "start: 2026-01-01"  # the line of each contract the copy moves


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of the backfill")
    parser.add_argument("--orders-per-day", type=int, default=3000)
    parser.add_argument(
        "--customers-per-order",
        type=float,
        default=0.05,
        help="the demo's customer base as a share of a day's orders (every snapshot holds them all)",
    )
    parser.add_argument(
        "--per-partition-days",
        type=int,
        default=20,
        help="one-day runs measured (the range's first days); the cost of --days of them is extrapolated",
    )
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        help="the backfill's last day (default: yesterday, UTC: the calendar's last complete day)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-backfill"))
    args = parser.parse_args()
    if args.days < 1 or not 1 <= args.per_partition_days <= args.days:
        parser.error("expected --days >= 1 and 1 <= --per-partition-days <= --days")
    return args


# -- the environment: contracts, landing files, the dbt project, fresh lakes and instances --------


def _write_contracts(sources_dir: Path, start: date) -> None:
    """The demo's contracts, starting on ``start`` instead of their own first day."""
    sources_dir.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        text = (REPO / "sources" / f"{name}.yaml").read_text()
        if text.count(CONTRACT_START) != 1:
            raise SystemExit(f"sources/{name}.yaml: expected one {CONTRACT_START!r} line to move")
        (sources_dir / f"{name}.yaml").write_text(text.replace(CONTRACT_START, f"start: {start}"))


def _landing(cache: Path, start: date, end: date, orders_per_day: int, customers_per_order: float) -> float:
    """Generate the landing files once per size and range; the seconds it took (0 when cached)."""
    if (cache / ".complete").exists():
        return 0.0
    from lakehouse.demo.generate import generate

    print(f"generating {orders_per_day:,} orders/day for arrival days {start}..{end} ...", flush=True)
    shutil.rmtree(cache, ignore_errors=True)
    seconds, _ = _timed(
        lambda: generate(
            str(cache), start, end, orders_per_day=orders_per_day, customers_per_order=customers_per_order
        )
    )
    (cache / ".complete").touch()
    print(f"  {seconds:.0f} s", flush=True)
    return seconds


def _copy_dbt_project(target: Path) -> None:
    """The dbt project, copied, so that every dbt run here (and its partial parse) stays out of
    the checkout's ``dbt_models/target``, which other benchmarks use at the same time."""
    shutil.copytree(
        REPO / "dbt_models",
        target,
        symlinks=True,
        ignore=shutil.ignore_patterns("target", "logs"),
    )


def _dbt_parse(settings: Settings, log: Path) -> None:
    """Parse the copied project with this run's settings (untimed): the manifest the gold assets
    are defined from, and a partial parse every later dbt run starts from."""
    from lakehouse.resources.dbt import dbt_environment, dbt_executable

    project = settings.dbt_project_dir
    with open(log, "a") as out:
        subprocess.run(
            [dbt_executable(), "parse", "--project-dir", project, "--profiles-dir", project],
            env={**os.environ, **dbt_environment(settings)},
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


def _fresh_lake(settings: Settings, landing_cache: Path) -> None:
    """An empty data folder (lake, vault, warehouse) over the cached landing files."""
    data = Path(settings.data_dir)
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    shutil.copytree(  # hard links: the runs only read landing
        landing_cache,
        settings.landing_root,
        ignore=shutil.ignore_patterns(".complete"),
        copy_function=os.link,
    )


def _fresh_instance(home: Path) -> dg.DagsterInstance:
    import dagster as dg

    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.from_config(str(home))


@contextlib.contextmanager
def _quiet(log: Path) -> Iterator[None]:
    """dbt's progress lines (dagster-dbt prints them) go to a log file."""
    with open(log, "a") as out, contextlib.redirect_stdout(out):
        yield


# -- measuring a Dagster run ------------------------------------------------------------------------


class EventWrites:
    """Seconds spent in the instance's event-log storage (``store_event``/``store_event_batch``)
    while active, in all, by event type, and by the step running when the write happened (from
    its ``STEP_START`` to its ``STEP_SUCCESS``; ``run`` outside every step: the in-process
    executor runs one step at a time). By time, not by the event's ``step_key``: a run's
    ``ASSET_MATERIALIZATION_PLANNED`` events name their step but are written before any starts.
    The write side of a run's events only: building them, and the steps' work around them, are
    not in it."""

    def __init__(self, instance: dg.DagsterInstance):
        self.storage = instance.event_log_storage
        self.seconds = 0.0
        self.calls = 0
        self.by_type: Counter[str] = Counter()
        self.by_step: Counter[str] = Counter()
        self._depth = 0
        self._step: str | None = None

    def _wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth += 1
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:  # a batch that falls back to single writes counts once
                    seconds = time.perf_counter() - began
                    kind, step = _describe(args[0] if args else None)
                    if kind == "STEP_START":
                        self._step = step
                    self.seconds += seconds
                    self.calls += 1
                    self.by_type[kind] += seconds
                    self.by_step[self._step or "run"] += seconds
                    if kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                        self._step = None

        return timed

    @contextlib.contextmanager
    def active(self) -> Iterator[EventWrites]:
        names = [n for n in ("store_event", "store_event_batch") if hasattr(self.storage, n)]
        originals = {n: getattr(self.storage, n) for n in names}
        for name, method in originals.items():
            setattr(self.storage, name, self._wrap(method))
        try:
            yield self
        finally:
            for name in names:
                delattr(self.storage, name)  # back to the class's method

    def summary(self) -> dict[str, Any]:
        return {
            "event_write_s": self.seconds,
            "event_writes": self.calls,
            "event_write_s_by_type": dict(self.by_type.most_common()),
            "event_write_s_by_step": dict(self.by_step.most_common()),
        }


def _describe(entry: Any) -> tuple[str, str | None]:
    """An event-log entry's type (``LOG`` for a plain log line) and the step it names."""
    if isinstance(entry, list):  # a batch (DAGSTER_EVENT_BATCH_SIZE)
        return "batch", None
    event = getattr(entry, "dagster_event", None)
    kind = event.event_type_value if event is not None else "LOG"
    return kind, getattr(entry, "step_key", None)


def _step_seconds(result: dg.ExecuteInProcessResult) -> dict[str, float]:
    return {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS" and event.step_key
    }


def _event_log(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    """The run's event log: entries and their serialised bytes by Dagster event type (``LOG``
    for plain log lines: ``context.log``, dbt's), and the metadata entries that weigh most,
    summed over every event that carries them (``<event type> <step>: <key>``)."""
    import dagster as dg

    counts: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    metadata_sizes: Counter[str] = Counter()
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        kind = event.event_type_value if event is not None else "LOG"
        counts[kind] += 1
        sizes[kind] += len(dg.serialize_value(entry))
        data = getattr(event, "event_specific_data", None)
        carrier = getattr(data, "materialization", data)  # a materialisation, or a check evaluation
        for key, value in (getattr(carrier, "metadata", None) or {}).items():
            metadata_sizes[f"{kind} {event.step_key}: {key}"] += len(dg.serialize_value(value))
    return {
        "events": dict(counts.most_common()),
        "events_total": sum(counts.values()),
        "event_bytes_by_type": dict(sizes.most_common()),
        "event_bytes_total": sum(sizes.values()),
        "heaviest_metadata_bytes": dict(metadata_sizes.most_common(10)),
    }


def _dbt_seconds(log: Path, since: int) -> float:
    """dbt's own account of its build time (``Finished running ... (N s)``) in what ``log`` got
    after byte ``since``: the same work in two ways, so a gap between them is the machine's noise."""
    with open(log, "rb") as handle:
        handle.seek(since)
        text = handle.read().decode(errors="replace")
    return sum(float(s) for s in re.findall(r"Finished running .*\(([0-9.]+)s\)", text))


def _log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def commit_seconds(directory: Path, commits: int = 30) -> float:
    """The median time of one SQLite commit (a 2 KB row) in ``directory``: the floor under every
    event a run writes to the default (SQLite) event log, measured on the same disk in the same run."""
    import sqlite3

    path = directory / f".commit-probe-{uuid.uuid4().hex}.db"
    con = sqlite3.connect(path)
    try:
        con.execute("CREATE TABLE probe (value TEXT)")
        con.commit()
        times = []
        for _ in range(commits):
            began = time.perf_counter()
            con.execute("INSERT INTO probe VALUES (?)", ("x" * 2048,))
            con.commit()
            times.append(time.perf_counter() - began)
    finally:
        con.close()
        path.unlink(missing_ok=True)
    return statistics.median(times)


def _materialize(
    defs: dg.Definitions, start: date, end: date, instance: dg.DagsterInstance, log: Path
) -> tuple[float, dg.ExecuteInProcessResult, EventWrites, float]:
    """The run's seconds, result, event writes, and dbt's own build time within it."""
    from lakehouse.runs import materialize_range

    writes = EventWrites(instance)
    since = _log_size(log)
    with _quiet(log), writes.active():
        seconds, result = _timed(
            lambda: materialize_range(defs, start, end, instance=instance, console_log_level="ERROR")
        )
    return seconds, result, writes, _dbt_seconds(log, since)


def single_run(
    defs: dg.Definitions, start: date, end: date, instance: dg.DagsterInstance, log: Path
) -> dict[str, Any]:
    seconds, result, writes, dbt_s = _materialize(defs, start, end, instance, log)
    steps = _step_seconds(result)
    return {
        "seconds": seconds,
        "steps_s": steps,
        "dbt_s": dbt_s,
        # What the run costs beyond its steps: run start, planning a year of partitions, step launches.
        "orchestration_s": seconds - sum(steps.values()),
        **writes.summary(),
        **_event_log(instance, result.run_id),
    }


def per_partition(
    defs: dg.Definitions, start: date, days: int, instance: dg.DagsterInstance, log: Path
) -> dict[str, Any]:
    runs = []
    for i in range(days):
        day = start + timedelta(days=i)
        seconds, result, writes, dbt_s = _materialize(defs, day, day, instance, log)
        steps = _step_seconds(result)
        events = _event_log(instance, result.run_id)
        runs.append(
            {
                "day": str(day),
                "seconds": seconds,
                "steps_s": steps,
                "dbt_s": dbt_s,
                "orchestration_s": seconds - sum(steps.values()),
                "event_write_s": writes.seconds,
                "events_total": events["events_total"],
                "event_bytes_total": events["event_bytes_total"],
            }
        )
        print(f"  per-partition run {i + 1}/{days} ({day}): {seconds:.1f} s", flush=True)
    step_keys = sorted({k for r in runs for k in r["steps_s"]})
    return {
        "measured_runs": days,
        "runs": runs,
        "mean_run_s": statistics.fmean(r["seconds"] for r in runs),
        "median_run_s": statistics.median(r["seconds"] for r in runs),
        "mean_steps_s": {k: statistics.fmean(r["steps_s"].get(k, 0.0) for r in runs) for k in step_keys},
        "mean_orchestration_s": statistics.fmean(r["orchestration_s"] for r in runs),
        "mean_dbt_s": statistics.fmean(r["dbt_s"] for r in runs),
        "mean_event_write_s": statistics.fmean(r["event_write_s"] for r in runs),
        "mean_events": statistics.fmean(r["events_total"] for r in runs),
        "mean_event_bytes": statistics.fmean(r["event_bytes_total"] for r in runs),
        # Whether a run costs more as the tables grow: the last third's mean over the first third's.
        "growth_last_third_to_first": _growth([r["seconds"] for r in runs]),
    }


def _growth(seconds: list[float]) -> float | None:
    third = len(seconds) // 3
    if third == 0:
        return None
    return statistics.fmean(seconds[-third:]) / statistics.fmean(seconds[:third])


# -- one pass outside Dagster -----------------------------------------------------------------------


def one_pass(settings: Settings, start: date, end: date, log: Path) -> dict[str, Any]:
    """Bronze and silver of each source through the library functions, then one ``dbt build``;
    the parts are named like the Dagster run's steps."""
    from lakehouse.bronze.ingest import ingest_range
    from lakehouse.contracts.accepted import accepted_dir
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.landing.zone import landing_zone
    from lakehouse.privacy.vault import TokenVault, vault_location
    from lakehouse.silver.build import build_range
    from lakehouse.tables.location import TableLocation

    contracts = list(load_contracts(settings.sources_dir, accepted_dir(settings.lake_root)))
    vault = TokenVault(vault_location(settings.vault_root), os.environ["LAKEHOUSE_VAULT_KEY"])
    pii_key = os.environ["LAKEHOUSE_PII_KEY"]
    run_id = f"one-pass-{uuid.uuid4().hex[:12]}"

    def table(layer: str, name: str) -> TableLocation:
        return TableLocation(f"{settings.lake_root.rstrip('/')}/{layer}/{name}")

    parts: dict[str, float] = {}
    rows_read: dict[str, int] = {}
    began = time.perf_counter()
    for loaded in contracts:
        contract = loaded.contract
        seconds, result = _timed(
            lambda contract=contract, loaded=loaded: ingest_range(
                contract,
                start=start,
                end=end,
                landing_root=landing_zone(settings.landing_root),
                bronze=table("bronze", contract.name),
                quarantine=table("quarantine", contract.name),
                pii_key=pii_key if contract.pii_columns else None,
                run_id=run_id,
                commit_metadata={"contract_version": loaded.version},
                vault=vault if contract.tokenized_columns else None,
            )
        )
        parts[f"bronze__{contract.name}"] = seconds
        rows_read[contract.name] = result.rows_read
    for loaded in contracts:
        contract = loaded.contract
        seconds, _ = _timed(
            lambda contract=contract, loaded=loaded: build_range(
                contract,
                start=start,
                end=end,
                bronze=table("bronze", contract.name),
                silver=table("silver", contract.entity_name),
                quarantine=table("quarantine", contract.name),
                run_id=run_id,
                commit_metadata={"contract_version": loaded.version},
            )
        )
        parts[f"silver__{contract.entity_name}"] = seconds
    since = _log_size(log)
    parts["gold_dbt_models"], _ = _timed(lambda: _dbt_build(settings, start, end, log))
    return {
        "seconds": time.perf_counter() - began,
        "parts_s": parts,
        "dbt_s": _dbt_seconds(log, since),
        "rows_read": rows_read,
    }


def _dbt_build(settings: Settings, start: date, end: date, log: Path) -> None:
    """``dbt build`` of the whole project over ``start..end``, with the window flags, profile and
    variables the gold step gives dbt (``gold/build.py``, ``resources/dbt.py``), in a target
    folder of its own seeded with the project's partial parse, as dagster-dbt seeds its own."""
    from lakehouse.gold.build import window_args
    from lakehouse.resources.dbt import dbt_environment, dbt_executable

    project = Path(settings.dbt_project_dir)
    target = Path(settings.data_dir) / "dbt-one-pass-target"
    target.mkdir(parents=True, exist_ok=True)
    partial = project / "target" / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy2(partial, target / partial.name)
    command = [
        dbt_executable(),
        "build",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        *window_args((start, end)),
    ]
    with open(log, "a") as out:
        subprocess.run(
            command,
            env={**os.environ, **dbt_environment(settings)},
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


# -- what each way built ----------------------------------------------------------------------------


def table_rows(settings: Settings) -> dict[str, int]:
    """Rows of every silver table and gold model: the single run and the one pass must agree."""
    import duckdb

    from lakehouse.tables.delta import partition_dataset
    from lakehouse.tables.location import TableLocation

    counts = {}
    silver = Path(settings.lake_root) / "silver"
    for path in sorted(p for p in silver.iterdir() if p.is_dir()) if silver.exists() else []:
        dataset = partition_dataset(TableLocation(str(path)))
        counts[f"silver/{path.name}"] = dataset.count_rows() if dataset is not None else 0
    if Path(settings.warehouse_path).exists():
        with duckdb.connect(settings.warehouse_path, read_only=True) as con:
            relations = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
            ).fetchall()
            for schema, name in relations:
                counts[f"gold/{schema}.{name}"] = int(
                    con.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchall()[0][0]
                )
    return counts


# -- the report ----------------------------------------------------------------------------------


def _print_summary(results: dict[str, Any]) -> None:
    single, passed, daily = results["single_run"], results["one_pass"], results["per_partition"]
    days, measured = results["days"], daily["measured_runs"]
    print()
    print(
        f"backfill of {days} days ({results['start']}..{results['end']}), {results['orders_per_day']:,} orders/day, "
        f"{sum(passed['rows_read'].values()):,} landing rows read"
    )
    print(f"  single run (one Dagster run)                      {single['seconds']:8.1f} s")
    writes = single["event_write_s_by_step"]
    print(f"    {'step':<46}{'run':>10}{'one pass':>10}{'of it, event writes':>22}")
    for step, seconds in sorted(single["steps_s"].items()):
        counterpart = passed["parts_s"].get(step)
        beside = f"{counterpart:8.1f} s" if counterpart is not None else f"{'-':>10}"
        print(f"    {step:<46}{seconds:8.1f} s{beside}{writes.get(step, 0.0):20.1f} s")
    print(
        f"    {'orchestration (run minus its steps)':<46}{single['orchestration_s']:8.1f} s{'-':>10}"
        f"{writes.get('run', 0.0):20.1f} s"
    )
    print(
        f"    {'event-log writes, all':<46}{single['event_write_s']:8.1f} s"
        f"  ({single['event_writes']:,} writes)"
    )
    print(
        f"    {'event-log write, per entry':<46}{single['event_write_s'] / max(single['event_writes'], 1) * 1000:8.1f} ms"
        f"  ({results['event_write_in_commits']:.1f}x one SQLite commit on that disk, "
        f"{results['sqlite_commit_s'] * 1000:.1f} ms)"
    )
    print(f"  one pass (library functions + dbt build)          {passed['seconds']:8.1f} s")
    print(
        f"  dbt's own build time: single run {single['dbt_s']:.1f} s, one pass {passed['dbt_s']:.1f} s, "
        f"a one-day run {daily['mean_dbt_s']:.1f} s (the same work: a gap is the machine's noise)"
    )
    print(
        f"  per partition: {measured} runs measured, mean      {daily['mean_run_s']:8.1f} s a run "
        f"(median {daily['median_run_s']:.1f} s)"
    )
    print(
        f"    extrapolated to {days} runs (from {measured} measured) {results['per_partition_extrapolated_s']:8.1f} s"
    )
    print(f"  ratio single run / one pass                       {results['ratio_single_to_one_pass']:8.2f}")
    print(
        f"  ratio per partition (extrapolated) / single run   {results['ratio_per_partition_to_single']:8.2f}"
    )
    print(f"  single run's events ({single['events_total']:,}):")
    by_type, sizes = single["event_write_s_by_type"], single["event_bytes_by_type"]
    for kind, count in single["events"].items():
        print(
            f"    {kind:<46}{count:8,}   {sizes.get(kind, 0) / 2**20:7.1f} MiB, written in "
            f"{by_type.get(kind, 0.0):6.1f} s"
        )
    print("  heaviest metadata, summed over the run's events:")
    for key, size in single["heaviest_metadata_bytes"].items():
        print(f"    {key:<60}{size / 2**20:7.1f} MiB")
    if results["tables_agree"] is False:
        print("  WARNING: the single run and the one pass built tables of different sizes:")
        print(f"    single run {results['tables']['single_run']}")
        print(f"    one pass   {results['tables']['one_pass']}")


def main() -> None:
    args = _parse_args()
    end = args.end or datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)
    root: Path = args.workdir
    work = root / "work"
    landing_cache = root / f"landing-{args.orders_per_day}-{args.customers_per_order}-{start}-{end}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    os.environ.update(
        {
            "LAKEHOUSE_DATA_DIR": str(work / "data"),
            "LAKEHOUSE_SOURCES_DIR": str(work / "sources"),
            "LAKEHOUSE_DBT_PROJECT_DIR": str(work / "dbt_models"),
            "LAKEHOUSE_PII_KEY": os.environ.get("LAKEHOUSE_PII_KEY", "bench-key"),
            "LAKEHOUSE_VAULT_KEY": os.environ.get("LAKEHOUSE_VAULT_KEY", "bench-vault-key"),
            "DAGSTER_HOME": str(work / "dagster_home"),
        }
    )
    log = work / "dbt.log"
    _write_contracts(work / "sources", start)
    generated_s = _landing(landing_cache, start, end, args.orders_per_day, args.customers_per_order)

    from lakehouse.platform import build_definitions
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    _copy_dbt_project(Path(settings.dbt_project_dir))
    print("parsing the dbt project (untimed) ...", flush=True)
    _fresh_lake(settings, landing_cache)
    _dbt_parse(settings, log)
    defs = build_definitions(settings, strict=True)

    print(f"single run over {start}..{end} ...", flush=True)
    _fresh_lake(settings, landing_cache)
    instance = _fresh_instance(work / "dagster_home" / "single")
    commits = [commit_seconds(work / "dagster_home" / "single")]
    single = single_run(defs, start, end, instance, log)
    single_tables = table_rows(settings)
    print(f"  {single['seconds']:.1f} s", flush=True)

    print("one pass outside Dagster ...", flush=True)
    _fresh_lake(settings, landing_cache)
    passed = one_pass(settings, start, end, log)
    pass_tables = table_rows(settings)
    print(f"  {passed['seconds']:.1f} s", flush=True)

    print(f"one run per partition, the first {args.per_partition_days} days ...", flush=True)
    _fresh_lake(settings, landing_cache)
    instance = _fresh_instance(work / "dagster_home" / "daily")
    commits.append(commit_seconds(work / "dagster_home" / "daily"))
    daily = per_partition(defs, start, args.per_partition_days, instance, log)

    extrapolated = daily["mean_run_s"] * args.days
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{os.uname().machine}, {os.cpu_count()} cores",
        "days": args.days,
        "start": str(start),
        "end": str(end),
        "orders_per_day": args.orders_per_day,
        "customers_per_order": args.customers_per_order,
        "generated_s": generated_s,
        "single_run": single,
        "one_pass": passed,
        "per_partition": daily,
        # mean measured run x days: extrapolated from daily["measured_runs"] runs, not measured
        "per_partition_extrapolated_s": extrapolated,
        "ratio_single_to_one_pass": single["seconds"] / passed["seconds"],
        "ratio_per_partition_to_single": extrapolated / single["seconds"],
        # One SQLite commit on the event log's disk (the mean of two probes' medians, before the
        # single run and before the per-partition runs), and a single-run event write in commits.
        "sqlite_commit_s": statistics.fmean(commits),
        "event_write_in_commits": single["event_write_s"]
        / max(single["event_writes"], 1)
        / statistics.fmean(commits),
        "tables": {"single_run": single_tables, "one_pass": pass_tables},
        "tables_agree": single_tables == pass_tables,
        # The whole process's peak (generation included when it ran): an upper bound.
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    _print_summary(results)
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / f"backfill-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    sys.exit(main())
