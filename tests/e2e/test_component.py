"""The lakehouse as a Component in someone else's ``dg`` project, and ``dg`` on this one.

A team with its own Dagster project adds the lakehouse with ``dg scaffold defs
lakehouse.LakehouseComponent <name>`` and a ``defs.yaml``: the test builds such a project from
nothing, configures the component through its attributes alone (no ``LAKEHOUSE_*`` variable),
lists the assets with ``dg list defs`` and materialises a day with ``dg launch``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml

from lakehouse.demo.generate import generate
from tests.helpers import PII_KEY, REPO, VAULT_KEY

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
DAY = date(2026, 5, 2)


def dg_command(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(BIN / "dg"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def clean_environment(home: Path) -> dict[str, str]:
    """The environment without any LAKEHOUSE_* setting: the component's attributes must do."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    return {
        **env,
        "LAKEHOUSE_PII_KEY": PII_KEY,  # a secret, never an attribute
        "LAKEHOUSE_VAULT_KEY": VAULT_KEY,
        "DAGSTER_HOME": str(home),
        "VIRTUAL_ENV": str(Path(sys.prefix)),
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    }


def team_project(root: Path) -> Path:
    """A minimal dg project of the team's own: a package with a defs folder and an entry point."""
    project = root / "team"
    (project / "team_project" / "defs").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "team-project"
            version = "0.1.0"
            requires-python = ">=3.11"

            [tool.dg]
            directory_type = "project"

            [tool.dg.project]
            root_module = "team_project"
            """
        )
    )
    (project / "team_project" / "__init__.py").write_text("")
    (project / "team_project" / "defs" / "__init__.py").write_text("")
    (project / "team_project" / "definitions.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            import dagster as dg


            @dg.definitions
            def defs() -> dg.Definitions:
                return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
            """
        )
    )
    return project


def test_a_team_adds_the_lakehouse_to_its_own_dg_project(tmp_path: Path) -> None:
    project = team_project(tmp_path)
    # The team's own contracts and dbt project (a copy of this repository's, manifest included).
    shutil.copytree(REPO / "sources", project / "contracts")
    shutil.copytree(REPO / "dbt_models", project / "analytics", ignore=shutil.ignore_patterns("logs"))
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = clean_environment(home)

    dg_command("scaffold", "defs", "lakehouse.LakehouseComponent", "lakehouse", cwd=project, env=env)
    defs_yaml = project / "team_project" / "defs" / "lakehouse" / "defs.yaml"
    scaffolded = yaml.safe_load(defs_yaml.read_text())
    assert scaffolded["type"] == "lakehouse.LakehouseComponent"
    assert {"sources_dir", "dbt_project_dir"} <= set(scaffolded["attributes"])

    scaffolded["attributes"] = {
        "sources_dir": "contracts",
        "dbt_project_dir": "analytics",
        "data_dir": "lake_data",
    }
    defs_yaml.write_text(yaml.safe_dump(scaffolded))
    generate(str(project / "lake_data" / "landing"), DAY, DAY, orders_per_day=50)

    listed = json.loads(dg_command("list", "defs", "--json", cwd=project, env=env).stdout)
    keys = {a["asset_key"] for a in listed["assets"]}
    assert {"landing/orders", "bronze/orders", "silver/orders", "silver/customers"} <= keys
    assert {"gold/fct_daily_sales", "reports/data_slo"} <= keys
    checks = {(c["asset_key"], c["name"]) for c in listed["asset_checks"]}
    assert ("bronze/orders", "circuit_breaker") in checks and ("silver/orders", "reconciliation") in checks
    assert {s["name"] for s in listed["sensors"]} >= {"quality_ledger", "data_slo_report"}

    dg_command(
        "launch",
        "--assets",
        "bronze/orders,silver/orders",
        "--partition",
        DAY.isoformat(),
        cwd=project,
        env=env,
    )
    assert (project / "lake_data" / "lake" / "silver" / "orders" / "_delta_log").is_dir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        assert DAY.isoformat() in instance.get_materialized_partitions(dg.AssetKey(["silver", "orders"]))


def test_dg_lists_this_project() -> None:
    """``dg check defs`` runs in CI (.ci/run); this is what ``dg list defs`` shows a user."""
    env = {**os.environ, "VIRTUAL_ENV": str(Path(sys.prefix))}
    listed = json.loads(dg_command("list", "defs", "--json", cwd=REPO, env=env).stdout)
    assert {"bronze/orders", "silver/customers", "gold/fct_daily_sales"} <= {
        a["asset_key"] for a in listed["assets"]
    }
