"""The lakehouse as a Dagster Component: one instance over a whole folder of source contracts.

One component, not one per source: the sources share one partition calendar (Dagster runs a
range in one run only over assets with the same partitions definition), and an invalid contract
must be isolated by the loader that sees all of them, not take a component down with it. A team
adds the lakehouse to its own ``dg`` project with::

    dg scaffold defs lakehouse.LakehouseComponent lakehouse

and sets the attributes in the ``defs.yaml`` it writes. Each attribute left unset comes from its
``LAKEHOUSE_*`` environment variable, then the embedded default; relative paths are relative to
the project root.
"""

from __future__ import annotations

import textwrap
from typing import Literal

import dagster as dg
from dagster.components import Scaffolder, ScaffoldRequest
from pydantic import Field

_DEFS_YAML = """\
type: {type_name}
# Every attribute is optional: unset, it comes from its LAKEHOUSE_* environment variable, then
# the embedded default. Relative paths are relative to the project root.
attributes:
  sources_dir: sources          # one YAML contract per source (sources/<name>.yaml)
  dbt_project_dir: dbt_models   # the gold layer's dbt project (dbt-duckdb), reading silver as sources
  # data_dir: data              # landing files, Delta tables and the DuckDB warehouse under one folder
  # executor: in_process        # or multiprocess, or celery (LAKEHOUSE_CELERY_BROKER_URL, ..._BACKEND_URL)
"""


class LakehouseScaffolder(Scaffolder):
    """Writes a ``defs.yaml`` that names every attribute and what it is for."""

    def scaffold(self, request: ScaffoldRequest) -> None:
        request.target_path.mkdir(parents=True, exist_ok=True)
        (request.target_path / "defs.yaml").write_text(
            textwrap.dedent(_DEFS_YAML.format(type_name=request.type_name))
        )


@dg.scaffold_with(LakehouseScaffolder)
class LakehouseComponent(dg.Component, dg.Model, dg.Resolvable):
    """A medallion lakehouse from YAML source contracts: landing, bronze, silver (Delta) and gold
    (dbt-duckdb) assets on one daily calendar, their checks, and the sensors that keep them."""

    sources_dir: str | None = Field(default=None, description="Folder of source contracts (*.yaml).")
    dbt_project_dir: str | None = Field(default=None, description="The gold layer's dbt project.")
    data_dir: str | None = Field(default=None, description="Base of the landing zone, lake and warehouse.")
    landing_root: str | None = Field(default=None, description="Where source files arrive.")
    lake_root: str | None = Field(default=None, description="Root of the Delta tables.")
    warehouse_path: str | None = Field(default=None, description="The DuckDB warehouse file.")
    executor: Literal["in_process", "multiprocess", "celery", "k8s"] | None = Field(
        default=None,
        description="in_process: one process per run; multiprocess: one per step; celery: steps on "
        "Celery workers; k8s: steps as Kubernetes Jobs.",
    )
    strict_contracts: bool | None = Field(
        default=None, description="Fail loading on an invalid contract instead of skipping it."
    )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from lakehouse.platform import build_definitions
        from lakehouse.settings import Settings

        settings = Settings.from_env(project_dir=str(context.project_root), **self.model_dump())
        return build_definitions(settings)
