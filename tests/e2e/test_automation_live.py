"""The automation in a real `dagster dev` (webserver and daemon, its own DAGSTER_HOME with the
instance config the platform ships): days run with no one launching anything, gold following; a
landing file is processed once, a rewritten one again; a run whose process died is failed.

The sensors evaluate every 5 s here (``LAKEHOUSE_AUTOMATION_INTERVAL_SECONDS``; 30 s shipped) and
run monitoring polls every 5 s (30 s shipped); everything else is as shipped."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.cli.environment import INSTANCE_CONFIG
from lakehouse.demo.generate import generate
from lakehouse.sensors.landing import TRIGGER_TAG
from tests.helpers import PII_KEY, dagster_dev, make_settings

pytestmark = pytest.mark.slow

DAY = datetime.now(UTC).date() - timedelta(days=1)  # the newest complete day
SENSOR = "dagster/sensor_name"


class Lakehouse:
    def __init__(self, home: Path, landing: Path):
        self.home, self.landing = home, landing

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def runs(self) -> list[dg.DagsterRun]:
        with self.instance() as instance:
            return list(instance.get_runs())

    def landing_runs(self) -> list[dg.DagsterRun]:
        return [r for r in self.runs() if r.tags.get(TRIGGER_TAG) == "landing"]

    def materialised(self, key: str) -> set[str]:
        with self.instance() as instance:
            return set(instance.get_materialized_partitions(dg.AssetKey(key.split("/"))))

    def wait(self, what: str, done: Callable[[], object], timeout: float = 240) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = done()
            if value:
                return value
            time.sleep(2)
        raise TimeoutError(
            f"{what}: not within {timeout:.0f} s; runs: {[(r.run_id[:8], r.status, r.tags.get(SENSOR)) for r in self.runs()]}"
        )

    def settled(self) -> None:
        """No run queued or in progress."""
        self.wait("runs to finish", lambda: not [r for r in self.runs() if not r.is_finished])


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("automation")
    settings = make_settings(root)
    generate(settings.landing_root, DAY, DAY, orders_per_day=100)
    env = {"LAKEHOUSE_AUTOMATION_INTERVAL_SECONDS": "5", "LAKEHOUSE_PII_KEY": PII_KEY}
    config = INSTANCE_CONFIG.replace("poll_interval_seconds: 30", "poll_interval_seconds: 5")
    with dagster_dev(root, settings, env, instance_config=config):
        yield Lakehouse(root / "home", Path(settings.landing_root))


def test_a_day_runs_with_no_one_running_it_its_gold_following(lakehouse: Lakehouse) -> None:
    day = DAY.isoformat()
    for key in ("gold/fct_daily_sales", "gold/customer_segment_daily_sales"):
        lakehouse.wait(f"{key} {day}", lambda key=key: day in lakehouse.materialised(key), timeout=300)
    for key in ("bronze/orders", "bronze/customers", "silver/orders", "silver/customers"):
        assert day in lakehouse.materialised(key)
    lakehouse.settled()
    runs = lakehouse.runs()
    assert all(r.tags.get(SENSOR) for r in runs), "every run was started by a sensor, none by hand"
    (landing,) = lakehouse.landing_runs()
    assert landing.status == dg.DagsterRunStatus.SUCCESS
    gold = [r for r in runs if r.tags.get(SENSOR) == "lakehouse_automation"]
    assert gold and all(r.status == dg.DagsterRunStatus.SUCCESS for r in gold)
    assert all(r.tags.get("dagster/partition") == day for r in gold), "automation: the newest day only"


def test_a_landing_file_is_processed_once_and_again_when_rewritten(lakehouse: Lakehouse) -> None:
    lakehouse.settled()
    before = len(lakehouse.landing_runs())
    (csv,) = (lakehouse.landing / "orders" / DAY.isoformat()).glob("orders_*.csv")
    extra = csv.with_name("orders_resent.csv")
    rows = csv.read_text().splitlines()
    extra.write_text("\n".join(rows[:20]) + "\n")  # a re-delivery of some of the day's orders
    lakehouse.wait("a run for the new file", lambda: len(lakehouse.landing_runs()) == before + 1)
    lakehouse.settled()
    time.sleep(15)  # three more ticks
    assert len(lakehouse.landing_runs()) == before + 1, "the same file starts no second run"
    extra.write_text("\n".join(rows[:40]) + "\n")  # rewritten in place
    lakehouse.wait("a run for the rewritten file", lambda: len(lakehouse.landing_runs()) == before + 2)
    lakehouse.settled()
    runs = lakehouse.landing_runs()[:2]  # newest first
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert all(r.tags["dagster/asset_partition_range_start"] == DAY.isoformat() for r in runs)


def test_a_run_whose_process_was_killed_is_marked_failed(lakehouse: Lakehouse) -> None:
    """Seen here: the code server that started the run notices its worker's SIGKILL and fails the
    run itself; the daemon's run monitoring (``LakehouseRunLauncher``'s check, proven in
    ``test_dead_runs.py``) covers a run whose code server is gone too."""
    from lakehouse.deploy.run_health import HOST_TAG, run_pid

    lakehouse.settled()
    before = {r.run_id for r in lakehouse.landing_runs()}
    (csv,) = (lakehouse.landing / "customers" / DAY.isoformat()).glob("*.jsonl")
    csv.with_name("customers_resent.jsonl").write_text(csv.read_text())

    def started() -> tuple[str, int] | None:
        with lakehouse.instance() as instance:
            for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
                pid = run_pid(instance, run.run_id) if run.run_id not in before else None
                if pid and run.tags.get(TRIGGER_TAG) == "landing" and HOST_TAG in run.tags:
                    return run.run_id, pid
        return None

    run_id, pid = lakehouse.wait("the landing run to start", started)  # type: ignore[misc]
    os.kill(pid, signal.SIGKILL)
    with lakehouse.instance() as instance:
        lakehouse.wait(
            "the dead run to be failed",
            lambda: instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE,  # type: ignore[union-attr]
            timeout=90,
        )
