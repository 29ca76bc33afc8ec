"""The dbt project of the gold layer, in a module of its own.

``@dbt_assets`` needs the project's manifest when definitions load; keeping the ``DbtProject``
here (and nothing heavier) lets ``dagster-dbt project prepare-and-package --file`` and
``lakehouse dbt parse`` build that manifest without loading the whole platform.
"""

from __future__ import annotations

import shutil
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from lakehouse.settings import Settings


@cache
def dbt_project(project_dir: str) -> DbtProject:
    project = DbtProject(project_dir=Path(project_dir), profiles_dir=Path(project_dir))
    project.prepare_if_dev()  # `dagster dev` re-parses on load; elsewhere the manifest is built ahead
    return project


def dbt_executable() -> str:
    """The dbt beside this interpreter (the project's virtual environment) or else on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def dbt_resource(settings: Settings) -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(settings.dbt_project_dir), dbt_executable=dbt_executable())
