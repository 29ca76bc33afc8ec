"""Dagster resources: where the lake lives, the DuckDB warehouse, the PII key, dbt.

``PlatformResources`` builds the shared ones once from the settings: each layer's definitions
take the ones they need from it, so merging the layers finds one object per resource key.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from lakehouse.resources.pii import PiiTokenizer
from lakehouse.resources.storage import LakeStorage
from lakehouse.resources.warehouse import DuckDBWarehouse
from lakehouse.settings import Settings

__all__ = ["DuckDBWarehouse", "LakeStorage", "PiiTokenizer", "PlatformResources"]


@dataclass(frozen=True)
class PlatformResources:
    lake: LakeStorage
    warehouse: DuckDBWarehouse
    pii: PiiTokenizer

    @classmethod
    def from_settings(cls, settings: Settings) -> PlatformResources:
        return cls(
            lake=LakeStorage(landing_root=settings.landing_root, lake_root=settings.lake_root),
            warehouse=DuckDBWarehouse(path=settings.warehouse_path),
            pii=PiiTokenizer(key=dg.EnvVar("LAKEHOUSE_PII_KEY")),
        )

    def pick(self, *names: str) -> dict[str, dg.ConfigurableResource]:
        return {name: getattr(self, name) for name in names}
