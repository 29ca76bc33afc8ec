"""A dbt project of the user's own as gold, with every kind of model dbt has, run by the
README's own range command (``dg launch --assets '*' --partition-range``).

The project reads one silver source (``events``, on generated data) through:
- ``stg_events``: ephemeral, with a test, which becomes a check of a model compiled from it;
- ``daily_events``: a microbatch incremental (daily partitions, rebuilt by day);
- ``event_kinds``: a plain table (rebuilt whole: one unpartitioned materialisation per run);
- ``buys``: a view with a string filter, which must keep working once dbt has exited;
- source tests on the silver table's string column (accepted_values), as checks of ``silver/events``.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.platform import build_definitions
from lakehouse.settings import Settings
from tests.helpers import EVENTS_CONTRACT, HEADER, REPO, make_settings, write_landing

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
DAY = date(2026, 3, 10)
LOOKBACK = [DAY - timedelta(days=2), DAY - timedelta(days=1)]
KINDS = ["click", "click", "click", "buy", " Buy ", "refund"]  # 'refund' breaks a warn test

PROJECT_FILES = {
    "dbt_project.yml": """
        name: shop
        version: "1.0.0"
        config-version: 2
        profile: lakehouse
        flags: {send_anonymous_usage_stats: false}
    """,
    "models/_sources.yml": """
        version: 2
        sources:
          - name: silver
            tables:
              - name: events
                config: {event_time: _event_date}
                columns:
                  - name: kind
                    data_tests:
                      - accepted_values:
                          arguments: {values: [click, buy, refund]}
                      - accepted_values:
                          arguments: {values: [click, buy]}
                          config: {severity: warn}
    """,
    "models/_models.yml": """
        version: 2
        models:
          - name: stg_events
            columns:
              - name: event_id
                data_tests: [not_null]
    """,
    "models/stg_events.sql": """
        {{ config(materialized='ephemeral', event_time='event_date') }}
        select event_id, kind, amount, _event_date as event_date from {{ source('silver', 'events') }}
    """,
    "models/daily_events.sql": """
        {{ config(materialized='incremental', incremental_strategy='microbatch', event_time='event_date',
                  batch_size='day', begin='2026-01-01') }}
        select event_date, count(*) as events, count(*) filter (where kind = 'buy') as buys
        from {{ ref('stg_events') }}
        group by event_date
    """,
    "models/event_kinds.sql": """
        {{ config(materialized='table') }}
        select kind, count(*) as events from {{ ref('stg_events') }} group by kind
    """,
    "models/buys.sql": """
        {{ config(materialized='view') }}
        select event_id, amount from {{ source('silver', 'events') }} where kind = 'buy'
    """,
}


def events_csv(day: date, rng: random.Random, count: int) -> tuple[str, Counter]:
    lines, kinds = [HEADER], Counter()
    for i in range(count):
        kind = rng.choice(KINDS)
        kinds[kind.strip().lower()] += 1
        lines.append(
            f"{day:%m%d}-{i},acc{i % 5},,{kind},{rng.randint(1, 99)}.50,1,true,{day}T{i % 24:02}:00:00Z"
        )
    return "\n".join(lines) + "\n", kinds


class Shop:
    """The user's project and one source's landing files, run once by the README's command."""

    def __init__(self, root: Path):
        sources = root / "sources"
        sources.mkdir()
        (sources / "events.yaml").write_text(textwrap.dedent(EVENTS_CONTRACT))
        self.project = root / "shop"
        for name, text in PROJECT_FILES.items():
            (self.project / name).parent.mkdir(parents=True, exist_ok=True)
            (self.project / name).write_text(textwrap.dedent(text).lstrip())
        shutil.copy(REPO / "dbt_models" / "profiles.yml", self.project / "profiles.yml")
        base = make_settings(root, sources)
        self.settings = Settings.from_env(
            {**base.as_environ(), "LAKEHOUSE_DBT_PROJECT_DIR": str(self.project)}
        )
        rng = random.Random(5)
        self.kinds: Counter = Counter()
        for day in [*LOOKBACK, DAY]:
            text, kinds = events_csv(day, rng, 40)
            self.kinds += kinds
            write_landing(self.settings.landing_root, f"events/{day}/events.csv", text, arrived=day)
        self.home = root / "home"
        self.home.mkdir()
        self.env = {**os.environ, **self.settings.as_environ(), "DAGSTER_HOME": str(self.home)}
        self.env.pop("LAKEHOUSE_STRICT_CONTRACTS")
        self.parse = self.run([str(BIN / "lakehouse"), "dbt", "parse"])
        # The README's command, as written, from the repository (a dg project).
        self.launch = self.run(
            [str(BIN / "dg"), "launch", "--assets", "*", "--partition-range", f"{DAY}...{DAY}"], cwd=REPO
        )

    def run(self, command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run(command, env=self.env, cwd=cwd, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def checks(self) -> dict[str, dg.AssetCheckEvaluation]:
        with self.instance() as instance:
            records = instance.get_records_for_run(
                run_id=instance.get_runs()[0].run_id,
                of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION,
            ).records
            return {
                f"{e.asset_key.to_user_string()}:{e.check_name}": e
                for e in (r.event_log_entry.dagster_event.event_specific_data for r in records)
            }


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return Shop(tmp_path_factory.mktemp("shop"))


def test_the_readme_range_command_runs_partitioned_and_unpartitioned_models_in_one_run(shop: Shop) -> None:
    with shop.instance() as instance:
        (run,) = instance.get_runs()
        assert run.tags["dagster/asset_partition_range_start"] == DAY.isoformat()
    graph = build_definitions(shop.settings).resolve_asset_graph()
    key = dg.AssetKey.from_user_string
    for name in ("bronze/events", "silver/events", "gold/daily_events", "gold/event_kinds", "gold/buys"):
        node = graph.get(key(name))
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), name  # the CLI's range needs it
    assert graph.get(key("gold/daily_events")).partitions_def is not None


def test_a_table_or_view_model_is_unpartitioned_and_materialised_once_per_run(shop: Shop) -> None:
    graph = build_definitions(shop.settings).resolve_asset_graph()
    key = dg.AssetKey.from_user_string
    assert graph.get(key("gold/event_kinds")).partitions_def is None
    assert graph.get(key("gold/buys")).partitions_def is None
    assert key("silver/events") in graph.get(key("gold/event_kinds")).parent_keys
    with shop.instance() as instance:
        for name in ("gold/event_kinds", "gold/buys"):
            records = instance.fetch_materializations(key(name), limit=100).records
            assert [r.partition_key for r in records] == [None], name
        # The microbatch model keeps its days: the run's, and the lookback it rebuilt.
        assert sorted(instance.get_materialized_partitions(key("gold/daily_events"))) == [
            d.isoformat() for d in [*LOOKBACK, DAY]
        ]
    with duckdb.connect(shop.settings.warehouse_path, read_only=True) as con:
        assert dict(con.execute("SELECT kind, events FROM event_kinds").fetchall()) == dict(shop.kinds)


def test_string_filters_on_silver_work_in_views_and_source_tests(shop: Shop) -> None:
    checks = shop.checks()
    passing = next(
        v for k, v in checks.items() if k.startswith("silver/events:source_accepted_values") and v.passed
    )
    assert passing.severity == dg.AssetCheckSeverity.ERROR
    (warned,) = [
        v for k, v in checks.items() if k.startswith("silver/events:source_accepted_values") and not v.passed
    ]
    assert warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["dagster_dbt/failed_row_count"].value == 1  # 'refund', the one value outside

    # The view reads silver through the warehouse's own silver.events view, after dbt has exited.
    with shop.instance() as instance:
        record = instance.fetch_materializations(dg.AssetKey(["gold", "buys"]), limit=1).records[0]
        assert record.asset_materialization.metadata["dagster/row_count"].value == shop.kinds["buy"]
    with duckdb.connect(shop.settings.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM buys").fetchall() == [(shop.kinds["buy"],)]
        assert con.execute("SELECT count(*) FROM silver.events WHERE kind >= 'c'").fetchall() == [
            (shop.kinds["click"] + shop.kinds["refund"],)
        ]


def test_a_test_of_an_ephemeral_model_is_a_check_of_the_model_compiled_from_it(shop: Shop) -> None:
    graph = build_definitions(shop.settings).resolve_asset_graph()
    owner = dg.AssetKey(["gold", "daily_events"])  # the first of the two models that select from it
    assert dg.AssetCheckKey(owner, "not_null_stg_events_event_id") in graph.get_check_keys_for_assets({owner})
    assert "gold/stg_events" not in {k.to_user_string() for k in graph.get_all_asset_keys()}
    evaluation = shop.checks()["gold/daily_events:not_null_stg_events_event_id"]
    assert evaluation.passed
