"""A reference table refreshed whole (``partitions.grain: none``): unpartitioned bronze and
silver assets, loaded in the same range run as the daily sources, joined by a daily gold model;
a new delivery replaces the table, keys it no longer has included.

The daily data is the demo's; the currencies come from a small generator of their own.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from lakehouse.tables.location import TableLocation
from tests.helpers import REPO, rows

pytestmark = pytest.mark.slow

START, END = date(2026, 8, 1), date(2026, 8, 2)

CURRENCIES = """\
name: currencies
owner: finance-data
description: The currencies prices are quoted in, with their rate to the euro; one file, replaced whole.
extract: {kind: files, path: "currencies/current/*.csv", format: csv}
partitions: {grain: none}
primary_key: [code]
columns:
  - {name: code,     type: string,          nullable: false, normalize: [trim, upper]}
  - {name: name,     type: string}
  - {name: eur_rate, type: "decimal(12,6)", nullable: false}
quality:
  - {expect: column_values_to_be_between, column: eur_rate, min_value: 0, severity: error}
volume: {min_rows: 1}
"""

SOURCES = """
version: 2
sources:
  - name: silver
    tables:
      - name: orders
        config:
          event_time: _event_date
      - name: currencies
"""

MART = """
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='order_date', begin='2026-01-01',
          batch_size='day') }}
select o._event_date as order_date, c.name as currency_name, count(*) as orders,
       sum(o.amount * c.eur_rate) as revenue_eur
from {{ source('silver', 'orders') }} o
join {{ source('silver', 'currencies') }} c on c.code = o.currency
where o.dq_valid
group by 1, 2
"""

NAMES = {"EUR": "Euro", "USD": "US dollar", "GBP": "Pound sterling", "CHF": "Swiss franc"}


def deliver_currencies(landing: Path, codes: list[str], seed: int, day: date) -> None:
    """The finance team's current file: every code with a rate (the euro's is 1), replacing the last."""
    rng = random.Random(seed)
    folder = landing / "currencies" / "current"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    lines = ["code,name,eur_rate"] + [
        f"{code},{NAMES[code]},{Decimal(1) if code == 'EUR' else Decimal(rng.randrange(50, 150)) / 100}"
        for code in codes
    ]
    path = folder / "currencies.csv"
    path.write_text("\n".join(lines) + "\n")
    stamp = datetime(day.year, day.month, day.day, 23, 55, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("whole")
    sources = root / "sources"
    shutil.copytree(REPO / "sources", sources)
    (sources / "currencies.yaml").write_text(CURRENCIES)
    project = root / "dbt_models"
    shutil.copytree(REPO / "dbt_models", project, ignore=shutil.ignore_patterns("logs", "gold_dbt_models-*"))
    # The user's own project (beside the demo's package): the silver tables it reads, and a mart.
    (project / "models" / "_silver__sources.yml").write_text(SOURCES)
    (project / "models" / "fct_revenue_by_currency.sql").write_text(MART)
    env = {
        "LAKEHOUSE_PROJECT_DIR": str(REPO),
        "LAKEHOUSE_DATA_DIR": str(root / "data"),
        "LAKEHOUSE_SOURCES_DIR": str(sources),
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
    landing = Path(settings.landing_root)
    generate(landing, START, END, orders_per_day=60, seed=14)
    deliver_currencies(landing, ["EUR", "USD", "GBP"], seed=1, day=START)
    (root / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(root / "home"))
    defs = build_definitions(settings, strict=True)
    first = materialize_range(defs, START, END, instance=instance)
    return settings, defs, instance, first


def test_a_table_refreshed_whole_is_unpartitioned_and_joined_by_daily_gold(lakehouse) -> None:
    settings, defs, _, first = lakehouse
    assert first.success
    graph = defs.resolve_asset_graph()
    for key in ("bronze/currencies", "silver/currencies"):
        assert graph.get(dg.AssetKey.from_user_string(key)).partitions_def is None
    mart = graph.get(dg.AssetKey.from_user_string("gold/fct_revenue_by_currency"))
    assert dg.AssetKey.from_user_string("silver/currencies") in mart.parent_keys
    assert mart.partitions_def is not None
    currencies = [e for e in first.get_asset_materialization_events() if e.asset_key.path[-1] == "currencies"]
    assert sorted((e.asset_key.path[0], e.partition) for e in currencies) == [
        ("bronze", None),
        ("silver", None),
    ]
    checks = {
        e.check_name: e.passed
        for e in first.get_asset_check_evaluations()
        if e.asset_key.path[-1] == "currencies" and e.partition is None
    }
    assert {
        "circuit_breaker",
        "reconciliation",
        "volume",
        "quality_column_values_to_be_between_eur_rate",
    } <= set(checks)
    assert all(checks.values()), checks
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        gold = con.execute(
            "SELECT currency_name, sum(orders) FROM fct_revenue_by_currency GROUP BY 1"
        ).fetchall()
        daily = con.execute("SELECT sum(orders) FROM fct_daily_sales").fetchall()[0][0]
    assert gold == [("Euro", daily)]  # the demo's orders are all in euros


def test_a_new_delivery_replaces_the_table_whole(lakehouse) -> None:
    settings, defs, instance, _ = lakehouse
    deliver_currencies(Path(settings.landing_root), ["EUR", "CHF"], seed=2, day=END)
    result = materialize_range(
        defs, END, END, instance=instance, selection=["bronze/currencies", "silver/currencies"]
    )
    assert result.success
    for layer in ("bronze", "silver"):
        held = rows(
            TableLocation(f"{settings.lake_root}/{layer}/currencies"), "SELECT code, _event_date FROM t"
        )
        assert sorted(r["code"] for r in held) == ["CHF", "EUR"], layer
        assert {r["_event_date"] for r in held} == {END}  # the day the file was delivered
    again = materialize_range(defs, END, END, instance=instance, selection=["silver/currencies"])
    silver = next(e for e in again.get_asset_materialization_events())
    assert silver.materialization.metadata["rows_inserted"].value == 0  # unchanged: nothing committed


def test_a_successful_gold_step_leaves_no_run_folder_in_the_dbt_target(lakehouse) -> None:
    """dagster-dbt makes a target folder per run (1-2 MB); once read it is removed, so a daily
    deployment's dbt project does not grow by one folder a run."""
    settings, _, _, first = lakehouse
    assert first.success
    target = Path(settings.dbt_project_dir) / "target"
    assert (target / "manifest.json").exists()
    assert (
        sorted(
            p.name for p in target.iterdir() if p.name.startswith(("gold_dbt_models-", "gold_dbt_tables-"))
        )
        == []
    )
