"""The dbt project of the gold layer and the resource that runs dbt, in a module of its own.

``@dbt_assets`` needs the project's manifest when definitions load; keeping the ``DbtProject``
here (and nothing heavier) lets ``lakehouse dbt parse`` build that manifest without loading the
whole platform.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sys
from functools import cache, cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

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


class LakehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two fixed costs it pays on every run (~10 s of a ~20 s step).

    - It asks ``dbt --version`` in a subprocess (~3-6 s: dbt's own start-up) to learn the version
      of dbt it runs; when that executable is the one installed beside this interpreter, the
      installed dbt-core distribution says the same thing for free.
    - It builds an in-process dbt adapter (~4 s), used only by ``fetch_row_counts`` and column
      metadata, which we do not call: the gold asset counts rows itself, through a connection
      it closes, because the adapter's DuckDB connection stays open and would lock the next dbt
      process out of the warehouse file.

    Both are private hooks of dagster-dbt 0.29; ``tests/unit/test_dbt_resource.py`` fails if
    they stop being called, so an upgrade cannot silently bring the cost back or break the run.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).absolute() == Path(sys.executable).absolute().with_name("dbt"):
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource(settings: Settings) -> DbtCliResource:
    return LakehouseDbtCliResource(
        project_dir=dbt_project(settings.dbt_project_dir), dbt_executable=dbt_executable()
    )
