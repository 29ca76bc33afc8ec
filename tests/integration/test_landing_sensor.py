"""The landing sensor on real landing files and a real Dagster instance: a file is processed once,
a rewritten file again, one run per range, a bounded cursor, files already materialised left alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.resources import lake_storage
from lakehouse.runs import RANGE_END_TAG, RANGE_START_TAG
from lakehouse.sensors.landing import HORIZON_DAYS, TRIGGER_TAG, load_cursor
from tests.helpers import make_settings

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def zone(tmp_path: Path):
    settings = make_settings(tmp_path)
    generate(settings.landing_root, YESTERDAY - timedelta(days=2), YESTERDAY, orders_per_day=20)
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("landing_files")
    with dg.DagsterInstance.ephemeral() as instance:
        yield Zone(settings, defs, sensor, instance)


class Zone:
    def __init__(self, settings, defs, sensor, instance):
        self.settings, self.defs, self.sensor, self.instance = settings, defs, sensor, instance
        self.cursor: str | None = None

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            repository_def=self.defs.get_repository_def(),
            resources={"lake": lake_storage(self.settings)},
        )
        result = self.sensor(context)
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        return list(result.run_requests or [])

    def path(self, source: str, day: date, name: str) -> Path:
        return Path(self.settings.landing_root) / source / day.isoformat() / name


def days(request: dg.RunRequest) -> tuple[str, str]:
    return request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]


def test_new_files_start_one_run_and_the_next_tick_starts_nothing(zone: Zone) -> None:
    first = zone.tick()
    assert len(first) == 1, "both sources delivered the same days: one run"
    (request,) = first
    assert days(request) == ((YESTERDAY - timedelta(days=2)).isoformat(), YESTERDAY.isoformat())
    assert request.tags[TRIGGER_TAG] == "landing"
    assert {key.to_user_string() for key in request.asset_selection or []} == {
        "bronze/orders",
        "bronze/customers",
        "silver/orders",
        "silver/customers",
    }
    assert zone.tick() == [] and zone.tick() == []  # seen: nothing more, however often it ticks


def test_a_rewritten_file_is_processed_again_for_its_days_only(zone: Zone) -> None:
    zone.tick()
    day = YESTERDAY - timedelta(days=1)
    (csv,) = zone.path("orders", day, "").glob("*.csv")
    csv.write_text(csv.read_text() + csv.read_text().splitlines()[1] + "\n")  # same name, new content
    (request,) = zone.tick()
    assert days(request) == (day.isoformat(), day.isoformat())
    assert {k.to_user_string() for k in request.asset_selection or []} == {"bronze/orders", "silver/orders"}
    assert zone.tick() == []


def test_a_late_file_in_an_earlier_day_restates_that_day(zone: Zone) -> None:
    zone.tick()
    day = YESTERDAY - timedelta(days=2)
    (csv,) = zone.path("orders", day, "").glob("*.csv")
    late = csv.with_name("orders_late.csv")
    late.write_text(csv.read_text())
    (request,) = zone.tick()
    assert days(request) == (day.isoformat(), day.isoformat())
    assert request.run_key and request.run_key.startswith("landing:")


def test_files_of_a_day_not_complete_wait_for_it(zone: Zone) -> None:
    zone.tick()
    (csv,) = zone.path("orders", YESTERDAY, "").glob("*.csv")
    today = zone.path("orders", TODAY, csv.name)
    today.parent.mkdir(parents=True)
    today.write_text(csv.read_text())
    assert zone.tick() == []
    assert TODAY.isoformat() not in load_cursor(zone.cursor)["orders"], "judged again once the day ends"


def test_files_already_materialised_after_they_arrived_are_recorded_without_a_run(zone: Zone) -> None:
    for source in ("orders", "customers"):
        for offset in range(3):
            zone.instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    dg.AssetKey(["bronze", source]),
                    partition=(YESTERDAY - timedelta(days=offset)).isoformat(),
                )
            )
    assert zone.tick() == []
    seen = load_cursor(zone.cursor)
    assert sum(len(files) for files in seen["orders"].values()) == 3


def test_the_cursor_keeps_only_the_horizon(zone: Zone) -> None:
    old = TODAY - timedelta(days=HORIZON_DAYS + 5)
    generate(zone.settings.landing_root, old, old, orders_per_day=20)
    (request,) = zone.tick()
    assert days(request)[0] == (YESTERDAY - timedelta(days=2)).isoformat(), "older files are a backfill's"
    seen = load_cursor(zone.cursor)
    horizon = {(TODAY - timedelta(days=i)).isoformat() for i in range(HORIZON_DAYS)}
    assert set(seen["orders"]) <= horizon and set(seen["customers"]) <= horizon


def test_a_source_being_bootstrapped_is_left_to_its_bootstrap_run(zone: Zone) -> None:
    """The contract sensor's bootstrap reads the new source's files: the landing sensor neither
    loads them at the same time nor forgets them (judged again once the bootstrap ended)."""
    from lakehouse.sensors.bootstrap import BOOTSTRAP_TAG

    run = dg.DagsterRun(
        job_name="__ASSET_JOB", status=dg.DagsterRunStatus.STARTED, tags={BOOTSTRAP_TAG: "orders"}
    )
    zone.instance.add_run(run)
    (request,) = zone.tick()
    assert {k.to_user_string() for k in request.asset_selection or []} == {
        "bronze/customers",
        "silver/customers",
    }
    assert zone.tick() == []
    zone.instance.report_run_failed(run)  # ended without loading them: their run is due now
    (request,) = zone.tick()
    assert {k.to_user_string() for k in request.asset_selection or []} == {"bronze/orders", "silver/orders"}
