"""The Dagster instance on the real PostgreSQL (deploy/dagster.yaml as shipped): a code server,
the webserver and the daemon; a partitioned materialisation and a single-run backfill launched
through the GraphQL API; materialisations and per-day check results read back from PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import dagster as dg
import pytest
from dagster_graphql import DagsterGraphQLClient

from lakehouse.demo.generate import generate
from tests.infra.deployment import Deployment, instance_environ
from tests.infra.services import PostgresDatabase

pytestmark = pytest.mark.slow

START, END = date(2026, 3, 8), date(2026, 3, 10)
DAYS = ["2026-03-08", "2026-03-09", "2026-03-10"]
ASSETS = [["bronze", "orders"], ["silver", "orders"]]
BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deployment")
    database = PostgresDatabase(prefix="dagster_test")
    env = {**instance_environ(database, root / "dagster_home"), "LAKEHOUSE_DATA_DIR": str(root / "data")}
    generate(root / "data" / "landing", START, END, orders_per_day=60, seed=3)
    deployment = Deployment(root, env)
    try:
        deployment.start_code_server()
        deployment.start_webserver()
        yield deployment
    finally:
        deployment.stop()
        database.drop()


def wait_for_runs(
    instance: dg.DagsterInstance, filters: dg.RunsFilter, count: int, timeout: float = 300
) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters=filters)
        if len(runs) >= count and all(r.is_finished for r in runs):
            return runs
        time.sleep(1)
    raise TimeoutError(
        f"runs not finished: {[(r.run_id, r.status) for r in instance.get_runs(filters=filters)]}"
    )


def test_runs_and_a_single_run_backfill_on_postgres_storage(deployment: Deployment, monkeypatch) -> None:
    client = DagsterGraphQLClient("127.0.0.1", port_number=deployment.web_port)
    daily = client.submit_job_execution(
        "__ASSET_JOB",
        repository_location_name="lakehouse",
        asset_selection=ASSETS,
        tags={"dagster/partition": DAYS[-1]},
    )
    launched = deployment.graphql(
        BACKFILL,
        {
            "params": {
                "partitionNames": DAYS,
                "assetSelection": [{"path": p} for p in ASSETS],
                "fromFailure": False,
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    deployment.start_daemon()  # dequeues the run (QueuedRunCoordinator) and runs the backfill

    for name, value in deployment.env.items():
        if name.startswith("DAGSTER_"):
            monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.run_monitoring_enabled
        (run,) = wait_for_runs(instance, dg.RunsFilter(run_ids=[daily]), 1)
        assert run.status == dg.DagsterRunStatus.SUCCESS, deployment.log("daemon")[-3000:]
        backfill_runs = wait_for_runs(
            instance, dg.RunsFilter(tags={"dagster/backfill": launched["backfillId"]}), 1
        )
        assert len(backfill_runs) == 1  # single-run backfill: three days, one run
        (backfill,) = backfill_runs
        assert backfill.status == dg.DagsterRunStatus.SUCCESS
        assert backfill.tags["dagster/asset_partition_range_start"] == DAYS[0]
        assert backfill.tags["dagster/asset_partition_range_end"] == DAYS[-1]

        # Read back from PostgreSQL: materialisations per day...
        for path in ASSETS:
            key = dg.AssetKey(path)
            assert set(DAYS) <= instance.get_materialized_partitions(key)
            records = instance.fetch_materializations(key, limit=100).records
            assert {r.run_id for r in records} >= {daily, backfill.run_id}
        # ...and each check's result per day.
        evaluations = [
            e.dagster_event.event_specific_data
            for e in instance.all_logs(backfill.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
        reconciliation = {
            e.partition: e.passed
            for e in evaluations
            if e.asset_key == dg.AssetKey(["bronze", "orders"])
            and e.check_name == "reconciliation"
            and e.partition
        }
        assert {day: reconciliation.get(day) for day in DAYS} == dict.fromkeys(DAYS, True)
        # (The backfill itself is marked completed on the daemon's next tick, 30 s later.)
        assert instance.get_backfill(launched["backfillId"]) is not None
