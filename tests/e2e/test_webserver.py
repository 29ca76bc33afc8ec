"""The UI's path: `dagster dev -w workspace.yaml`, and a partition backfill launched through the
webserver's GraphQL (what the UI's "Materialize" → range → "Launch backfill" sends)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from lakehouse.demo.generate import generate
from tests.helpers import REPO, make_settings

pytestmark = pytest.mark.slow

DAYS = ["2026-07-01", "2026-07-02", "2026-07-03"]
ASSETS = [
    ["bronze", "orders"],
    ["bronze", "customers"],
    ["silver", "orders"],
    ["silver", "customers"],
    ["gold", "fct_daily_sales"],
    ["gold", "customer_segment_daily_sales"],
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Webserver:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def graphql(self, query: str, **variables) -> dict:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_up(self, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                data = self.graphql(
                    "{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }"
                )
                if data["repositoriesOrError"].get("nodes"):
                    return
            except (requests.RequestException, AssertionError):
                pass
            time.sleep(1)
        raise TimeoutError(f"webserver did not come up:\n{log.read_text()[-3000:]}")


@pytest.fixture
def dagster_dev(tmp_path: Path):
    settings = make_settings(tmp_path)
    generate(settings.landing_root, date(2026, 7, 1), date(2026, 7, 3), orders_per_day=100)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    shutil.copy(REPO / "workspace.yaml", tmp_path / "workspace.yaml")  # the file users point at
    port = free_port()
    env = {**os.environ, **settings.as_environ(), "DAGSTER_HOME": str(home)}
    log = tmp_path / "dagster-dev.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml", "-p", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Webserver(port)
    try:
        server.wait_until_up(process, log)
        yield server, log
    finally:
        os.killpg(process.pid, signal.SIGINT)  # dagster dev shuts its services down on Ctrl-C
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


PARTITION_STATS = """
query ($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode { partitionStats { numMaterialized numPartitions } }
  }
}"""

LAUNCH = """
mutation ($partitions: [String!], $assets: [AssetKeyInput!]) {
  launchPartitionBackfill(backfillParams: {partitionNames: $partitions, assetSelection: $assets}) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""

CHECK_EXECUTIONS = """
query ($path: [String!]!, $check: String!) {
  assetCheckExecutions(assetKey: {path: $path}, checkName: $check, limit: 50) {
    partition status evaluation { success }
  }
}"""

BACKFILL = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status runs(limit: 10) { runId status tags { key value } } }
  }
}"""


def test_a_backfill_launched_through_the_ui_runs_the_range_as_one_run(dagster_dev) -> None:
    server, log = dagster_dev
    before = server.graphql(PARTITION_STATS, path=["gold", "fct_daily_sales"])["assetNodeOrError"]
    assert before["partitionStats"]["numMaterialized"] == 0

    launched = server.graphql(LAUNCH, partitions=DAYS, assets=[{"path": p} for p in ASSETS])
    result = launched["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result

    deadline = time.monotonic() + 400
    while True:
        backfill = server.graphql(BACKFILL, id=result["backfillId"])["partitionBackfillOrError"]
        if backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            break
        assert time.monotonic() < deadline, log.read_text()[-4000:]
        time.sleep(3)
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), (backfill, log.read_text()[-4000:])
    runs = backfill["runs"]
    assert len(runs) == 1 and runs[0]["status"] == "SUCCESS", runs
    tags = {t["key"]: t["value"] for t in runs[0]["tags"]}
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        DAYS[0],
        DAYS[-1],
    )

    # Each check result says which day it belongs to.
    executions = server.graphql(CHECK_EXECUTIONS, path=["bronze", "orders"], check="reconciliation")
    days = {e["partition"] for e in executions["assetCheckExecutions"] if e["evaluation"]}
    assert set(DAYS) <= days, executions

    for path in ASSETS:
        stats = server.graphql(PARTITION_STATS, path=path)["assetNodeOrError"]["partitionStats"]
        assert stats["numMaterialized"] == len(DAYS) + 2, (path, stats)  # and the two lookback days
