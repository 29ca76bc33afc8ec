"""Fixtures: a PII key for the session, isolated lakehouse directories, an editable copy of the
contracts. Builders and constants live in ``tests/helpers.py``.

Nothing here replaces a real part: tests write real files, real Delta tables and a real DuckDB
warehouse under pytest's temporary directories, and run real Dagster and dbt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lakehouse.settings import Settings
from tests.helpers import PII_KEY, REPO, VAULT_KEY, make_settings


@pytest.fixture(scope="session", autouse=True)
def _pii_key():
    keys = {"LAKEHOUSE_PII_KEY": PII_KEY, "LAKEHOUSE_VAULT_KEY": VAULT_KEY}
    previous = {name: os.environ.get(name) for name in keys}
    os.environ.update(keys)
    yield
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def sources_dir(tmp_path: Path) -> Path:
    """A copy of the repository's contracts that a test may edit."""
    target = tmp_path / "sources"
    shutil.copytree(REPO / "sources", target)
    return target
