"""Guards for the two dagster-dbt hooks ``LakehouseDbtCliResource`` overrides (see its docstring).

If dagster-dbt renames or stops calling them, these fail, so an upgrade cannot silently bring
back ~10 s per run, or keep a DuckDB connection open that locks the warehouse.
"""

from __future__ import annotations

import inspect
import re
import subprocess
from functools import cached_property

from dagster_dbt import DbtCliResource

from lakehouse.resources.dbt import LakehouseDbtCliResource, dbt_executable, dbt_project
from lakehouse.settings import Settings


def test_dagster_dbt_still_calls_the_overridden_hooks() -> None:
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._initialize_dbt_core_adapter(" in source
    assert "self._cli_version" in source
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)


def test_the_version_shortcut_tells_the_truth() -> None:
    settings = Settings.from_env()
    resource = LakehouseDbtCliResource.for_project(dbt_project(settings), settings.as_environ())
    printed = subprocess.run(
        [dbt_executable(), "--version"], capture_output=True, text=True, check=True
    ).stdout
    installed = re.search(r"installed:\s*(\d+\.\d+\.\d+)", printed).group(1)
    assert str(resource._cli_version) == installed
    assert resource._initialize_dbt_core_adapter([]) is None
