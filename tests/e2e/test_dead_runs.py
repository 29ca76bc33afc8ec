"""Runs that died: a real run's process SIGKILLed stays STARTED until `lakehouse runs heal` (no
daemon) marks it failed; the shipped launcher reports its worker FAILED (what the daemon's run
monitoring acts on); a run still going is left alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.launcher import WorkerStatus

from lakehouse.cli.environment import INSTANCE_CONFIG
from lakehouse.demo.generate import generate
from lakehouse.deploy.run_health import HOST_TAG
from tests.helpers import PII_KEY, REPO, make_settings

pytestmark = pytest.mark.slow

END = datetime.now(UTC).date() - timedelta(days=1)
START = END - timedelta(days=5)


def started_run(home: Path, process: subprocess.Popen, timeout: float = 120) -> str:
    """The id of the run the process started, once the run worker said which process it is."""
    from lakehouse.deploy.run_health import run_pid

    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        while time.monotonic() < deadline:
            assert process.poll() is None, "the run ended before it could be killed"
            for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                if run_pid(instance, record.dagster_run.run_id):
                    return record.dagster_run.run_id
            time.sleep(0.5)
    raise TimeoutError("no run started")


def heal(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lakehouse")), "runs", "heal", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_killed_run_is_marked_failed_by_runs_heal(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate(settings.landing_root, START, END, orders_per_day=4000)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG)  # what the platform ships for the default
    env = {**os.environ, **settings.as_environ(), "DAGSTER_HOME": str(home), "LAKEHOUSE_PII_KEY": PII_KEY}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster")),
            "asset",
            "materialize",
            "-m",
            "lakehouse.definitions",
            "--select",
            "bronze/orders,bronze/customers,silver/orders,silver/customers",
            "--partition-range",
            f"{START}...{END}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        run_id = started_run(home, process)
        assert f"{run_id}: left alone: process" in heal(env, "--dry-run"), "alive: not judged dead"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.STARTED, "nothing noticed on its own"
        launcher = instance.run_launcher  # the shipped config's LakehouseRunLauncher
        assert launcher.supports_check_run_worker_health
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING, "not launched: not its"
        instance.add_run_tags(run_id, {HOST_TAG: socket.gethostname()})  # as its launch_run tags it
        health = launcher.check_run_worker_health(instance.get_run_by_id(run_id))  # type: ignore[arg-type]
        assert health.status == WorkerStatus.FAILED, "what makes the daemon's run monitoring fail it"
    out = heal(env)
    assert f"{run_id}: marked failed: its process" in out
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.FAILURE
    assert "No run is in progress." in heal(env), "healing twice changes nothing"
