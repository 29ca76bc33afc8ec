"""The UI's path: `dagster dev -w workspace.yaml`, and a partition backfill launched through the
webserver's GraphQL (what the UI's "Materialize" → range → "Launch backfill" sends)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from lakehouse.demo.generate import generate
from tests.e2e import live
from tests.helpers import make_settings

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


@pytest.fixture
def dagster_dev(tmp_path: Path):
    settings = make_settings(tmp_path)
    generate(settings.landing_root, date(2026, 7, 1), date(2026, 7, 3), orders_per_day=100)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with live.dagster_dev(tmp_path, home, settings.as_environ()) as running:
        yield running


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
