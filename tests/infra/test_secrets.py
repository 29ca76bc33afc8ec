"""Secrets never leave the environment: a run with sentinel secrets (the S3 keys of a lake on
moto, a PostgreSQL password, an API token, the PII key), succeeding and failing, then every byte
the run left behind (the Dagster instance's storage and logs, the lake's objects) is scanned for
them. And a variable that is missing fails the start-up, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.platform import InvalidContractsError, build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from tests.helpers import REPO
from tests.infra.api_server import TOKEN, Api
from tests.infra.services import MotoServer, PostgresDatabase
from tests.infra.test_http_extract import CONTRACT as HTTP_CONTRACT
from tests.infra.test_http_extract import PAGINATIONS, order

pytestmark = pytest.mark.slow

DAY = date(2026, 3, 1)
PG_PASSWORD = "sentinel-pg-password-4b1e"
AWS_SECRET = "sentinel-aws-secret-91cd"
PII = "sentinel-pii-key-77aa0f3c"
VAULT = "sentinel-vault-key-5d02e9"
SENTINELS = [PG_PASSWORD, AWS_SECRET, PII, VAULT, TOKEN]
PG_CONTRACT = """\
name: shop_customers
owner: test-team
extract: {kind: postgres, connection_env: LAKEHOUSE_TEST_SHOP_DB, query: "SELECT * FROM TABLE", watermark: updated_at}
partitions: {start: 2026-03-01, event_time: updated_at, timezone: UTC, lookback_days: 0}
primary_key: [customer_id]
columns:
  - {name: customer_id, type: int64,     nullable: false}
  - {name: email,       type: string,    pii: tokenize}
  - {name: updated_at,  type: timestamp, nullable: false}
volume: {min_rows: 0}
"""


def scan(paths: dict[str, bytes]) -> dict[str, list[str]]:
    return {s: [name for name, data in paths.items() if s.encode() in data] for s in SENTINELS}


def test_sentinel_secrets_reach_no_event_log_metadata_or_table(
    moto: MotoServer, postgres: PostgresDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = "customers_secret_test"
    postgres.execute(f"CREATE TABLE {table} (customer_id bigint, email text, updated_at timestamptz)")
    postgres.execute(f"INSERT INTO {table} VALUES (1, 'ann@example.com', '2026-03-01 10:00+00')")
    api = Api(records=[order(n, DAY) for n in range(1, 6)])
    api.start()
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "shop_customers.yaml").write_text(PG_CONTRACT.replace("TABLE", table))
    (sources / "api_orders.yaml").write_text(
        HTTP_CONTRACT.replace("URL", api.url("page")).replace("PAGINATION", PAGINATIONS["page"])
    )
    bucket = moto.bucket()
    environ = {
        **moto.environ(),
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,  # moto checks no signature: any secret works
        "LAKEHOUSE_PROFILE": "prod",
        "LAKEHOUSE_LAKE_ROOT": f"s3://{bucket}/lake",
        "LAKEHOUSE_LANDING_ROOT": f"s3://{bucket}/landing",
        "LAKEHOUSE_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "LAKEHOUSE_SOURCES_DIR": str(sources),
        "LAKEHOUSE_PROJECT_DIR": str(REPO),
        "LAKEHOUSE_PII_KEY": PII,
        "LAKEHOUSE_VAULT_KEY": VAULT,
        "LAKEHOUSE_TEST_SHOP_DB": postgres.url(password=PG_PASSWORD),  # trust auth accepts any
        "LAKEHOUSE_TEST_API_TOKEN": TOKEN,
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    try:
        defs = build_definitions(Settings.from_env(), strict=True)
        selection = [
            "bronze/shop_customers",
            "silver/shop_customers",
            "bronze/api_orders",
            "silver/api_orders",
        ]
        with dg.DagsterInstance.local_temp(str(home)) as instance:
            assert materialize_range(defs, DAY, DAY, instance=instance, selection=selection).success
            # And a failing run: the database refuses, with the password in the connection string.
            monkeypatch.setenv("LAKEHOUSE_TEST_SHOP_DB", f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:1/x")
            failed = materialize_range(
                defs, DAY, DAY, instance=instance, selection=selection[:1], raise_on_error=False
            )
            assert not failed.success
            # The UI shows the resources' config: the variables' names, never their values.
            for run in instance.get_runs():
                snapshot = instance.get_job_snapshot(run.job_snapshot_id)
                assert all(s not in str(snapshot) + str(run.run_config) for s in SENTINELS)
    finally:
        api.stop()
    left_behind = {str(p): p.read_bytes() for p in home.rglob("*") if p.is_file()}
    assert any(name.endswith(".db") for name in left_behind)  # the event log and runs, on disk
    client = moto.client()
    for obj in client.list_objects_v2(Bucket=bucket)["Contents"]:
        left_behind[obj["Key"]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    assert any("_ops/dead_letters/_delta_log" in k for k in left_behind)  # the failure was recorded
    assert scan(left_behind) == {s: [] for s in SENTINELS}


def test_a_missing_variable_fails_the_start_up_naming_it(tmp_path: Path) -> None:
    """The code location's module itself (what the code server loads) refuses to start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "AWS_"))}
    env.update(
        {"LAKEHOUSE_PROFILE": "prod", "LAKEHOUSE_LAKE_ROOT": "s3://lake/lh", "DAGSTER_HOME": str(tmp_path)}
    )
    loaded = subprocess.run(
        [sys.executable, "-c", "import lakehouse.definitions as location; location.defs()"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert loaded.returncode != 0
    assert "LAKEHOUSE_PROFILE=prod needs: LAKEHOUSE_LANDING_ROOT" in loaded.stderr
    assert "AWS_SECRET_ACCESS_KEY" in loaded.stderr and "LAKEHOUSE_PII_KEY" in loaded.stderr


def test_a_source_whose_secret_is_unset_is_isolated_naming_the_variable(tmp_path: Path, monkeypatch) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "shop_customers.yaml").write_text(PG_CONTRACT.replace("TABLE", "t"))
    monkeypatch.delenv("LAKEHOUSE_TEST_SHOP_DB", raising=False)
    settings = Settings.from_env(
        {"LAKEHOUSE_SOURCES_DIR": str(sources), "LAKEHOUSE_DATA_DIR": str(tmp_path / "d")}
    )
    with pytest.raises(
        InvalidContractsError,
        match=r"extract.connection_env: environment variable LAKEHOUSE_TEST_SHOP_DB is not set",
    ):
        build_definitions(settings, strict=True)
    defs = build_definitions(settings)  # not strict: the other sources load, this one is listed
    assert "invalid_contracts" in defs.metadata
    assert dg.AssetKey(["bronze", "shop_customers"]) not in {
        k for a in defs.assets or [] for k in getattr(a, "keys", [])
    }
