"""The dbt project of the gold layer and the resource that runs dbt, in a module of its own.

``@dbt_assets`` needs the project's manifest when definitions load; keeping the ``DbtProject``
here (and nothing heavier) lets ``lakehouse dbt parse`` build that manifest without loading the
whole platform.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sysconfig
from functools import cache, cached_property
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from packaging import version

from lakehouse.settings import Settings


class LakehouseProjectPreparer(DagsterDbtProjectPreparer):
    """Parses with this environment's dbt: dagster-dbt's preparer looks for ``dbt`` on PATH,
    which an unactivated virtual environment (``.venv/bin/dagster dev``) does not have."""

    def prepare(self, project: DbtProject) -> None:
        resource = LakehouseDbtCliResource(project_dir=project, dbt_executable=dbt_executable())
        resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()


@cache
def dbt_project(project_dir: str) -> DbtProject:
    project = DbtProject(project_dir=Path(project_dir), profiles_dir=Path(project_dir))
    # `dagster dev` re-parses on every load (model edits show up); elsewhere the manifest is built
    # ahead, by scripts/setup (`lakehouse dbt parse`) or the image build.
    LakehouseProjectPreparer().prepare_if_dev(project)
    return project


def _installed_dbt() -> Path:
    """Where this environment's installer put the ``dbt`` script (the venv's bin folder).

    Not ``sys.executable``'s folder: a code server started by ``dagster dev`` may run the base
    interpreter's binary with the virtual environment's prefix.
    """
    return Path(sysconfig.get_path("scripts")) / "dbt"


def dbt_executable() -> str:
    """The dbt installed in this environment, or else the one on PATH."""
    installed = _installed_dbt()
    return str(installed) if installed.exists() else (shutil.which("dbt") or "dbt")


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
        if Path(self.dbt_executable).absolute() == _installed_dbt().absolute():
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource(settings: Settings) -> DbtCliResource:
    return LakehouseDbtCliResource(
        project_dir=dbt_project(settings.dbt_project_dir), dbt_executable=dbt_executable()
    )
