"""The data SLO report as an asset: its materialisation's metadata is the table in the UI."""

from collections.abc import Sequence

import dagster as dg
from pydantic import Field

from lakehouse.assets.metadata import markdown_table
from lakehouse.contracts.model import SourceContract

SLO_KEY = dg.AssetKey(["reports", "data_slo"])


class SloConfig(dg.Config):
    days: int = Field(default=30, ge=1, description="How many days back the report looks.")


def slo_asset(contracts: Sequence[SourceContract]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SLO_KEY,
        group_name="reports",
        kinds={"duckdb"},
        description="Per source, over the last N days: freshness met %, checks passed %, rows quarantined %. "
        "Reads the quality ledger (brought up to date first) and the tables' statistics.",
        required_resource_keys={"lake", "warehouse"},
    )
    def data_slo(context: dg.AssetExecutionContext, config: SloConfig) -> dg.MaterializeResult:
        from lakehouse.checks.ledger import sync_ledger
        from lakehouse.checks.slo import HEADERS, slo_report

        sync_ledger(context.instance, context.resources.warehouse.path)
        report = slo_report(
            contracts, context.resources.warehouse.path, context.resources.lake.lake_root, config.days
        )
        return dg.MaterializeResult(
            metadata={
                "days": config.days,
                "slo": dg.MetadataValue.md(markdown_table(HEADERS, [r.cells() for r in report])),
            }
        )

    return data_slo


slo_schedule = dg.ScheduleDefinition(
    name="data_slo_daily",
    target=dg.AssetSelection.keys(SLO_KEY),
    cron_schedule="0 7 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
