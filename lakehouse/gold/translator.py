"""How dbt's nodes become Dagster asset keys: ``silver/<table>`` for the ``silver`` sources (so
gold hangs under the silver assets), ``gold/<model>`` for models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator


class LakehouseTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source" and props["source_name"] == "silver":
            return spec.replace_attributes(key=dg.AssetKey(["silver", props["name"]]))
        if props["resource_type"] == "model":
            return spec.replace_attributes(key=dg.AssetKey(["gold", props["name"]]), group_name="gold")
        return spec
