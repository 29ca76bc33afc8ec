"""PostgreSQL extraction against the machine's real PostgreSQL, through real Dagster runs.

A table of its own per test in a database created for the test run. The source is read with a
server-side cursor in small chunks; the watermark lives in the lake's ``_ops/watermarks`` and
moves only after bronze commits.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.extract.watermarks import WatermarkStore
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from lakehouse.tables.dead_letters import DeadLetterQueue, dead_letter_location
from lakehouse.tables.location import TableLocation
from tests.helpers import make_settings, rows
from tests.infra.services import PostgresDatabase

pytestmark = pytest.mark.slow

ENV = "LAKEHOUSE_TEST_SHOP_DB"
CONTRACT = """\
name: shop_orders
owner: test-team
description: Orders from the shop's PostgreSQL database.
extract: {kind: postgres, connection_env: LAKEHOUSE_TEST_SHOP_DB, table: public.TABLE, watermark: updated_at,
          lookback: 1h, chunk_rows: CHUNK}
partitions: {start: 2026-03-01, event_time: updated_at, timezone: UTC, lookback_days: 1}
primary_key: [order_id]
columns:
  - {name: order_id,   type: int64,           nullable: false}
  - {name: customer,   type: string}
  - {name: amount,     type: "decimal(10,2)", nullable: false}
  - {name: status,     type: string}
  - {name: updated_at, type: timestamp,       nullable: false}
volume: {min_rows: 0}
"""
DAY1, DAY2, DAY3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
SELECTION = ["bronze/shop_orders", "silver/shop_orders"]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


class ShopSource:
    """A table in the test database, a contract over it, and a lakehouse under ``root``."""

    def __init__(self, database: PostgresDatabase, root: Path, *, chunk: int = 50, dsn: str | None = None):
        self.database = database
        self.table = f"orders_{uuid.uuid4().hex[:8]}"
        database.execute(
            f"CREATE TABLE {self.table} (order_id bigint PRIMARY KEY, customer text, amount numeric(10,2) NOT NULL, "
            "status text, updated_at timestamptz NOT NULL)"
        )
        database.execute(f"CREATE INDEX ON {self.table} (updated_at)")
        sources = root / "sources"
        sources.mkdir()
        (sources / "shop_orders.yaml").write_text(
            CONTRACT.replace("TABLE", self.table).replace("CHUNK", str(chunk))
        )
        os.environ[ENV] = dsn or database.url()
        self.settings: Settings = make_settings(root, sources)
        self.defs = build_definitions(self.settings, strict=True)
        self.instance = dg.DagsterInstance.ephemeral()
        lake = self.settings.lake_root
        self.bronze = TableLocation(f"{lake}/bronze/shop_orders")
        self.silver = TableLocation(f"{lake}/silver/shop_orders")
        self.watermarks = WatermarkStore(TableLocation(f"{lake}/_ops/watermarks"))
        self.dead_letters = DeadLetterQueue(dead_letter_location(lake))

    def insert(self, *orders: tuple[int, str, str, str, datetime]) -> None:
        with self.database.connect() as con, con.cursor() as cur:
            cur.executemany(f"INSERT INTO {self.table} VALUES (%s, %s, %s, %s, %s)", orders)

    def update(self, order_id: int, status: str, updated_at: datetime) -> None:
        self.database.execute(
            f"UPDATE {self.table} SET status = %s, updated_at = %s WHERE order_id = %s",
            (status, updated_at, order_id),
        )

    def run(self, start: date, end: date) -> dg.ExecuteInProcessResult:
        return materialize_range(
            self.defs, start, end, instance=self.instance, selection=SELECTION, raise_on_error=False
        )

    def watermark(self) -> datetime | None:
        mark = self.watermarks.get("shop_orders")
        return mark.value if mark else None

    def landing_files(self) -> dict[str, bytes]:
        root = Path(self.settings.landing_root)
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def shop(postgres: PostgresDatabase, tmp_path: Path):
    source = ShopSource(postgres, tmp_path)
    yield source
    os.environ.pop(ENV, None)


def test_initial_and_incremental_loads_with_a_lookback_for_backdated_updates(shop: ShopSource) -> None:
    # Initial load: 120 orders over two days.
    shop.insert(
        *[
            (i, f"c{i % 7}", f"{i}.50", "new", at(DAY1 if i <= 60 else DAY2, i % 24, i % 60))
            for i in range(1, 121)
        ]
    )
    first = shop.run(DAY1, DAY2)
    assert first.success
    assert rows(shop.bronze, "SELECT count(*) AS n FROM t")[0]["n"] == 120
    assert sorted(shop.landing_files()) == [
        "shop_orders/2026-03-01/initial.parquet",
        "shop_orders/2026-03-02/initial.parquet",
    ]
    watermark = shop.watermark()
    assert watermark == at(DAY2, 23, 59)  # order 119: hour 23, minute 59
    bronze_meta = first.asset_materializations_for_node("bronze__shop_orders")[-1].metadata
    assert bronze_meta["extracted_rows"].value == 120

    # Incremental: new orders and updates on day 3; one update backdated inside the lookback
    # (a transaction that committed late), one backdated beyond it.
    shop.insert(*[(i, "c1", "9.99", "new", at(DAY3, 8, i - 200)) for i in range(200, 230)])
    shop.update(5, "paid", at(DAY3, 9))
    shop.update(7, "refunded", watermark - timedelta(minutes=30))  # within the 1h lookback
    shop.update(8, "lost", watermark - timedelta(hours=3))  # beyond it: not read
    second = shop.run(DAY3, DAY3)
    assert second.success
    # The event time is updated_at, so a changed order has a row in the day it changed (silver's
    # documented limit for an event date that moves beyond lookback_days); its latest is current.
    latest = "SELECT order_id, arg_max(status, updated_at) AS status FROM t GROUP BY order_id"
    statuses = {r["order_id"]: r["status"] for r in rows(shop.silver, latest)}
    assert len(statuses) == 150
    assert statuses[5] == "paid" and statuses[7] == "refunded"
    assert statuses[8] == "new"  # the lookback is the bound of what backdating can reach
    assert shop.watermark() == at(DAY3, 9)
    stem = "since-20260302T235900000000Z"
    assert f"shop_orders/2026-03-02/{stem}.parquet" in shop.landing_files()  # the lookback's day
    assert f"shop_orders/2026-03-03/{stem}.parquet" in shop.landing_files()

    # A backfill of old days reads nothing new: bronze comes from the landing files.
    again = shop.run(DAY1, DAY1)
    assert again.success
    assert shop.watermark() == at(DAY3, 9)


def test_the_source_going_down_mid_read_leaves_everything_as_it_was(shop: ShopSource) -> None:
    shop.insert(*[(i, "c", "1.00", "new", at(DAY1, 10)) for i in range(1, 11)])
    assert shop.run(DAY1, DAY1).success
    committed, files_before = shop.watermark(), shop.landing_files()
    bronze_version = shop.bronze.open().version()
    shop.database.execute(
        f"INSERT INTO {shop.table} SELECT g, 'c', 2.00, 'new', timestamptz '2026-03-02 00:00+00' + g * interval '1 second' "
        "FROM generate_series(100, 20099) AS g"
    )

    terminated, done = threading.Event(), threading.Event()

    def pull_the_plug() -> None:
        """Once the extractor has fetched a chunk, terminate its backend (as a crash would)."""
        deadline = time.monotonic() + 60
        con = shop.database.connect()  # not `with con`: that would be one transaction, and
        try:  # pg_stat_activity is a snapshot per transaction
            cur = con.cursor()
            while time.monotonic() < deadline and not terminated.is_set() and not done.is_set():
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'lakehouse:shop_orders' AND query LIKE 'FETCH%'"
                )
                if cur.fetchall():
                    terminated.set()
                time.sleep(0.005)
        finally:
            con.close()

    plug = threading.Thread(target=pull_the_plug)
    plug.start()
    result = shop.run(DAY2, DAY2)
    done.set()
    plug.join()
    assert terminated.is_set()
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.message
    assert "shop_orders: PostgreSQL read failed" in message and "terminat" in message
    assert "watermark stays at 2026-03-01T10:00:00+00:00" in message
    assert shop.watermark() == committed  # unadvanced
    assert shop.landing_files() == files_before  # nothing half-written
    assert shop.bronze.open().version() == bronze_version
    (entry,) = shop.dead_letters.open_entries()
    assert (entry.source, entry.kind, entry.first_day, entry.last_day) == (
        "shop_orders",
        "source down",
        DAY2,
        DAY2,
    )
    assert shop.database.url() not in entry.error + entry.traceback

    # The source is back: the same run completes, and the dead letter is resolved.
    assert shop.run(DAY2, DAY2).success
    assert (
        rows(shop.bronze, "SELECT count(*) AS n FROM t WHERE _event_date = DATE '2026-03-02'")[0]["n"]
        == 20000
    )
    assert shop.watermark() == datetime(2026, 3, 2, 5, 34, 59, tzinfo=UTC)
    assert shop.dead_letters.open_entries() == []


def test_a_database_that_refuses_connections_is_a_clear_error_and_a_dead_letter(
    postgres: PostgresDatabase, tmp_path: Path
) -> None:
    secret = "sentinel-password-Zq81"
    shop = ShopSource(postgres, tmp_path, dsn=f"postgresql://postgres:{secret}@127.0.0.1:1/nowhere")
    try:
        result = shop.run(DAY1, DAY1)
    finally:
        os.environ.pop(ENV, None)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "shop_orders: PostgreSQL connection failed" in failure.step_failure_data.error.message
    assert "Connection refused" in failure.step_failure_data.error.message
    (entry,) = shop.dead_letters.open_entries()
    assert entry.kind == "source down" and secret not in entry.error + entry.traceback
    assert secret not in str(result.all_events)
    assert shop.watermark() is None and not shop.landing_files()
