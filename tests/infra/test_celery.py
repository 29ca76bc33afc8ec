"""Celery for real: two workers on the machine's RabbitMQ (broker, a vhost of the test's own) and
Redis (results), the instance on PostgreSQL with deploy/dagster.yaml's pools. Independent
sources' steps run in parallel on the two workers, the tables end as an in-process run leaves
them, and the per-source pools keep a backfill from starving a daily run."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from lakehouse.tables.location import TableLocation
from tests.helpers import PII_KEY, REPO, VAULT_KEY, rows
from tests.infra.deployment import instance_environ
from tests.infra.services import PostgresDatabase, stop

pytestmark = pytest.mark.slow

START, END = date(2026, 3, 8), date(2026, 3, 10)
ASSETS = ["bronze/orders", "bronze/customers", "silver/orders", "silver/customers"]
BIN = Path(sys.executable).parent


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


class CeleryCluster:
    def __init__(self, root: Path):
        self.root = root
        self.database = PostgresDatabase(prefix="dagster_celery")
        self.vhost = f"lakehouse-test-{uuid.uuid4().hex[:8]}"
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.env = {
            **os.environ,
            **instance_environ(self.database, root / "dagster_home"),
            "LAKEHOUSE_PII_KEY": PII_KEY,
            "LAKEHOUSE_VAULT_KEY": VAULT_KEY,
            "LAKEHOUSE_DATA_DIR": str(root / "data"),
            "LAKEHOUSE_EXECUTOR": "celery",
            "LAKEHOUSE_CELERY_BROKER_URL": f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            "LAKEHOUSE_CELERY_BACKEND_URL": "redis://127.0.0.1:6379/0",
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # dagster-celery runs `celery` from PATH
            "PYTHONPATH": str(REPO),  # workers import the job's pointer (tests.infra.celery_run)
        }
        self.workers: list[subprocess.Popen] = []
        self.names = [f"w{i}-{uuid.uuid4().hex[:6]}" for i in (1, 2)]
        for name in self.names:
            log = open(root / f"{name}.log", "w")  # noqa: SIM115 - the worker holds it
            self.workers.append(
                subprocess.Popen(
                    [
                        str(BIN / "dagster-celery"),
                        "worker",
                        "start",
                        "-n",
                        name,
                        "-y",
                        str(REPO / "deploy/celery/worker.yaml"),
                        "-A",
                        "dagster_celery.app",
                        "-l",
                        "INFO",
                        "--",
                        "--concurrency=1",
                    ],
                    cwd=REPO,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 120
        while not all(f"{n}@" in self.log(n) and "ready." in self.log(n) for n in self.names):
            assert time.monotonic() < deadline, [self.log(n)[-2000:] for n in self.names]
            assert all(w.poll() is None for w in self.workers), [self.log(n)[-2000:] for n in self.names]
            time.sleep(0.5)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text()

    def launch(self, start: date, end: date, tags: dict[str, str]) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.infra.celery_run", str(start), str(end), json.dumps(tags), *ASSETS],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def close(self) -> None:
        for worker in self.workers:
            stop(worker)  # the process group: `dagster-celery worker start` leaves `celery` behind otherwise
        self.database.drop()
        rabbitmqctl("delete_vhost", self.vhost)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CeleryCluster]:
    root = tmp_path_factory.mktemp("celery")
    generate(root / "data" / "landing", START, END, orders_per_day=60, seed=5)
    cluster = CeleryCluster(root)
    yield cluster
    cluster.close()


def steps(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """Per step: its worker, start and end (from the run's events)."""
    found: dict[str, dict] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or not event.step_key:
            continue
        step = found.setdefault(event.step_key, {})
        if event.event_type == dg.DagsterEventType.STEP_START:
            step["start"] = record.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            step["end"] = record.timestamp
        elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and event.engine_event_data:
            worker = event.engine_event_data.metadata.get("Celery worker")
            if worker is not None:
                step["worker"] = worker.value
    return found


def table_rows(lake: str) -> dict[str, list]:
    """What bronze and silver hold, without what differs by run (run ids in quarantine)."""
    return {
        f"{layer}/{name}": rows(
            TableLocation(f"{lake}/{layer}/{name}"), f"SELECT * {exclude} FROM t ORDER BY ALL"
        )
        for layer, exclude in (("bronze", ""), ("silver", ""), ("quarantine", "EXCLUDE (_run_id)"))
        for name in ("orders", "customers")
    }


def test_two_workers_run_a_backfill_and_a_daily_run_like_in_process(
    cluster: CeleryCluster, tmp_path: Path
) -> None:
    backfill = cluster.launch(START, END, {"dagster/backfill": "celery-test", "kind": "backfill"})
    time.sleep(3)  # the daily run arrives while the backfill is running
    daily = cluster.launch(END, END, {"kind": "daily"})
    outputs = {name: p.communicate(timeout=600) for name, p in (("backfill", backfill), ("daily", daily))}
    assert backfill.returncode == 0 and daily.returncode == 0, outputs
    run_ids = {name: out.strip().splitlines()[-1] for name, (out, _) in outputs.items()}

    home = cluster.env["DAGSTER_HOME"]
    instance_env = {k: v for k, v in cluster.env.items() if k.startswith("DAGSTER_")}
    previous = {k: os.environ.get(k) for k in instance_env}
    os.environ.update(instance_env)
    try:
        with dg.DagsterInstance.get() as instance:
            assert instance.root_directory == home
            timeline = {name: steps(instance, run_id) for name, run_id in run_ids.items()}
    finally:
        for k, v in previous.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)

    # Every step ran on a Celery worker, and both workers took steps.
    workers = {s["worker"] for run in timeline.values() for s in run.values()}
    assert workers <= {f"{n}@{os.uname().nodename}" for n in cluster.names} and len(workers) == 2, timeline
    # Independent sources ran in parallel: the backfill's two bronze steps overlapped.
    orders, customers = timeline["backfill"]["bronze__orders"], timeline["backfill"]["bronze__customers"]
    assert orders["start"] < customers["end"] and customers["start"] < orders["end"], timeline
    # The per-source pools: no two steps of one source at once, across both runs...
    for source in ("orders", "customers"):
        spans = sorted(
            (s["start"], s["end"])
            for run in timeline.values()
            for k, s in run.items()
            if k.endswith(f"__{source}")
        )
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans)), spans
    # ...and the daily run did not wait for the backfill to finish: its bronze step went before
    # the backfill's silver step of the same source (a waiting step gets the pool first).
    assert timeline["daily"]["bronze__orders"]["end"] <= timeline["backfill"]["silver__orders"]["start"], (
        timeline
    )

    # The same tables as in process: the same two runs, one after the other, in one process.
    reference = Settings.from_env(
        {"LAKEHOUSE_DATA_DIR": str(tmp_path / "data"), "LAKEHOUSE_PROJECT_DIR": str(REPO)}
    )
    generate(reference.landing_root, START, END, orders_per_day=60, seed=5)
    defs = build_definitions(reference)
    for start in (START, END):
        assert materialize_range(
            defs, start, END, selection=ASSETS, instance=dg.DagsterInstance.ephemeral()
        ).success
    assert table_rows(reference.lake_root) == table_rows(str(cluster.root / "data" / "lake"))
