"""The dbt project of the gold layer and the resource that runs dbt, in a module of its own.

``@dbt_assets`` needs the project's manifest when definitions load; keeping the ``DbtProject``
here (and nothing heavier) lets ``lakehouse dbt parse`` build that manifest without loading the
whole platform.

dbt's profile and sources read the platform's locations from ``LAKEHOUSE_*`` variables. Building
definitions never writes them into the process environment: the resource carries them
(``environment``) and sets them for the dbt subprocess only, while it starts.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sysconfig
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from packaging import version
from pydantic import Field

from lakehouse.settings import Settings

_ENVIRONMENT_LOCK = threading.Lock()


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` while a dbt subprocess is started (dagster-dbt copies the
    environment into it), and the previous values back afterwards."""
    with _ENVIRONMENT_LOCK:
        previous = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class LakehouseProjectPreparer(DagsterDbtProjectPreparer):
    """Installs the project's packages and parses with this environment's dbt: dagster-dbt's
    preparer looks for ``dbt`` on PATH, which an unactivated virtual environment
    (``.venv/bin/dagster dev``) does not have."""

    def __init__(self, environment: Mapping[str, str]):
        super().__init__()
        self._environment = dict(environment)

    def prepare(self, project: DbtProject) -> None:
        resource = LakehouseDbtCliResource.for_project(project, self._environment)
        if has_packages(project):  # the demo's models are a local package (offline, a symlink)
            resource.cli(["deps", "--quiet"], target_path=project.target_path).wait()
        resource.cli(["parse", "--quiet"], target_path=project.target_path).wait()


def has_packages(project: DbtProject) -> bool:
    """Whether the project declares packages, which ``dbt deps`` installs before dbt can parse.
    Always re-installed when declared, as dagster-dbt does: a stale install is worse than 2 s."""
    return any((Path(project.project_dir) / name).exists() for name in ("packages.yml", "dependencies.yml"))


@cache
def _project(project_dir: str, environment: tuple[tuple[str, str], ...]) -> DbtProject:
    project = DbtProject(project_dir=Path(project_dir), profiles_dir=Path(project_dir))
    # `dagster dev` re-parses on every load (model edits show up); elsewhere the manifest is built
    # ahead, by scripts/setup (`lakehouse dbt parse`) or the image build.
    LakehouseProjectPreparer(dict(environment)).prepare_if_dev(project)
    return project


def dbt_project(settings: Settings) -> DbtProject:
    return _project(settings.dbt_project_dir, tuple(sorted(settings.as_environ().items())))


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
    """dagster-dbt's resource with the platform's settings, without two fixed costs it pays on
    every run (~10 s of a ~20 s step).

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

    environment: dict[str, str] = Field(
        default_factory=dict, description="LAKEHOUSE_* variables the dbt subprocess sees."
    )

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).absolute() == _installed_dbt().absolute():
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:  # dagster-dbt copes with None
        return None

    def cli(self, args: Any, **kwargs: Any) -> Any:
        with _environment(self.environment):
            return super().cli(args, **kwargs)

    @classmethod
    def for_project(cls, project: DbtProject, environment: Mapping[str, str]) -> LakehouseDbtCliResource:
        return cls(
            project_dir=os.fspath(project.project_dir),
            profiles_dir=os.fspath(project.profiles_dir) if project.profiles_dir else None,
            dbt_executable=dbt_executable(),
            environment=dict(environment),
        )


def dbt_environment(settings: Settings) -> dict[str, str]:
    """What the dbt subprocess sees besides the inherited environment: the settings, and for a
    lake on S3 the endpoint and region delta-rs (under dbt-duckdb's delta plugin) reads from
    ``AWS_*`` variables. Keys are not copied here (this is resource config, shown in the UI):
    the subprocess inherits ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` from the process."""
    environment = settings.as_environ()
    if settings.uses_s3:
        from lakehouse.tables.s3 import S3Connection

        environment.update(
            S3Connection(
                region=settings.s3_region, endpoint_url=settings.s3_endpoint_url
            ).endpoint_environment()
        )
    return environment


def dbt_resource(settings: Settings) -> LakehouseDbtCliResource:
    return LakehouseDbtCliResource.for_project(dbt_project(settings), dbt_environment(settings))
