"""The warehouse's lock is held by the dbt process that holds the DuckDB file, not by Dagster.

A gold step runs in a process of its own here (as a run worker would), over a dbt project whose
one model takes a few seconds. The test kills that process while dbt runs: the orphaned dbt keeps
writing, so the lock must stay taken until dbt exits, and be free once it has.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from lakehouse.warehouse_lock import is_locked
from tests.helpers import REPO, make_settings

pytestmark = pytest.mark.slow

SLOW_MODEL = """
import time

def model(dbt, session):
    dbt.config(materialized="table")
    time.sleep(8)  # long enough for the test to kill the Dagster process meanwhile
    return session.sql("select 42 as answer")
"""

PARENT = """
import sys
from datetime import date
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings

defs = build_definitions(Settings.from_env())
print("running", flush=True)
materialize_range(defs, date(2026, 5, 1), date(2026, 5, 1), selection=["gold/slow"])
"""


def slow_project(root: Path) -> Path:
    project = root / "dbt_project"
    (project / "models").mkdir(parents=True)
    shutil.copy(REPO / "dbt_models" / "profiles.yml", project / "profiles.yml")
    (project / "dbt_project.yml").write_text(
        textwrap.dedent(
            """
            name: slow_project
            version: "1.0.0"
            config-version: 2
            profile: lakehouse
            flags: {send_anonymous_usage_stats: false}
            """
        )
    )
    (project / "models" / "slow.py").write_text(SLOW_MODEL)
    return project


def dbt_children(pid: int) -> list[int]:
    """The ``dbt build`` processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(fields[1]) == pid and any(a.endswith(b"/dbt") for a in argv) and b"build" in argv:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_the_lock_outlives_a_killed_dagster_process_until_dbt_exits(tmp_path: Path) -> None:
    project = slow_project(tmp_path)
    (tmp_path / "sources").mkdir()
    settings = make_settings(tmp_path, tmp_path / "sources")
    env = {**os.environ, **settings.as_environ(), "LAKEHOUSE_DBT_PROJECT_DIR": str(project)}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    (tmp_path / "home").mkdir()
    parse = subprocess.run(
        [str(Path(sys.executable).with_name("lakehouse")), "dbt", "parse"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert parse.returncode == 0, parse.stdout + parse.stderr

    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "running"
        warehouse = settings.warehouse_path
        wait_until(
            lambda: dbt_children(parent.pid) and is_locked(warehouse), 120, "dbt to take the warehouse's lock"
        )
        (dbt,) = dbt_children(parent.pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)

        assert alive(dbt), "dbt ended with its parent: the test needs it orphaned"
        while alive(dbt):  # the orphan still writes: nobody else may open the file
            if not is_locked(warehouse):
                time.sleep(0.5)  # unless dbt was in the middle of exiting
                assert not alive(dbt), "the lock was released while dbt still runs"
            time.sleep(0.2)
    finally:
        if parent.poll() is None:
            parent.kill()
    wait_until(lambda: not is_locked(warehouse), 10, "the lock to be released after dbt exited")
    with duckdb.connect(warehouse, read_only=True) as con:  # dbt finished its work, then let go
        assert con.execute("SELECT answer FROM slow").fetchall() == [(42,)]
