"""The data SLO report in the UI: an external asset whose metadata a sensor refreshes.

An observable report rather than a materialised asset: it reads the quality ledger and the
tables' statistics and writes nothing, and as an external asset it stays out of partition-range
runs (``--select '*'``) and of backfills. It is downstream of the bronze and silver assets whose
checks and rows it summarises, and owned by their owners (each answers for their source's row).
Its sensor (``sensors/slo.py``) and the ledger's (``sensors/ledger.py``) come with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from lakehouse.assets.naming import bronze_key, owners, silver_key
from lakehouse.contracts.model import SourceContract
from lakehouse.resources import PlatformResources
from lakehouse.sensors.ledger import ledger_sensor
from lakehouse.sensors.slo import SLO_DAYS, SLO_KEY, slo_sensor


def slo_spec(contracts: Sequence[SourceContract]) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=SLO_KEY,
        deps=[key for c in contracts for key in (bronze_key(c), silver_key(c))],
        owners=sorted({owner for c in contracts for owner in owners(c)}),
        group_name="reports",
        kinds={"duckdb"},
        description=f"Per source, over the last {SLO_DAYS} days: freshness met %, checks passed %, rows "
        "quarantined %. Refreshed hourly by the data_slo_report sensor from the quality ledger and the "
        "tables' statistics; `lakehouse checks slo` prints the same table.",
    )


def reports_definitions(contracts: Sequence[SourceContract], resources: PlatformResources) -> dg.Definitions:
    return dg.Definitions(
        assets=[slo_spec(contracts)],
        sensors=[ledger_sensor, slo_sensor(contracts)],
        resources=resources.pick("warehouse", "lake"),
    )
