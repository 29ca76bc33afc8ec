"""Contracts of the live kinds (postgres, http): what they accept, and errors naming file and field."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from lakehouse.contracts import ContractError, parse_contract
from lakehouse.extract.window import window_for
from tests.helpers import REPO

POSTGRES = """
name: shop_orders
owner: t
extract: {kind: postgres, connection_env: SHOP_DB_URL, table: public.orders, watermark: updated_at, lookback: 1h}
partitions: {start: 2026-01-01, event_time: updated_at, timezone: Europe/Madrid}
primary_key: [order_id]
columns:
  - {name: order_id, type: int64, nullable: false}
  - {name: updated_at, type: timestamp, nullable: false}
  - {name: note, type: string}
"""
HTTP = """
name: api_orders
owner: t
extract:
  kind: http
  url: https://api.example.com/v1/orders
  records: data
  auth: {env: API_TOKEN}
  pagination: {style: cursor, cursor_path: meta.next}
  since_param: updated_since
  watermark: updated_at
partitions: {start: 2026-01-01, event_time: updated_at}
primary_key: [order_id]
columns:
  - {name: order_id, type: int64, nullable: false}
  - {name: updated_at, type: timestamp, nullable: false}
"""


def problems(text: str, name: str) -> list[str]:
    with pytest.raises(ContractError) as error:
        parse_contract(text, Path(f"sources/{name}.yaml"))
    assert str(error.value).startswith(f"sources/{name}.yaml: invalid source contract")
    return [str(p) for p in error.value.problems]


def test_live_kinds_land_under_their_name_in_their_format() -> None:
    postgres = parse_contract(POSTGRES, "sources/shop_orders.yaml").extract
    assert (postgres.path, postgres.format, postgres.secret_env) == (
        "shop_orders/{date}/*.parquet",
        "parquet",
        "SHOP_DB_URL",
    )
    http = parse_contract(HTTP, "sources/api_orders.yaml").extract
    assert (http.path, http.format, http.secret_env) == ("api_orders/{date}/*.jsonl", "jsonl", "API_TOKEN")
    assert http.file_path(date(2026, 1, 2), "initial") == "api_orders/2026-01-02/initial.jsonl"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "table: public.orders",
            "table: orders; drop table x",
            "extract.table: expected table or schema.table",
        ),
        (", table: public.orders", "", "extract: give exactly one of 'table' and 'query'"),
        ("table: public.orders", "query: 'DELETE FROM orders'", "extract.query: must be a SELECT"),
        (
            "watermark: updated_at",
            "watermark: note",
            "extract.watermark: column 'note' must be of type timestamp",
        ),
        ("watermark: updated_at", "watermark: gone", "extract.watermark: 'gone' is not a declared column"),
        ("lookback: 1h", "lookback: soon", "extract.lookback: expected a duration like"),
        (
            "lookback: 1h",
            "lookback: 1h, chunk_rows: 0",
            "extract.chunk_rows: Input should be greater than or equal to 1",
        ),
        ("lookback: 1h", "lookback: 1h, format: csv", "extract.format: Input should be 'parquet'"),
        (
            "lookback: 1h",
            "lookback: 1h, path: 'x/{date}/data.parquet'",
            "extract.path: the file name must have one '*'",
        ),
    ],
)
def test_postgres_contract_errors_name_the_field(old: str, new: str, expected: str) -> None:
    found = problems(POSTGRES.replace(old, new), "shop_orders")
    assert any(p.startswith(expected) for p in found), found


def test_a_connection_string_pasted_into_the_contract_is_refused_and_not_echoed() -> None:
    found = problems(POSTGRES.replace("SHOP_DB_URL", "postgresql://u:hunter2@db/shop"), "shop_orders")
    assert found == [
        "extract.connection_env: must be the name of an environment variable (A-Z, 0-9, _) that holds the "
        "secret, not the secret itself"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "https://api.example.com",
            "https://user:pw@api.example.com",
            "extract.url: must not carry credentials",
        ),
        (
            "https://api.example.com/v1/orders",
            "ftp://x/y",
            "extract.url: expected an http:// or https:// URL",
        ),
        (
            "{style: cursor, cursor_path: meta.next}",
            "{style: pages}",
            "extract.pagination: Input tag 'pages'",
        ),
        (
            "auth: {env: API_TOKEN}",
            "auth: {env: api-token}",
            "extract.auth.env: must be the name of an environment variable",
        ),
        (
            "since_param: updated_since",
            "since_param: updated_since\n  retry: {max_attempts: 0}",
            "extract.retry.max_attempts",
        ),
        (
            "since_param: updated_since",
            "since_param: updated_since\n  retry: {backoff: fast}",
            "extract.retry.backoff",
        ),
        (
            "since_param: updated_since",
            "since_param: updated_since\n  token: abc",
            "extract.token: unknown field",
        ),
    ],
)
def test_http_contract_errors_name_the_field(old: str, new: str, expected: str) -> None:
    found = problems(HTTP.replace(old, new), "api_orders")
    assert any(p.startswith(expected) for p in found), found


def test_the_window_reads_to_the_end_of_the_runs_last_day_from_the_watermark_minus_lookback() -> None:
    contract = parse_contract(POSTGRES, "sources/shop_orders.yaml")
    initial = window_for(contract, None, date(2026, 1, 3))
    assert initial is not None and initial.lower_inclusive and initial.stem == "initial"
    assert (initial.lower.isoformat(), initial.until.isoformat()) == (
        "2026-01-01T00:00:00+01:00",
        "2026-01-04T00:00:00+01:00",
    )
    assert [d.isoformat() for d in initial.days] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    committed = datetime(2026, 1, 3, 22, 30, tzinfo=UTC)  # 23:30 in Madrid
    later = window_for(contract, committed, date(2026, 1, 4))
    assert later is not None and not later.lower_inclusive
    assert (
        later.lower == datetime(2026, 1, 3, 21, 30, tzinfo=UTC)
        and later.stem == "since-20260103T223000000000Z"
    )
    assert [d.isoformat() for d in later.days] == ["2026-01-03", "2026-01-04"]
    assert window_for(contract, committed, date(2026, 1, 2)) is None  # an old backfill reads nothing new


def test_live_sources_on_an_s3_lake_load_without_boto3_or_psycopg2(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "shop_orders.yaml").write_text(POSTGRES)
    (sources / "api_orders.yaml").write_text(HTTP)
    env = {
        **os.environ,
        "LAKEHOUSE_SOURCES_DIR": str(sources),
        "LAKEHOUSE_LAKE_ROOT": "s3://lake/lh",
        "LAKEHOUSE_LANDING_ROOT": "s3://lake/landing",
        "LAKEHOUSE_STRICT_CONTRACTS": "1",
        "SHOP_DB_URL": "postgresql://x@y/z",
        "API_TOKEN": "t",
        "LAKEHOUSE_PII_KEY": "k",
    }
    code = (
        "import sys, lakehouse.definitions as location; d = location.defs(); "
        "import dagster as dg; assert d.resolve_assets_def(dg.AssetKey(['bronze', 'shop_orders'])); "
        "print(','.join(m for m in ('boto3', 'botocore', 'psycopg2', 'deltalake', 'pyarrow') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip() == ""
