"""What users type: the Dagster CLI over a partition range, the demo, and definitions validation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.demo.generate import generate
from lakehouse.settings import Settings
from lakehouse.tables.location import TableLocation
from lakehouse.tables.stats import rows_per_day
from tests.helpers import REPO, make_settings, rows, write_landing

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def environment(settings: Settings, home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.as_environ(), "DAGSTER_HOME": str(home)}
    env.pop("LAKEHOUSE_STRICT_CONTRACTS", None)
    return env


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """Run in a directory of the test's own: Dagster reads a ``.env`` from the working directory."""
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_dagster_cli_materializes_a_partition_range_in_one_run(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate(settings.landing_root, date(2026, 4, 1), date(2026, 4, 3), orders_per_day=100)
    env = environment(settings, tmp_path / "home")
    done = run(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "lakehouse.definitions",
            "--select",
            "*",
            "--partition-range",
            "2026-04-01...2026-04-03",
        ],
        env,
        tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        runs = instance.get_runs()
        assert len(runs) == 1
        for key in ("bronze/orders", "silver/customers", "gold/fct_daily_sales"):
            # The range, and the two lookback days a run restates before it.
            assert sorted(instance.get_materialized_partitions(dg.AssetKey.from_user_string(key))) == [
                "2026-03-30",
                "2026-03-31",
                "2026-04-01",
                "2026-04-02",
                "2026-04-03",
            ]
    from lakehouse.tables.location import TableLocation

    days = rows(
        TableLocation(f"{settings.lake_root}/silver/orders"),
        "SELECT DISTINCT _event_date d FROM t ORDER BY 1",
    )
    assert [r["d"].isoformat() for r in days] == ["2026-04-01", "2026-04-02", "2026-04-03"]


def test_a_bad_partition_key_is_refused_by_name(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    env = environment(settings, tmp_path / "home")
    done = run(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "lakehouse.definitions",
            "--select",
            "bronze/orders",
            "--partition",
            "2026-02-30",
        ],
        env,
        tmp_path,
    )
    assert done.returncode != 0
    assert "2026-02-30" in done.stdout + done.stderr


RETURNS = """\
name: returns
owner: returns-team@example.com
extract: {kind: files, path: "returns/{date}/*.jsonl", format: jsonl}
partitions: {start: 2026-01-01, event_time: returned_at, lookback_days: 1}
primary_key: [return_id]
columns:
  - {name: return_id,   type: string,    nullable: false}
  - {name: reason,      type: string}
  - {name: returned_at, type: timestamp, nullable: false}
freshness: {max_lag: 6h}
"""


def test_the_demo_command_runs_end_to_end(tmp_path: Path) -> None:
    """Beside a contract of the user's own, whose files the demo does not make: it is not touched."""
    settings = make_settings(tmp_path)
    env = environment(settings, tmp_path / "home")
    env["LAKEHOUSE_PROJECT_DIR"] = str(tmp_path)  # the demo writes .env beside the project
    shutil.copytree(REPO / "sources", tmp_path / "sources")
    (tmp_path / "sources" / "returns.yaml").write_text(RETURNS)
    env["LAKEHOUSE_SOURCES_DIR"] = str(tmp_path / "sources")
    env["LAKEHOUSE_DBT_PROJECT_DIR"] = str(REPO / "dbt_models")
    done = run(
        [str(BIN / "lakehouse"), "demo", "--days", "3", "--end", "2026-05-03", "--orders-per-day", "150"],
        env,
        tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for expected in (
        "bronze/orders",
        "quarantine/orders",
        "silver/customers",
        "gold/fct_daily_sales",
        "checks:",
        "dagster dev -w workspace.yaml",
    ):
        assert expected in out, out
    assert " 0 failed" in out
    # The summary's rows are the tables' (each day's materialisation carries only its own).
    bronze = sum(rows_per_day(TableLocation(f"{settings.lake_root}/bronze/orders"), "_event_date").values())
    assert re.search(rf"^bronze +bronze/orders +{bronze:,}$", out, re.M), out
    with duckdb.connect(settings.warehouse_path, read_only=True) as con:
        gold = con.execute("SELECT count(*) FROM fct_daily_sales").fetchall()[0][0]
    assert re.search(rf"^gold +gold/fct_daily_sales +{gold:,}$", out, re.M), out
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        assert len(instance.get_runs()) == 1
        assert sorted(
            instance.get_materialized_partitions(dg.AssetKey.from_user_string("gold/fct_daily_sales"))
        ) == ["2026-04-29", "2026-04-30", "2026-05-01", "2026-05-02", "2026-05-03"]
        assert not instance.get_materialized_partitions(dg.AssetKey(["bronze", "returns"]))


def test_definitions_validate_names_a_bad_contract(tmp_path: Path, sources_dir: Path) -> None:
    (sources_dir / "refunds.yaml").write_text(
        (sources_dir / "orders.yaml")
        .read_text()
        .replace("name: orders", "name: refunds")
        .replace("type: int32", "type: integr")
    )
    settings = make_settings(tmp_path, sources_dir)
    env = environment(settings, tmp_path / "home")
    lenient = run(
        [str(BIN / "dagster"), "definitions", "validate", "-m", "lakehouse.definitions"], env, tmp_path
    )
    assert lenient.returncode == 0  # the good sources keep running...
    assert "refunds.yaml: invalid source contract" in lenient.stdout + lenient.stderr  # ...loudly
    assert "columns[5].type: unknown type 'integr'" in lenient.stdout + lenient.stderr
    env["LAKEHOUSE_STRICT_CONTRACTS"] = "1"
    strict = run(
        [str(BIN / "dagster"), "definitions", "validate", "-m", "lakehouse.definitions"], env, tmp_path
    )
    assert strict.returncode != 0
    assert "columns[5].type: unknown type 'integr'" in strict.stdout + strict.stderr


def test_the_checks_command_passes_on_sample_data_and_fails_when_an_error_rule_does(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "sources", sources)
    settings = make_settings(tmp_path, sources)
    env = environment(settings, tmp_path / "home")
    env["LAKEHOUSE_PROJECT_DIR"] = str(tmp_path)
    command = [str(BIN / "lakehouse"), "checks", "run", "--demo", "--days", "3", "--orders-per-day", "150"]
    done = run(command, env, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    header = next(line for line in done.stdout.splitlines() if line.startswith("asset"))
    assert header.split() == ["asset", "partition", "check", "severity", "result", "key", "metadata"]
    assert "bronze/orders" in done.stdout and "freshness_check" in done.stdout
    assert ", 0 failed," in done.stdout and "ledger row(s) appended" in done.stdout

    orders = sources / "orders.yaml"
    orders.write_text(
        orders.read_text().replace(
            "value_set: [placed, paid, shipped, cancelled, refunded], severity: warn",
            "value_set: [paid], severity: error",
        )
    )
    failed = run(command, env, tmp_path)
    assert failed.returncode == 1
    assert "error-severity checks failed" in failed.stderr
    assert "quality_column_values_to_be_in_set_status" in failed.stdout and "FAILED" in failed.stdout

    orders.write_text(orders.read_text().replace("type: int32", "type: integr", 1))
    broken = run(command, env, tmp_path)
    assert broken.returncode == 1  # the source is not skipped: CI must not pass without it
    assert "orders.yaml" in broken.stderr and "unknown type 'integr'" in broken.stderr


def test_the_checks_command_checks_the_users_own_sources_over_the_days_asked(tmp_path: Path) -> None:
    """Without --demo: the user's sources (not the demo's, whose files are not there) over the
    latest complete day by default; bad ranges and demo-only options are refused before any run."""
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "sources", sources)
    (sources / "returns.yaml").write_text(RETURNS)
    settings = make_settings(tmp_path, sources)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    write_landing(
        settings.landing_root,
        f"returns/{yesterday}/r.jsonl",
        "\n".join(
            f'{{"return_id": "r{i}", "reason": "damaged", "returned_at": "{yesterday}T{i:02}:00:00Z"}}'
            for i in range(3)
        ),
        arrived=yesterday,
    )
    env = environment(settings, tmp_path / "home")
    env["LAKEHOUSE_PROJECT_DIR"] = str(tmp_path)
    lakehouse = str(BIN / "lakehouse")
    done = run([lakehouse, "checks", "run"], env, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"Materialising {yesterday}..{yesterday}" in done.stdout
    assert "bronze/returns" in done.stdout and "freshness_check" in done.stdout
    assert "bronze/orders" not in done.stdout and "gold/" not in done.stdout

    reversed_range = run(
        [lakehouse, "checks", "run", "--start", "2026-05-02", "--end", "2026-05-01"], env, tmp_path
    )
    assert (
        reversed_range.returncode == 2
        and "--start 2026-05-02 is after --end 2026-05-01" in reversed_range.stderr
    )
    seeded = run([lakehouse, "checks", "run", "--seed", "3"], env, tmp_path)
    assert seeded.returncode == 2 and "use them with --demo" in seeded.stderr
