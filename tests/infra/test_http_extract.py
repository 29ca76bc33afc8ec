"""HTTP extraction against a real server on loopback that misbehaves on purpose, through real
Dagster runs: paginations, the auth header, 429 Retry-After, 5xx backoff, a truncated page,
failure after the last attempt (dead-letter queue), and a changed field."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.extract.watermarks import WatermarkStore
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.dead_letters import DeadLetterQueue, dead_letter_location
from lakehouse.tables.location import TableLocation
from tests.helpers import make_settings, rows
from tests.infra.api_server import TOKEN, Api

pytestmark = pytest.mark.slow

ENV = "LAKEHOUSE_TEST_API_TOKEN"
DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
PAGINATIONS = {
    "page": "{style: page, page_param: page, size_param: per_page, size: 10}",
    "cursor": "{style: cursor, cursor_param: cursor, cursor_path: next_cursor, size_param: limit, size: 10}",
    "link": "{style: link}",
}
CONTRACT = """\
name: api_orders
owner: test-team
extract:
  kind: http
  url: URL
  records: data
  auth: {env: LAKEHOUSE_TEST_API_TOKEN}
  pagination: PAGINATION
  since_param: updated_since
  watermark: updated_at
  lookback: 0m
  retry: {max_attempts: 4, backoff: 200ms, max_backoff: 1s}
partitions: {start: 2026-03-01, event_time: updated_at, timezone: UTC, lookback_days: 1}
primary_key: [order_id]
columns:
  - {name: order_id,   type: int64,           nullable: false}
  - {name: amount,     type: "decimal(10,2)", nullable: false}
  - {name: status,     type: string}
  - {name: updated_at, type: timestamp,       nullable: false}
volume: {min_rows: 0}
"""


def order(n: int, day: date) -> dict:
    return {
        "order_id": n,
        "amount": n + 0.25,
        "status": "new",
        "updated_at": f"{day}T{n % 24:02d}:{n % 60:02d}:00+00:00",
    }


class ApiSource:
    def __init__(self, api: Api, root: Path, style: str = "page"):
        self.api = api
        sources = root / "sources"
        sources.mkdir()
        (sources / "api_orders.yaml").write_text(
            CONTRACT.replace("URL", api.url(style)).replace("PAGINATION", PAGINATIONS[style])
        )
        self.settings = make_settings(root, sources)
        self.defs = build_definitions(self.settings, strict=True)
        self.instance = dg.DagsterInstance.ephemeral()
        lake = self.settings.lake_root
        self.bronze = TableLocation(f"{lake}/bronze/api_orders")
        self.watermarks = WatermarkStore(TableLocation(f"{lake}/_ops/watermarks"))
        self.dead_letters = DeadLetterQueue(dead_letter_location(lake))

    def run(self, start: date, end: date) -> dg.ExecuteInProcessResult:
        return materialize_range(
            self.defs,
            start,
            end,
            instance=self.instance,
            selection=["bronze/api_orders"],
            raise_on_error=False,
        )

    def landing_files(self) -> list[str]:
        root = Path(self.settings.landing_root)
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def api() -> Iterator[Api]:
    os.environ[ENV] = TOKEN
    server = Api(records=[order(n, DAY1) for n in range(1, 26)])
    server.start()
    yield server
    server.stop()
    os.environ.pop(ENV, None)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    return next(
        e for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    ).step_failure_data.error.message


@pytest.mark.parametrize("style", ["page", "cursor", "link"])
def test_every_pagination_style_reads_every_record_with_the_token_in_a_header(
    api: Api, tmp_path: Path, style: str
) -> None:
    source = ApiSource(api, tmp_path, style)
    result = source.run(DAY1, DAY1)
    assert result.success
    assert rows(source.bronze, "SELECT count(DISTINCT order_id) AS n FROM t")[0]["n"] == 25
    assert len(api.seen) == 3  # 25 records, pages of 10
    for request in api.seen:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in str(request.query)
        assert request.query["updated_since"] == "2026-03-01T00:00:00+00:00"
    assert source.landing_files() == ["api_orders/2026-03-01/initial.jsonl"]
    assert TOKEN not in str(result.all_events)
    assert source.watermarks.get("api_orders").value.isoformat() == "2026-03-01T23:23:00+00:00"


def test_429_waits_exactly_its_retry_after_and_5xx_and_truncation_back_off(api: Api, tmp_path: Path) -> None:
    api.faults = {2: ["429", "500", "truncate"]}
    source = ApiSource(api, tmp_path)
    assert source.run(DAY1, DAY1).success
    page2 = [r.at for r in api.seen if r.query.get("page") == "2"]
    assert len(page2) == 4  # 429, 500, truncated, then the page
    gaps = [b - a for a, b in itertools.pairwise(page2)]
    assert 1.0 <= gaps[0] < 1.5  # Retry-After: 1, exactly (not the 200ms backoff)
    assert 0.4 <= gaps[1] < 0.9  # attempt 2 failed: backoff 200ms * 2
    assert 0.8 <= gaps[2] < 1.4  # attempt 3: 200ms * 4 (the 1s cap not reached)
    assert (
        rows(source.bronze, "SELECT count(*) AS n FROM t")[0]["n"] == 25
    )  # the truncated page re-read whole


def test_a_failure_after_the_last_attempt_goes_to_the_dead_letter_queue(api: Api, tmp_path: Path) -> None:
    api.faults = {2: ["500", "503", "garbage", "500"]}
    source = ApiSource(api, tmp_path)
    result = source.run(DAY1, DAY1)
    assert not result.success
    message = failure_message(result)
    assert f"api_orders: GET {api.url('page')} failed after 4 attempts; last: 500" in message
    assert "dead-letter entry was recorded" in message
    (entry,) = source.dead_letters.open_entries()
    assert (entry.kind, entry.first_day, entry.last_day) == ("source down", DAY1, DAY1)
    assert source.watermarks.get("api_orders") is None
    assert source.landing_files() == [] and source.bronze.open() is None
    assert TOKEN not in str(result.all_events) + entry.error + entry.traceback


def test_a_changed_field_stops_bronze_before_it_writes(api: Api, tmp_path: Path) -> None:
    renamed = [order(n, DAY2) for n in range(100, 105)]
    for record in renamed:
        record["total"] = record.pop("amount")  # the API renamed a field on day 2
    api.records += renamed
    source = ApiSource(api, tmp_path)
    result = source.run(DAY1, DAY2)
    assert not result.success
    message = failure_message(result)
    assert "circuit breaker tripped, nothing was written" in message
    assert "api_orders/2026-03-02/initial.jsonl: required field(s) amount in no record of the file" in message
    assert source.bronze.open() is None
    assert source.watermarks.get("api_orders") is None  # bronze did not commit: not advanced
    assert source.dead_letters.open_entries() == []  # the data's fault, not the source's
