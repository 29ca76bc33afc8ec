"""The embedded default's environment: a Dagster home and a PII key nobody had to configure."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import click
import pytest

from lakehouse.cli.environment import prepare_local_environment, read_dotenv
from lakehouse.settings import Settings

GENERATED = ("DAGSTER_HOME", "LAKEHOUSE_PII_KEY", "LAKEHOUSE_VAULT_KEY")


@pytest.fixture
def unset(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in GENERATED:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_generated_key_is_kept_owner_only_and_reused(tmp_path: Path, unset: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env({"LAKEHOUSE_PROJECT_DIR": str(tmp_path)})
    home = prepare_local_environment(settings)
    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    first = read_dotenv(dotenv)
    assert re.fullmatch(r"[0-9a-f]{64}", first["LAKEHOUSE_PII_KEY"])
    assert re.fullmatch(r"[0-9a-f]{64}", first["LAKEHOUSE_VAULT_KEY"])
    assert first["LAKEHOUSE_VAULT_KEY"] != first["LAKEHOUSE_PII_KEY"]
    assert Path(first["DAGSTER_HOME"]) == home and (home / "dagster.yaml").exists()

    for name in GENERATED:
        unset.delenv(name)
    prepare_local_environment(settings)
    assert os.environ["LAKEHOUSE_PII_KEY"] == first["LAKEHOUSE_PII_KEY"]  # same tokens next time
    assert read_dotenv(dotenv) == first  # nothing appended twice


def test_variables_already_set_win_and_nothing_is_written(tmp_path: Path, unset: pytest.MonkeyPatch) -> None:
    unset.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    unset.setenv("LAKEHOUSE_PII_KEY", "k" * 64)
    unset.setenv("LAKEHOUSE_VAULT_KEY", "v" * 64)
    prepare_local_environment(Settings.from_env({"LAKEHOUSE_PROJECT_DIR": str(tmp_path)}))
    assert not (tmp_path / ".env").exists()
    assert (tmp_path / "home" / "dagster.yaml").exists()


def test_an_installation_that_cannot_keep_a_key_asks_for_it(
    tmp_path: Path, unset: pytest.MonkeyPatch
) -> None:
    """As in the image, whose code is read-only to its user: no key is invented and then lost."""
    unset.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    project = tmp_path / "not-writable"  # os.open fails here as it does on a read-only folder
    with pytest.raises(
        click.ClickException, match=r"set LAKEHOUSE_PII_KEY and LAKEHOUSE_VAULT_KEY in the environment"
    ) as raised:
        prepare_local_environment(Settings.from_env({"LAKEHOUSE_PROJECT_DIR": str(project)}))
    assert str(project / ".env") in raised.value.message


def test_a_dagster_home_that_cannot_be_written_is_named(tmp_path: Path, unset: pytest.MonkeyPatch) -> None:
    """As with a root-owned host folder mounted on the image's /data."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    unset.setenv("DAGSTER_HOME", str(blocker / "home"))  # a path under a file cannot be created
    unset.setenv("LAKEHOUSE_PII_KEY", "k" * 64)
    with pytest.raises(click.ClickException, match=r"cannot prepare the Dagster home .*/file/home"):
        prepare_local_environment(Settings.from_env({"LAKEHOUSE_PROJECT_DIR": str(tmp_path)}))
