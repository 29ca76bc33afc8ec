"""The sensor that refreshes the data SLO report (``reports/data_slo``) every hour.

It brings the quality ledger up to date, computes the report (``checks/slo.py``) and records it
as a materialisation of the report's external asset; a busy warehouse skips to the next tick. A
source whose freshness check was never evaluated (the report ran before the ``source_freshness``
sensor's first tick) says so, rather than "n/a of 0".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import dagster as dg

from lakehouse.assets.metadata import markdown_table
from lakehouse.contracts.model import SourceContract
from lakehouse.resources import DuckDBWarehouse, LakeStorage
from lakehouse.resources.warehouse import WarehouseBusy

SLO_KEY = dg.AssetKey(["reports", "data_slo"])
SLO_DAYS = 30  # partition days, ending with the last complete one
NOT_EVALUATED = "not evaluated yet (sensor source_freshness)"

if TYPE_CHECKING:
    from lakehouse.checks.slo import SourceSlo


def report_cells(row: SourceSlo) -> list[str]:
    """One source's row of the report as the UI shows it."""
    cells = row.cells()
    if row.freshness_evaluations == 0 and not row.freshness_note:  # promised, not yet judged
        cells[1] = NOT_EVALUATED
    return cells


def slo_sensor(contracts: Sequence[SourceContract]) -> dg.SensorDefinition:
    @dg.sensor(
        name="data_slo_report",
        minimum_interval_seconds=3600,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Brings the quality ledger up to date and records the data SLO table on reports/data_slo.",
    )
    def data_slo_report(
        context: dg.SensorEvaluationContext, warehouse: DuckDBWarehouse, lake: LakeStorage
    ) -> dg.SensorResult:
        from datetime import UTC, datetime, timedelta

        import duckdb

        from lakehouse.checks.ledger import sync_ledger
        from lakehouse.checks.slo import HEADERS, slo_report

        end = datetime.now(UTC).date() - timedelta(days=1)  # the last complete day
        try:
            sync_ledger(context.instance, warehouse.path, wait_seconds=0)
            report = slo_report(
                contracts, warehouse.path, lake, end - timedelta(days=SLO_DAYS - 1), end, wait_seconds=0
            )
        except (WarehouseBusy, duckdb.IOException) as error:  # dbt (or a user) holds it: next tick
            return dg.SensorResult(skip_reason=f"warehouse busy, will retry: {error}")
        table = markdown_table(HEADERS, [report_cells(r) for r in report])
        return dg.SensorResult(
            asset_events=[
                dg.AssetMaterialization(
                    asset_key=SLO_KEY, metadata={"days": SLO_DAYS, "slo": dg.MetadataValue.md(table)}
                )
            ]
        )

    return data_slo_report
