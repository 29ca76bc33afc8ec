"""The lake's storage: the landing zone files arrive in, and the root of the Delta tables."""

from __future__ import annotations

import dagster as dg

from lakehouse.tables.location import TableLocation


class LakeStorage(dg.ConfigurableResource):
    """Local folders by default (``./data``); S3 URIs in production.

    Tables live at ``<lake_root>/<layer>/<name>``: ``bronze/orders``, ``quarantine/orders``,
    ``silver/orders``.
    """

    landing_root: str
    lake_root: str

    def table(self, layer: str, name: str) -> TableLocation:
        return TableLocation(f"{self.lake_root.rstrip('/')}/{layer}/{name}")
