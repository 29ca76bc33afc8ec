"""The deployment configs load and Dagster's own config validation accepts them (no cluster, no
cloud, no secrets needed); a typo anywhere is refused. Settings that a deployment misses fail at
start-up naming the variable."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.deploy.validate import validate_executor, validate_instance
from lakehouse.platform import build_definitions
from lakehouse.settings import MissingSettingError, Settings
from tests.helpers import REPO, make_settings


@pytest.mark.parametrize("folder", ["deploy", "deploy/k8s", "deploy/ecs"])
def test_the_instance_configs_are_valid(folder: str) -> None:
    assert validate_instance(REPO / folder) == []


@pytest.mark.parametrize("path", ["deploy/k8s/executor.yaml", "deploy/celery/worker.yaml"])
def test_the_executor_configs_are_valid(path: str) -> None:
    assert validate_executor(REPO / path) == []


@pytest.mark.parametrize(
    ("folder", "typo", "expected"),
    [
        ("deploy/k8s", "job_namespace: dagster\n    load", 'unexpected config entry "job_namespce"'),
        ("deploy/ecs", "include_sidecars: false", 'Value "no"'),
        ("deploy", "max_resume_run_attempts", 'unexpected config entry "max_resume_run_attemps"'),
    ],
)
def test_a_typo_in_any_section_is_refused(tmp_path: Path, folder: str, typo: str, expected: str) -> None:
    text = (REPO / folder / "dagster.yaml").read_text()
    broken = {
        "job_namespace: dagster\n    load": "job_namespce: dagster\n    load",
        "include_sidecars: false": 'include_sidecars: "no"',
        "max_resume_run_attempts": "max_resume_run_attemps",
    }[typo]
    assert typo in text
    (tmp_path / "dagster.yaml").write_text(text.replace(typo, broken, 1))
    problems = validate_instance(tmp_path)
    assert problems and expected in " ".join(problems), problems


def test_an_executor_typo_is_refused(tmp_path: Path) -> None:
    shutil.copy(REPO / "deploy/k8s/executor.yaml", tmp_path / "executor.yaml")
    path = tmp_path / "executor.yaml"
    path.write_text(path.read_text().replace("max_concurrent", "max_concurent"))
    assert 'unexpected config entry "max_concurent"' in " ".join(validate_executor(path))


def test_the_k8s_and_celery_executors_load_into_the_definitions(tmp_path: Path, monkeypatch) -> None:
    base = make_settings(tmp_path)
    monkeypatch.setenv("LAKEHOUSE_K8S_EXECUTOR_CONFIG", str(REPO / "deploy/k8s/executor.yaml"))
    k8s = build_definitions(Settings(**{**base.__dict__, "executor": "k8s"}))
    job = k8s.resolve_implicit_global_asset_job_def()
    assert job.executor_def.name == "k8s"
    # Dagster's run config validation accepts it, with deploy/k8s/executor.yaml's settings.
    assert dg.validate_run_config(job, {})["execution"]["k8s"]["max_concurrent"] == 4
    monkeypatch.setenv("LAKEHOUSE_CELERY_BROKER_URL", "amqp://guest:sentinel-broker-pw@127.0.0.1:5672//")
    monkeypatch.setenv("LAKEHOUSE_CELERY_BACKEND_URL", "redis://127.0.0.1:6379/0")
    celery = build_definitions(
        Settings(**{**base.__dict__, "executor": "celery"})
    ).resolve_implicit_global_asset_job_def()
    assert celery.executor_def.name == "celery"
    assert dg.validate_run_config(celery, {})["execution"]["celery"]["broker"].startswith("amqp://")
    # What the job stores (its snapshot, the UI) is the variable's name, not the URL.
    assert "sentinel-broker-pw" not in str(celery.executor_def.__dict__)


def test_the_celery_executor_names_the_variables_it_misses() -> None:
    with pytest.raises(
        MissingSettingError, match="LAKEHOUSE_CELERY_BROKER_URL and LAKEHOUSE_CELERY_BACKEND_URL"
    ):
        Settings.from_env({"LAKEHOUSE_EXECUTOR": "celery"})


def test_the_prod_profile_names_every_variable_it_misses() -> None:
    with pytest.raises(MissingSettingError) as error:
        Settings.from_env({"LAKEHOUSE_PROFILE": "prod", "LAKEHOUSE_LAKE_ROOT": "s3://lake/lh"})
    for name in (
        "LAKEHOUSE_LANDING_ROOT",
        "LAKEHOUSE_WAREHOUSE_PATH",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "LAKEHOUSE_PII_KEY",
        "LAKEHOUSE_VAULT_KEY",
    ):
        assert name in str(error.value)
    assert "LAKEHOUSE_LAKE_ROOT" not in str(error.value).split("needs:")[1]


def test_the_prod_profile_puts_the_lake_on_s3() -> None:
    env = {
        "LAKEHOUSE_PROFILE": "prod",
        "LAKEHOUSE_LAKE_ROOT": "/var/lake",
        "LAKEHOUSE_LANDING_ROOT": "s3://landing/in",
        "LAKEHOUSE_WAREHOUSE_PATH": "/data/warehouse.duckdb",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "LAKEHOUSE_PII_KEY": "p",
        "LAKEHOUSE_VAULT_KEY": "v",
    }
    with pytest.raises(MissingSettingError, match="LAKEHOUSE_LAKE_ROOT='/var/lake' is not s3://"):
        Settings.from_env(env)
    settings = Settings.from_env(
        {**env, "LAKEHOUSE_LAKE_ROOT": "s3://lake/lh", "LAKEHOUSE_S3_ENDPOINT_URL": "http://x:9"}
    )
    assert (settings.profile, settings.lake_root, settings.uses_s3) == ("prod", "s3://lake/lh", True)
    assert settings.aws_variables == ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(MissingSettingError, match="LAKEHOUSE_PROFILE='staging': expected one of local, prod"):
        Settings.from_env({"LAKEHOUSE_PROFILE": "staging"})
