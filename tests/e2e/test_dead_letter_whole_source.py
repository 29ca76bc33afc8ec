"""A source refreshed whole (``grain: none``) has no days: its dead letter is replayed as an
unpartitioned run, a failed replay is the same entry's next attempt (the run's tag names it),
and the refresh that gets through resolves it."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.contracts.loader import load_contracts
from lakehouse.platform import build_definitions
from lakehouse.resources import lake_storage
from lakehouse.runs import RANGE_START_TAG
from lakehouse.sensors.dead_letters import dead_letter_sensor
from lakehouse.tables.dead_letters import BACKOFF, DEAD_LETTER_TAG, PENDING, RESOLVED, DeadLetterQueue
from tests.e2e.test_whole_source import CURRENCIES, deliver_currencies
from tests.helpers import REPO, make_settings

pytestmark = pytest.mark.slow


def test_a_whole_source_dead_letter_is_replayed_without_days(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "sources", sources)
    (sources / "currencies.yaml").write_text(CURRENCIES)
    settings = make_settings(tmp_path, sources)
    landing = Path(settings.landing_root)
    deliver_currencies(landing, ["EUR", "USD", "GBP"], seed=1, day=datetime.now(UTC).date())
    folder = landing / "currencies" / "current"
    shutil.move(folder, tmp_path / "held")
    os.symlink(folder, folder)  # a loop: unreadable for root too

    defs = build_definitions(settings)
    lake = lake_storage(settings)
    queue = DeadLetterQueue(lake.ops_table("dead_letters"))
    runnable = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.is_executable]
    now = datetime.now(UTC)
    contracts = [loaded.contract for loaded in load_contracts(sources)]
    sensor = dead_letter_sensor(contracts, clock=lambda: now)
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:

        def run(selection: list[dg.AssetKey], tags: dict[str, str] | None = None) -> bool:
            return dg.materialize(
                [*runnable, *(defs.asset_checks or [])],  # type: ignore[list-item]
                resources=defs.resources,
                instance=instance,
                selection=dg.AssetSelection.assets(*selection),
                tags=tags,
                raise_on_error=False,
            ).success

        def replay() -> dg.RunRequest:
            context = dg.build_sensor_context(instance=instance, definitions=defs, resources={"lake": lake})
            (request,) = sensor.evaluate_tick(context).run_requests
            assert RANGE_START_TAG not in request.tags  # no days: an unpartitioned run
            return request

        assert not run([dg.AssetKey(["bronze", "currencies"])])
        (entry,) = queue.entries()
        assert (entry.source, entry.kind, entry.status) == ("currencies", "unreadable", PENDING)

        now = entry.failed_at + BACKOFF[0]
        request = replay()
        assert request.tags[DEAD_LETTER_TAG] == entry.id
        assert not run(list(request.asset_selection or []), dict(request.tags))
        (again,) = queue.entries()  # the same entry, its next attempt
        assert (again.id, again.attempts) == (entry.id, 2)

        folder.unlink()
        shutil.move(tmp_path / "held", folder)
        now = again.failed_at + BACKOFF[1] + timedelta(seconds=1)
        request = replay()
        assert run(list(request.asset_selection or []), dict(request.tags))
        assert queue.get(entry.id).status == RESOLVED
