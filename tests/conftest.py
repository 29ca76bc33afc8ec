"""Shared fixtures: isolated lakehouse directories, a PII key, real contracts and landing files.

Nothing here replaces a real part: tests write real files, real Delta tables and a real DuckDB
warehouse under pytest's temporary directories, and run real Dagster and dbt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lakehouse.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PII_KEY = "test-pii-key-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True)
def _pii_key():
    previous = os.environ.get("LAKEHOUSE_PII_KEY")
    os.environ["LAKEHOUSE_PII_KEY"] = PII_KEY
    yield
    if previous is None:
        os.environ.pop("LAKEHOUSE_PII_KEY", None)
    else:
        os.environ["LAKEHOUSE_PII_KEY"] = previous


def make_settings(root: Path, sources_dir: Path | None = None) -> Settings:
    """Settings for a lakehouse under ``root`` (data, landing, lake, warehouse), repo's dbt project."""
    env = {
        "LAKEHOUSE_PROJECT_DIR": str(REPO),
        "LAKEHOUSE_DATA_DIR": str(root / "data"),
        "LAKEHOUSE_SOURCES_DIR": str(sources_dir or REPO / "sources"),
    }
    settings = Settings.from_env(env)
    Path(settings.landing_root).mkdir(parents=True, exist_ok=True)
    return settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def sources_dir(tmp_path: Path) -> Path:
    """A copy of the repository's contracts that a test may edit."""
    target = tmp_path / "sources"
    shutil.copytree(REPO / "sources", target)
    return target
