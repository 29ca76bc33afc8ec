"""Dagster resources: where the lake lives, the DuckDB warehouse, the PII key, dbt.

``PlatformResources`` builds the shared ones once from the settings: each layer's definitions
take the ones they need from it, so merging the layers finds one object per resource key.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from lakehouse.resources.pii import PiiTokenizer
from lakehouse.resources.storage import LakeStorage
from lakehouse.resources.vault import VaultResource
from lakehouse.resources.warehouse import DuckDBWarehouse
from lakehouse.settings import Settings

__all__ = [
    "DuckDBWarehouse",
    "LakeStorage",
    "PiiTokenizer",
    "PlatformResources",
    "VaultResource",
    "lake_storage",
]


def lake_storage(settings: Settings, *, env_vars: bool = True) -> LakeStorage:
    """The lake resource; on S3, credentials as ``EnvVar``s of the standard AWS variables (the
    ones the dbt subprocess inherits too), or the default credential chain when they are unset.

    ``env_vars=False`` is for code outside Dagster (the command line), which uses the resource
    without Dagster resolving it: the clients' default chain reads the same variables.
    """
    keys: dict[str, str] = {}
    if settings.uses_s3 and env_vars:
        keys = {
            field: dg.EnvVar(variable)
            for field, variable in (
                ("aws_access_key_id", "AWS_ACCESS_KEY_ID"),
                ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
                ("aws_session_token", "AWS_SESSION_TOKEN"),
            )
            if variable in settings.aws_variables
        }
    return LakeStorage(
        landing_root=settings.landing_root,
        lake_root=settings.lake_root,
        s3_region=settings.s3_region,
        s3_endpoint_url=settings.s3_endpoint_url,
        **keys,
    )


@dataclass(frozen=True)
class PlatformResources:
    lake: LakeStorage
    warehouse: DuckDBWarehouse
    pii: PiiTokenizer
    vault: VaultResource

    @classmethod
    def from_settings(cls, settings: Settings) -> PlatformResources:
        return cls(
            lake=lake_storage(settings),
            warehouse=DuckDBWarehouse(path=settings.warehouse_path),
            pii=PiiTokenizer(key=dg.EnvVar("LAKEHOUSE_PII_KEY")),
            vault=VaultResource(root=settings.vault_root, key=dg.EnvVar("LAKEHOUSE_VAULT_KEY")),
        )

    def pick(self, *names: str) -> dict[str, dg.ConfigurableResource]:
        return {name: getattr(self, name) for name in names}
