"""End to end on S3 (moto in server mode on loopback): the demo's range materialised with
LAKEHOUSE_PROFILE=prod, a rerun idempotent, and the warehouse rebuilt from S3 alone."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from lakehouse.tables.location import TableLocation
from tests.helpers import PII_KEY, REPO, VAULT_KEY, rows
from tests.infra.services import MotoServer

pytestmark = pytest.mark.slow

START, END = date(2026, 3, 8), date(2026, 3, 10)
GOLD = "SELECT order_date, currency, orders, net_revenue FROM fct_daily_sales ORDER BY ALL"


def digests(location: TableLocation) -> list[str]:
    table = location.open()
    assert table is not None
    filesystem = location.connection.pyarrow_filesystem()
    return sorted(
        hashlib.sha256(filesystem.open_input_file(uri.removeprefix("s3://")).read()).hexdigest()
        for uri in table.file_uris()
    )


def test_the_demo_on_s3_reruns_idempotently_and_rebuilds_the_warehouse(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = moto.bucket()
    env = {
        **moto.environ(),
        "LAKEHOUSE_PROFILE": "prod",
        "LAKEHOUSE_LAKE_ROOT": f"s3://{bucket}/lake",
        "LAKEHOUSE_LANDING_ROOT": f"s3://{bucket}/landing",
        "LAKEHOUSE_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "LAKEHOUSE_PII_KEY": PII_KEY,
        "LAKEHOUSE_VAULT_KEY": VAULT_KEY,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    demo = subprocess.run(
        [
            str(REPO / ".venv/bin/lakehouse"),
            "demo",
            "--days",
            "3",
            "--orders-per-day",
            "100",
            "--end",
            str(END),
        ],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "succeeded" in demo.stdout
    keys = {o["Key"] for o in moto.client().list_objects_v2(Bucket=bucket)["Contents"]}
    assert "landing/orders/2026-03-10/orders_2026-03-10.csv" in keys
    for table in (
        "bronze/orders",
        "quarantine/orders",
        "silver/orders",
        "bronze/customers",
        "silver/customers",
    ):
        assert f"lake/{table}/_delta_log/00000000000000000000.json" in keys, table
    assert not (tmp_path / "data").exists()  # nothing of the lake went to local disk

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    lake = settings.lake_root
    bronze, silver = TableLocation(f"{lake}/bronze/orders"), TableLocation(f"{lake}/silver/orders")
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        gold = con.execute(GOLD).fetchall()
    assert sorted({str(day) for day, *_ in gold}) == ["2026-03-08", "2026-03-09", "2026-03-10"]
    before = (digests(bronze), silver.open().version(), rows(silver, "SELECT count(*) AS n FROM t"))

    defs = build_definitions(settings)
    with dg.DagsterInstance.get() as instance:
        rerun = materialize_range(defs, START, END, instance=instance, console_log_level="WARNING")
        assert rerun.success
        # Idempotent: bronze rewrote byte-identical files, silver's merge changed nothing.
        assert (
            digests(bronze),
            silver.open().version(),
            rows(silver, "SELECT count(*) AS n FROM t"),
        ) == before

        # The warehouse is a cache of gold: gone, it is rebuilt from the silver tables on S3.
        Path(settings.warehouse_path).unlink()
        rebuilt = materialize_range(
            defs, START, END, instance=instance, selection="group:gold", console_log_level="WARNING"
        )
        assert rebuilt.success
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        assert con.execute(GOLD).fetchall() == gold
