"""Executors for real infrastructure: Celery workers (``LAKEHOUSE_EXECUTOR=celery``) and Kubernetes Jobs (``k8s``).

Broker and result backend come from ``LAKEHOUSE_CELERY_BROKER_URL`` and
``LAKEHOUSE_CELERY_BACKEND_URL``, referenced as ``{env: ...}`` so the URLs (and any password in
them) are resolved where a run starts and never stored in the run's config or shown in the UI.
Workers are started with ``dagster-celery worker start -y deploy/celery/worker.yaml`` (deploy/README.md).

Only launched runs and ``dagster job execute``/``execute_job(reconstructable(...))`` reach the
workers: ``materialize``/``execute_in_process`` always execute in process.
"""

from __future__ import annotations

import dagster as dg

BROKER_ENV, BACKEND_ENV = "LAKEHOUSE_CELERY_BROKER_URL", "LAKEHOUSE_CELERY_BACKEND_URL"


def celery_executor() -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor as executor

    return executor.configured(
        {"broker": {"env": BROKER_ENV}, "backend": {"env": BACKEND_ENV}},
        name="celery",
    )


def k8s_executor(config_path: str | None) -> dg.ExecutorDefinition:
    """``LAKEHOUSE_EXECUTOR=k8s``: dagster-k8s's ``k8s_job_executor``, each step a Kubernetes Job,
    configured by the ``execution.config`` of ``config_path`` (deploy/k8s/executor.yaml) when given;
    what it leaves unset comes from the K8sRunLauncher."""
    from pathlib import Path

    import yaml
    from dagster_k8s import k8s_job_executor

    if not config_path:
        return k8s_job_executor
    config = ((yaml.safe_load(Path(config_path).read_text()) or {}).get("execution") or {}).get(
        "config"
    ) or {}
    return k8s_job_executor.configured(config, name="k8s")
