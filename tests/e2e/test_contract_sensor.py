"""The contract sensor's ticks in process, on a real instance and real runs: a new source's one
bootstrap run (requested again until it succeeds, recorded only then), a start moved earlier
loading only the new days, invalid and removed contracts reported on ``reports/contracts``.
(``test_config_sensor_live.py`` does the reload for real, through ``dagster dev``.)"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.sensors.contracts import Cursor, current_contracts, evaluate
from lakehouse.settings import Settings
from tests.helpers import REPO, make_settings

pytestmark = pytest.mark.slow

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # the last complete day: 2026-03-03


def shop_orders(start: str) -> str:
    text = (REPO / "sources" / "orders.yaml").read_text()
    return (
        text.replace("name: orders", "name: shop_orders")
        .replace("path: orders/{date}/*.csv", "path: shop_orders/{date}/*.csv")
        .replace("start: 2026-01-01", f"start: {start}")
    )


class Project:
    """A sources folder, its lake and an instance; ``tick`` evaluates the sensor of the
    definitions as last loaded (``reload`` loads them again, as the webserver would)."""

    def __init__(self, root: Path, instance: dg.DagsterInstance):
        self.sources = root / "sources"
        shutil.copytree(REPO / "sources", self.sources)
        self.settings: Settings = make_settings(root, self.sources)
        self.instance = instance
        self.cursor: str | None = None
        self.reload()

    def reload(self) -> None:
        self.defs = build_definitions(self.settings)
        self.loaded = current_contracts(self.settings)

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, repository_def=self.defs.get_repository_def()
        )
        result = evaluate(context, self.settings, self.loaded, NOW)
        self.cursor = result.cursor
        return result

    def run(self, request: dg.RunRequest) -> bool:
        """What the daemon does with a request: one run of its selection with its tags."""
        tags = request.tags
        start = date.fromisoformat(tags["dagster/asset_partition_range_start"])
        end = date.fromisoformat(tags["dagster/asset_partition_range_end"])
        keys = request.asset_selection or []
        result = materialize_range(
            self.defs,
            start,
            end,
            instance=self.instance,
            selection=dg.AssetSelection.assets(*keys),
            tags={k: v for k, v in tags.items() if not k.startswith("dagster/")},
            raise_on_error=False,
        )
        return result.success


def test_bootstrap_range_retry_and_reports(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        project = Project(tmp_path, instance)
        first = project.tick()  # the baseline: orders and customers are not bootstrapped
        assert not first.run_requests and first.skip_reason
        (evaluation,) = first.asset_events
        assert evaluation.passed

        staging = tmp_path / "generated"
        generate(staging, date(2026, 2, 26), date(2026, 3, 3), orders_per_day=40)
        landing = Path(project.settings.landing_root) / "shop_orders"
        landing.mkdir(parents=True)
        for day in ("2026-03-02", "2026-03-03"):  # 2026-03-01 is late: the first run fails
            shutil.copytree(staging / "orders" / day, landing / day)
        (project.sources / "shop_orders.yaml").write_text(shop_orders("2026-03-01"))
        stale = project.tick()
        assert "accepted shop_orders.yaml" in stale.skip_reason.skip_message
        assert "reload by hand" in stale.skip_reason.skip_message  # no webserver in process

        project.reload()
        (request,) = project.tick().run_requests
        assert request.run_key == "bootstrap:shop_orders:2026-03-01..2026-03-03:0"
        assert [k.to_user_string() for k in request.asset_selection] == [
            "bronze/shop_orders",
            "silver/shop_orders",
        ]
        assert request.tags["lakehouse/source"] == "shop_orders" and request.tags["bootstrap"] == "true"
        assert not project.run(request)  # the circuit breaker: a day without files
        assert Cursor.parse(project.cursor).loaded_from.get("shop_orders") is None

        shutil.copytree(staging / "orders" / "2026-03-01", landing / "2026-03-01")
        (retry,) = project.tick().run_requests
        assert retry.run_key == "bootstrap:shop_orders:2026-03-01..2026-03-03:1"  # a new key: a new run
        assert project.run(retry)
        done = project.tick()
        assert "bootstrap of shop_orders (2026-03-01..2026-03-03) succeeded" in done.skip_reason.skip_message
        assert Cursor.parse(project.cursor).loaded_from["shop_orders"] == "2026-03-01"
        assert not project.tick().run_requests  # nothing more to load

        # start moved earlier: only the new days.
        for day in ("2026-02-26", "2026-02-27", "2026-02-28"):
            shutil.copytree(staging / "orders" / day, landing / day)
        (project.sources / "shop_orders.yaml").write_text(shop_orders("2026-02-27"))
        assert "partitions.start moved earlier" in project.tick().skip_reason.skip_message
        project.reload()
        (earlier,) = project.tick().run_requests
        assert earlier.run_key == "bootstrap:shop_orders:2026-02-27..2026-02-28:0"
        assert project.run(earlier)
        project.tick()
        assert Cursor.parse(project.cursor).loaded_from["shop_orders"] == "2026-02-27"

        # An invalid file and a removed one: reported, naming file and field; the rest keeps running.
        (project.sources / "customers.yaml").write_text(
            (REPO / "sources" / "customers.yaml")
            .read_text()
            .replace("type: timestamp}", "type: timestmp}", 1)
        )
        (project.sources / "shop_orders.yaml").unlink()
        reported = project.tick()
        (evaluation,) = reported.asset_events
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        details = evaluation.metadata["details"].value
        assert "| customers.yaml | columns[6].type | unknown type 'timestmp'" in details
        assert "| shop_orders.yaml |  | source removed: its tables are kept" in details
        assert "customers" in current_contracts(project.settings).contracts  # its accepted version
        project.reload()
        after = project.tick()
        assert not after.asset_events  # nothing new to report: no event per tick
        assert "source removed" in after.skip_reason.skip_message
        assert Path(project.settings.lake_root, "silver", "shop_orders").is_dir()  # its data kept


def test_the_bootstrap_takes_gold_only_over_ready_sources(tmp_path: Path) -> None:
    from lakehouse.sensors.bootstrap import selection

    settings = make_settings(tmp_path)
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    loaded = current_contracts(settings).contracts
    orders = loaded["orders"].contract
    alone = {k.to_user_string() for k in selection(graph, orders, set())}
    together = {k.to_user_string() for k in selection(graph, orders, {dg.AssetKey(["silver", "customers"])})}
    assert {"bronze/orders", "silver/orders", "gold/fct_daily_sales"} <= alone
    assert "gold/customer_segment_daily_sales" not in alone  # it reads customers too, not loaded yet
    assert "gold/customer_segment_daily_sales" in together
    assert all(k.split("/")[0] in ("bronze", "silver", "gold") for k in together)
    assert not any(k.startswith("bronze/customers") for k in together)
