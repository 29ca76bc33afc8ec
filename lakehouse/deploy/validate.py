"""Validating a deployment's ``dagster.yaml`` (and executor config) without its cluster or cloud.

Dagster checks an instance in two layers when it starts, and both are run here: the instance
schema (storage, run monitoring, concurrency: ``dagster_instance_config``), then each pluggable
class's own config (the run launcher, compute logs, storages) against the class's
``config_type()``, which is what instantiating it would check, minus the instantiation: no
Kubernetes API, no AWS client, no database. The first layer alone would accept a typo inside
``run_launcher.config`` (it is ``Permissive`` there). ``{env: ...}`` values are not resolved, so
no secret needs to be set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PLUGGABLE = (
    "run_launcher",
    "run_coordinator",
    "compute_logs",
    "local_artifact_storage",
    "scheduler",
    "run_storage",
    "event_log_storage",
    "schedule_storage",
    "defs_state_storage",
)


def validate_instance(directory: Path | str) -> list[str]:
    """Every problem of ``<directory>/dagster.yaml``; empty when Dagster would accept it."""
    from dagster._config import validate_config
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes import class_from_code_pointer

    try:
        config, _ = dagster_instance_config(str(directory))
    except DagsterInvalidConfigError as error:
        return [f"instance: {error}"]
    problems = []
    sections: dict[str, Any] = {name: config[name] for name in PLUGGABLE if config.get(name)}
    if "custom" in (config.get("storage") or {}):
        sections["storage.custom"] = config["storage"]["custom"]
    for name, section in sections.items():
        try:
            cls = class_from_code_pointer(section["module"], section["class"])
        except (ImportError, AttributeError) as error:
            problems.append(f"{name}: cannot import {section['module']}.{section['class']}: {error}")
            continue
        result = validate_config(cls.config_type(), section.get("config") or {})  # type: ignore[attr-defined]
        problems += [f"{name} ({section['class']}): {e.message}" for e in result.errors or []]
    return problems


def validate_executor(path: Path | str) -> list[str]:
    """An executor's run config file (``execution: config: ...``) against its executor's schema:
    ``celery`` or ``k8s`` by the file's ``executor`` key."""
    from dagster._config import validate_config

    data = yaml.safe_load(Path(path).read_text()) or {}
    kind = data.get("executor")
    if kind == "k8s":
        from dagster_k8s import k8s_job_executor as executor
    elif kind == "celery":
        from dagster_celery import celery_executor as executor
    else:
        return [f"{path}: executor must be k8s or celery, got {kind!r}"]
    config = (data.get("execution") or {}).get("config") or {}
    result = validate_config(executor.config_schema.config_type, config)
    return [f"{path} ({kind} executor): {e.message}" for e in result.errors or []]
