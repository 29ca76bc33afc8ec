"""The Celery executor (``LAKEHOUSE_EXECUTOR=celery``): each step is a task on a Celery worker.

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
