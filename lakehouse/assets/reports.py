"""The data SLO report in the UI: an external asset whose metadata a sensor refreshes.

An observable report rather than a materialised asset: it reads the quality ledger and the
tables' statistics and writes nothing, and as an external asset it stays out of partition-range
runs (``--select '*'``) and of backfills. Its sensor (``sensors/slo.py``) and the ledger's
(``sensors/ledger.py``) come with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from lakehouse.contracts.model import SourceContract
from lakehouse.resources import PlatformResources
from lakehouse.sensors.ledger import ledger_sensor
from lakehouse.sensors.slo import SLO_DAYS, SLO_KEY, slo_sensor

slo_spec = dg.AssetSpec(
    key=SLO_KEY,
    group_name="reports",
    kinds={"duckdb"},
    description=f"Per source, over the last {SLO_DAYS} days: freshness met %, checks passed %, rows quarantined %. "
    "Refreshed hourly by the data_slo_report sensor from the quality ledger and the tables' statistics; "
    "`lakehouse checks slo` prints the same table.",
)


def reports_definitions(contracts: Sequence[SourceContract], resources: PlatformResources) -> dg.Definitions:
    return dg.Definitions(
        assets=[slo_spec],
        sensors=[ledger_sensor, slo_sensor(contracts)],
        resources=resources.pick("warehouse", "lake"),
    )
