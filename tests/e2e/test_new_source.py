"""Adding a source is a YAML file: no Python changes, and its assets exist on the next load."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from lakehouse.tables.location import TableLocation
from tests.helpers import REPO, make_settings, rows, write_landing

RETURNS = """\
name: returns
owner: returns-team@example.com
description: Parcels sent back by customers.
extract: {kind: files, path: "returns/{date}/*.jsonl", format: jsonl}
partitions: {start: 2026-01-01, event_time: returned_at, lookback_days: 1}
primary_key: [return_id]
columns:
  - {name: return_id,   type: string,    nullable: false}
  - {name: order_id,    type: string,    nullable: false}
  - {name: reason,      type: string,    normalize: [trim, lower]}
  - {name: refund,      type: "decimal(12,2)"}
  - {name: returned_at, type: timestamp, nullable: false}
quality:
  - {expect: column_values_to_be_in_set, column: reason, value_set: [damaged, wrong_size, changed_mind], severity: warn}
"""

RETURNS_FILE = """
{"return_id": "r1", "order_id": "O1", "reason": " Damaged ", "refund": "19.99", "returned_at": "2026-06-01T10:00:00Z"}
{"return_id": "r2", "order_id": "O2", "reason": "lost", "refund": 5, "returned_at": "2026-06-01T11:00:00Z"}
"""

pytestmark = pytest.mark.slow


def test_a_third_source_is_one_yaml_file(tmp_path: Path, sources_dir: Path) -> None:
    settings = make_settings(tmp_path, sources_dir)
    before = build_definitions(settings).resolve_asset_graph().get_all_asset_keys()
    (sources_dir / "returns.yaml").write_text(RETURNS)
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    new = {
        dg.AssetKey(["landing", "returns"]),
        dg.AssetKey(["bronze", "returns"]),
        dg.AssetKey(["silver", "returns"]),
    }
    assert graph.get_all_asset_keys() - before == new
    bronze = graph.get(dg.AssetKey(["bronze", "returns"]))
    assert bronze.partitions_def == graph.get(dg.AssetKey(["bronze", "orders"])).partitions_def
    assert bronze.owners == ["returns-team@example.com"]

    day = date(2026, 6, 1)
    write_landing(settings.landing_root, "returns/2026-06-01/r.jsonl", RETURNS_FILE, arrived=day)
    result = materialize_range(defs, day, day, selection=["bronze/returns", "silver/returns"])
    assert result.success
    silver = {r["return_id"]: r for r in rows(TableLocation(f"{settings.lake_root}/silver/returns"))}
    assert silver["r1"]["reason"] == "damaged" and silver["r1"]["dq_valid"]
    assert silver["r2"]["dq_flags"] == ["column_values_to_be_in_set(reason)"]


RETURNS_SOURCE = """
      - name: returns
        config:
          event_time: _event_date
"""

# The names the demo's staging models used to take: the user's project owns them now.
STG_ORDERS = "select order_id, status from {{ source('silver', 'orders') }}"

DAILY_RETURNS = """
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='return_date',
          batch_size='day', begin='2026-01-01') }}
select _event_date as return_date, count(*) as returns, sum(refund) as refunded
from {{ source('silver', 'returns') }}
where dq_valid
group by 1
"""


def test_a_gold_model_for_the_new_source_is_a_dbt_model_and_a_parse(
    tmp_path: Path, sources_dir: Path
) -> None:
    """The README's recipe: a silver source entry, a model, `lakehouse dbt parse`; no Python.
    The project's own models take the usual names (stg_orders) beside the demo's package."""
    project = tmp_path / "dbt_models"
    shutil.copytree(
        REPO / "dbt_models",
        project,
        ignore=shutil.ignore_patterns("logs", "target", "dbt_packages"),
    )
    sources_yml = project / "models" / "_silver__sources.yml"
    sources_yml.write_text(
        sources_yml.read_text().replace("    tables: []\n", "    tables:" + RETURNS_SOURCE)
    )
    (project / "models" / "fct_daily_returns.sql").write_text(DAILY_RETURNS)
    (project / "models" / "stg_orders.sql").write_text(STG_ORDERS)
    (sources_dir / "returns.yaml").write_text(RETURNS)
    env = {
        "LAKEHOUSE_PROJECT_DIR": str(REPO),
        "LAKEHOUSE_DATA_DIR": str(tmp_path / "data"),
        "LAKEHOUSE_SOURCES_DIR": str(sources_dir),
        "LAKEHOUSE_DBT_PROJECT_DIR": str(project),
    }
    parsed = subprocess.run(
        [str(Path(sys.executable).with_name("lakehouse")), "dbt", "parse"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr

    settings = Settings.from_env(env)
    Path(settings.landing_root).mkdir(parents=True)
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    mart = dg.AssetKey(["gold", "fct_daily_returns"])
    assert dg.AssetKey(["silver", "returns"]) in graph.get(mart).parent_keys
    assert dg.AssetKey(["silver", "orders"]) in graph.get(dg.AssetKey(["gold", "stg_orders"])).parent_keys
    assert dg.AssetKey(["gold", "fct_daily_sales"]) in graph.get_all_asset_keys()  # the demo's, still there

    day = date(2026, 6, 1)
    write_landing(settings.landing_root, "returns/2026-06-01/r.jsonl", RETURNS_FILE, arrived=day)
    result = materialize_range(
        defs, day, day, selection=["bronze/returns", "silver/returns", "gold/fct_daily_returns"]
    )
    assert result.success
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT * FROM fct_daily_returns").fetchall() == [(day, 1, Decimal("19.99"))]
