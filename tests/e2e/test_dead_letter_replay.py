"""The DLQ replays a failure after the cause is fixed.

A file source whose day folder is a symbolic-link loop (unreadable for root too) fails bronze
with the source, path and day named, and nothing written; the failure is a dead letter. The
``dead_letter_replay`` sensor, evaluated for real against a real instance (its clock moved on
instead of waiting out the backoff), requests one run over the entry's days; executed while the
cause remains, the run records the next attempt; after the fix, it resolves the entry and the
day lands exactly once. An entry whose every replay failed is exhausted: the sensor requests no
more, and it shows in ``reports/dead_letters``'s check, ``lakehouse checks slo`` and ``lakehouse
dlq list`` until ``lakehouse dlq replay`` (after the fix) resolves it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from lakehouse.cli import main
from lakehouse.contracts.loader import load_contracts
from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.resources import lake_storage
from lakehouse.runs import materialize_range
from lakehouse.sensors.dead_letters import dead_letter_sensor
from lakehouse.settings import Settings
from lakehouse.tables.dead_letters import (
    BACKOFF,
    DEAD_LETTER_TAG,
    EXHAUSTED,
    PENDING,
    RESOLVED,
    DeadLetterQueue,
)
from lakehouse.tables.location import TableLocation
from tests.helpers import make_settings, rows

pytestmark = pytest.mark.slow

DAY = date(2026, 4, 10)
ORDERS = ["bronze/orders", "silver/orders"]


class Scene:
    """A lakehouse with the demo's data for ``DAY``, its day folder breakable and fixable."""

    def __init__(self, root: Path):
        self.settings: Settings = make_settings(root)
        generate(self.settings.landing_root, DAY - timedelta(days=2), DAY, orders_per_day=40, seed=3)
        self.day_folder = Path(self.settings.landing_root) / "orders" / DAY.isoformat()
        self.held = root / "held"
        self.defs = build_definitions(self.settings)
        self.lake = lake_storage(self.settings)
        self.queue = DeadLetterQueue(self.lake.ops_table("dead_letters"))
        self.now = datetime.now(UTC)
        contracts = [loaded.contract for loaded in load_contracts(self.settings.sources_dir)]
        self.sensor = dead_letter_sensor(contracts, clock=lambda: self.now)

    def break_day(self) -> None:
        """The day folder becomes a symbolic link to itself: ELOOP, whoever reads."""
        shutil.move(self.day_folder, self.held)
        os.symlink(self.day_folder, self.day_folder)

    def fix_day(self) -> None:
        self.day_folder.unlink()
        shutil.move(self.held, self.day_folder)

    def tick(self, instance: dg.DagsterInstance, cursor: str | None = None) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, definitions=self.defs, resources={"lake": self.lake}
        )
        return self.sensor.evaluate_tick(context)

    def execute(self, instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        """What the daemon would launch for ``request`` (its assets and the checks the tick
        resolved for them, the freshness check included), run in process."""
        runnable = [
            a for a in self.defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.is_executable
        ]
        assert request.asset_check_keys, "the tick resolves the checks of the assets it selects"
        return dg.materialize(
            [*runnable, *(self.defs.asset_checks or [])],  # type: ignore[list-item]
            resources=self.defs.resources,
            instance=instance,
            selection=dg.AssetSelection.assets(*(request.asset_selection or [])).without_checks()
            | dg.AssetSelection.checks(*request.asset_check_keys),
            tags=request.tags,
            raise_on_error=False,
        )

    def day_rows(self, layer: str, column: str) -> int:
        location = TableLocation(f"{self.settings.lake_root}/{layer}/orders")
        if location.open() is None:
            return 0
        return rows(location, f"SELECT count(*) n FROM t WHERE {column} = DATE '{DAY}'")[0]["n"]


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    yield Scene(tmp_path)


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(
        e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    )


def test_the_dlq_replays_a_failure_after_the_cause_is_fixed(scene: Scene, tmp_path: Path) -> None:
    scene.break_day()
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        failed = materialize_range(
            scene.defs, DAY, DAY, instance=instance, selection=ORDERS, raise_on_error=False
        )
        assert not failed.success
        message = failure_text(failed)
        assert f"bronze/orders {DAY}..{DAY}" in message and f"orders/{DAY}" in message
        assert "Too many levels of symbolic links" in message and "Dead letter" in message
        assert scene.day_rows("bronze", "_event_date") == 0  # nothing half-written

        (entry,) = scene.queue.entries()
        assert (entry.source, entry.first_day, entry.last_day) == ("orders", DAY, DAY)
        assert (entry.kind, entry.attempts, entry.status) == ("unreadable", 1, PENDING)
        assert f"orders/{DAY}" in entry.error and entry.traceback
        assert entry.run_id == failed.run_id

        first = scene.tick(instance)  # the backoff is not over
        assert first.run_requests == []
        assert [e.asset_key.to_user_string() for e in first.asset_events] == ["reports/dead_letters"] * 2

        scene.now = entry.failed_at + BACKOFF[0]
        (retry,) = scene.tick(instance, first.cursor).run_requests
        assert retry.run_key == f"dead_letter:{entry.id}:attempt-2"
        assert retry.tags[DEAD_LETTER_TAG] == entry.id
        assert retry.tags["dagster/asset_partition_range_start"] == DAY.isoformat()
        assert not scene.execute(instance, retry).success  # the cause is still there
        again = scene.queue.get(entry.id)
        assert (again.attempts, again.status) == (2, PENDING)
        assert again.next_attempt_at == again.failed_at + BACKOFF[1]

        scene.fix_day()
        scene.now = again.next_attempt_at
        (replay,) = scene.tick(instance).run_requests
        assert replay.run_key == f"dead_letter:{entry.id}:attempt-3"
        done = scene.execute(instance, replay)
        assert done.success
        assert scene.queue.get(entry.id).status == RESOLVED
        assert scene.tick(instance).run_requests == []  # resolved: nothing more to replay

        # Landed exactly once: every row read for the day is in bronze or quarantine (the
        # reconciliation check), and running the replay again (a duplicate launch) changes nothing.
        day_results = [
            e
            for e in done.get_asset_check_evaluations()
            if e.check_name == "reconciliation" and e.partition == DAY.isoformat()
        ]
        assert day_results and all(e.passed for e in day_results)
        landed = (scene.day_rows("bronze", "_event_date"), scene.day_rows("silver", "_event_date"))
        assert landed[0] > 0 and landed[1] > 0
        assert scene.execute(instance, replay).success
        assert (scene.day_rows("bronze", "_event_date"), scene.day_rows("silver", "_event_date")) == landed


def exhaust(scene: Scene, instance: dg.DagsterInstance) -> str:
    """Fail the day, then let every replay the sensor offers fail; the entry's id."""
    assert not materialize_range(
        scene.defs, DAY, DAY, instance=instance, selection=ORDERS, raise_on_error=False
    ).success
    cursor = None
    while (entry := scene.queue.entries()[0]).status == PENDING:
        scene.now = entry.next_attempt_at
        result = scene.tick(instance, cursor)
        cursor = result.cursor
        (request,) = result.run_requests
        assert not scene.execute(instance, request).success
    assert entry.status == EXHAUSTED and entry.attempts == 4
    return entry.id


def cli(scene: Scene, home: Path) -> Callable[..., object]:
    env = {**scene.settings.as_environ(), "DAGSTER_HOME": str(home)}

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_an_exhausted_dead_letter_stays_visible_until_a_replay_resolves_it(
    scene: Scene, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    invoke = cli(scene, home)
    scene.break_day()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        id = exhaust(scene, instance)
        scene.now += timedelta(days=1)
        tick = scene.tick(instance)
        assert tick.run_requests == []  # exhausted: no more replays
        check = next(e for e in tick.asset_events if isinstance(e, dg.AssetCheckEvaluation))
        assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
        assert id in (check.description or "") and f"orders/{DAY}" in (check.description or "")

        # The check, executed as the UI would, says the same.
        checked = dg.materialize(
            [*scene.defs.asset_checks],  # type: ignore[list-item]
            resources=scene.defs.resources,
            instance=instance,
            selection=dg.AssetSelection.checks(
                dg.AssetCheckKey(dg.AssetKey(["reports", "dead_letters"]), "no_exhausted_dead_letters")
            ),
            raise_on_error=False,
        )
        (evaluation,) = checked.get_asset_check_evaluations()
        assert not evaluation.passed

    slo = invoke("checks", "slo", "--end", str(DAY), "--days", "3")
    assert slo.exit_code == 0, slo.output
    (orders_row,) = [line for line in slo.output.splitlines() if line.startswith("| orders ")]
    assert orders_row.rstrip(" |").endswith(f"1 exhausted ({DAY})")

    listed = invoke("dlq", "list")
    assert listed.exit_code == 0
    assert id in listed.output and "4/4" in listed.output and "exhausted" in listed.output
    assert "Too many levels of symbolic links" in listed.output or f"orders/{DAY}" in listed.output

    still = invoke("dlq", "replay", id)  # the cause is still there
    assert still.exit_code == 1 and "still failing" in still.output

    scene.fix_day()
    replayed = invoke("dlq", "replay", "--all")
    assert replayed.exit_code == 0, replayed.output
    assert f"{id} orders {DAY}: replayed, resolved" in replayed.output
    assert "no open dead letters" in invoke("dlq", "list").output
    assert id in invoke("dlq", "list", "--all").output
    slo = invoke("checks", "slo", "--end", str(DAY), "--days", "3")
    (orders_row,) = [line for line in slo.output.splitlines() if line.startswith("| orders ")]
    assert orders_row.rstrip(" |").endswith("none")
    assert scene.day_rows("bronze", "_event_date") > 0


def test_a_landing_root_that_is_gone_is_a_dead_letter_and_a_later_run_resolves_it(
    scene: Scene, tmp_path: Path
) -> None:
    """An unmounted share, in effect: the landing root is a file, not a folder. Any later run
    over the days (not only a replay) resolves the entry."""
    root = Path(scene.settings.landing_root)
    root.rename(tmp_path / "landing-held")
    root.write_text("not a folder")
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        failed = materialize_range(
            scene.defs, DAY, DAY, instance=instance, selection=ORDERS, raise_on_error=False
        )
        assert not failed.success
        assert f"landing root {root} does not exist or is not a directory" in failure_text(failed)
        (entry,) = scene.queue.entries()
        assert (entry.kind, entry.status, entry.first_day) == ("unreachable", PENDING, DAY)

        root.unlink()
        (tmp_path / "landing-held").rename(root)
        assert materialize_range(
            scene.defs, DAY - timedelta(days=1), DAY, instance=instance, selection=ORDERS
        ).success
        assert scene.queue.get(entry.id).status == RESOLVED
