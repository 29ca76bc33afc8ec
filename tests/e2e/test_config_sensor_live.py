"""The contract sensor for real: one `dagster dev` (webserver and daemon) over a temporary sources
folder. A new YAML and its landing files are dropped in and nothing else is done: the next tick
reloads the code location, the first tick in the reloaded code requests the bootstrap (the second
tick, when a reload takes less than an interval), and the run succeeds.
Then an additive edit (a new nullable column) goes live and the Delta tables gain the column, and
a breaking edit is refused with the reason in the tick while the old definition stays loaded."""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from lakehouse.demo.generate import generate
from lakehouse.tables.location import TableLocation
from tests.helpers import REPO, Webserver, dagster_dev, make_settings, rows

pytestmark = pytest.mark.slow

INTERVAL = 10  # seconds between ticks (LAKEHOUSE_CONTRACT_SENSOR_INTERVAL)
SELECTOR = {
    "repositoryLocationName": "lakehouse",
    "repositoryName": "__repository__",
    "sensorName": "contract_changes",
}

TICKS = """
query ($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { ticks(limit: 50) { timestamp status skipReason runIds error { message } } } }
  }
}"""

ASSET = """
query ($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) { __typename ... on AssetNode { opVersion } }
}"""

BOOTSTRAP_RUNS = """
query ($source: String!) {
  runsOrError(filter: {tags: [{key: "lakehouse/bootstrap", value: $source}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}"""

CHECK = """
query {
  assetCheckExecutions(assetKey: {path: ["reports", "contracts"]}, checkName: "valid", limit: 1) {
    evaluation { success metadataEntries { label ... on MarkdownMetadataEntry { mdStr } } }
  }
}"""

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], log: Path, timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()[-4000:]}"
        time.sleep(1)


def ticks_since(server: Webserver, since: float) -> list[dict]:
    sensor = server.graphql(TICKS, selector=SELECTOR)["sensorOrError"]
    assert sensor["__typename"] == "Sensor", sensor
    ticks = [t for t in sensor["sensorState"]["ticks"] if t["timestamp"] >= since]
    return sorted(ticks, key=lambda t: t["timestamp"])


def version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def op_version(server: Webserver, path: list[str]) -> str | None:
    node = server.graphql(ASSET, path=path)["assetNodeOrError"]
    return node.get("opVersion") if node["__typename"] == "AssetNode" else None


def shop_orders(start: str) -> str:
    """The demo's orders contract as a new source over its own landing folder."""
    text = (REPO / "sources" / "orders.yaml").read_text()
    return (
        text.replace("name: orders", "name: shop_orders")
        .replace("path: orders/{date}/*.csv", "path: shop_orders/{date}/*.csv")
        .replace("start: 2026-01-01", f"start: {start}")
    )


def test_a_new_source_bootstraps_itself_and_evolves_live(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "sources", sources)
    settings = make_settings(tmp_path, sources)
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=3), today - timedelta(days=1)
    env = {
        "LAKEHOUSE_WEBSERVER_URL": "http://127.0.0.1:{port}",
        "LAKEHOUSE_CONTRACT_SENSOR_INTERVAL": str(INTERVAL),
    }
    with dagster_dev(tmp_path, settings, env) as (server, log):
        wait_for("the sensor's first tick", lambda: ticks_since(server, 0), log)

        # Generated order files in the new source's folder, then its contract: nothing else.
        staging = tmp_path / "generated"
        generate(staging, first, last, orders_per_day=60)
        shutil.move(staging / "orders", Path(settings.landing_root) / "shop_orders")
        contract = sources / "shop_orders.yaml"
        dropped = time.time()
        contract.write_text(shop_orders(first.isoformat()))

        def bootstrap_done() -> dict | None:
            result = server.graphql(BOOTSTRAP_RUNS, source="shop_orders")["runsOrError"]["results"]
            assert all(r["status"] not in ("FAILURE", "CANCELED") for r in result), (
                result,
                log.read_text()[-4000:],
            )
            return next((r for r in result if r["status"] == "SUCCESS"), None)

        run = wait_for("the bootstrap run to succeed", bootstrap_done, log, timeout=180)
        took = time.time() - dropped
        ticks = ticks_since(server, dropped)
        said = "\n".join(f"{t['timestamp'] - dropped:.0f} s: {t['skipReason'] or t['runIds']}" for t in ticks)
        requested = next(i for i, t in enumerate(ticks) if t["runIds"])
        # The first tick asks for the reload; the first tick in the reloaded code requests the
        # bootstrap. That is the second tick when the reload takes less than an interval; on a
        # loaded machine the ticks between only wait for it.
        assert "reloading code location lakehouse (new shop_orders)" in ticks[0]["skipReason"], said
        assert all("waiting for the reload" in t["skipReason"] for t in ticks[1:requested]), said
        print(f"\nbootstrap: {took:.0f} s from the drop to a successful run; ticks:\n{said}")
        assert op_version(server, ["silver", "shop_orders"]) == version(contract)
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert tags["lakehouse/source"] == "shop_orders" and tags["bootstrap"] == "true"
        assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
            first.isoformat(),
            last.isoformat(),
        )
        bronze = TableLocation(f"{settings.lake_root}/bronze/shop_orders")
        silver = TableLocation(f"{settings.lake_root}/silver/shop_orders")
        assert {r["_event_date"] for r in rows(silver)} >= {first, last}

        # Additive: a new nullable column (the generated files carry coupon_code, undeclared so far).
        contract.write_text(
            contract.read_text().replace(
                "  - {name: currency,", "  - {name: coupon_code,    type: string}\n  - {name: currency,"
            )
        )
        additive = version(contract)
        wait_for(
            "the additive version to be live",
            lambda: op_version(server, ["bronze", "shop_orders"]) == additive,
            log,
        )
        for table in (bronze, silver):
            wait_for(
                f"{table.uri} to gain coupon_code",
                lambda t=table: "coupon_code" in t.open().schema().to_arrow().names,
                log,
            )
            assert all(r["coupon_code"] is None for r in rows(table)), table.uri  # old rows null
        accepted = Path(settings.lake_root) / "_ops" / "contracts" / "shop_orders.yaml"
        assert version(accepted) == additive

        # Breaking: another primary key. Refused, the reason in the tick, the old definition loaded.
        refused_at = time.time()
        contract.write_text(
            contract.read_text().replace("primary_key: [order_id]", "primary_key: [customer_id]")
        )
        tick = wait_for(
            "a tick refusing the edit",
            lambda: next(
                (t for t in ticks_since(server, refused_at) if "refused" in (t["skipReason"] or "")), None
            ),
            log,
        )
        assert (
            "shop_orders.yaml: breaking change refused, the accepted version keeps running: primary_key changed"
            in tick["skipReason"]
        )
        assert "reloading" not in tick["skipReason"]
        assert op_version(server, ["bronze", "shop_orders"]) == additive
        evaluation = server.graphql(CHECK)["assetCheckExecutions"][0]["evaluation"]
        assert evaluation["success"] is False
        details = next(e["mdStr"] for e in evaluation["metadataEntries"] if e["label"] == "details")
        assert "shop_orders.yaml" in details and "primary_key changed" in details
