"""The sensor that keeps the quality ledger (``checks/ledger.py``) up to date, every minute.

DuckDB lets one process open the warehouse: while dbt builds it (holding ``warehouse_lock``)
a tick skips and the next one catches up, since appending is idempotent.
"""

from __future__ import annotations

import dagster as dg

from lakehouse.resources.warehouse import DuckDBWarehouse, WarehouseBusy


@dg.sensor(
    name="quality_ledger",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Appends new check evaluations to the quality ledger (quality.check_evaluations in the warehouse).",
)
def ledger_sensor(context: dg.SensorEvaluationContext, warehouse: DuckDBWarehouse) -> dg.SkipReason:
    import duckdb

    from lakehouse.checks.ledger import sync_ledger

    try:
        appended = sync_ledger(context.instance, warehouse.path, wait_seconds=0)
    except (WarehouseBusy, duckdb.IOException) as error:  # dbt (or a user) holds it: next tick
        return dg.SkipReason(f"warehouse busy, will retry: {error}")
    return dg.SkipReason(f"appended {appended} evaluation(s) to the ledger")
