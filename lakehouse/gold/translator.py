"""How dbt's nodes become Dagster asset keys: ``silver/<table>`` for the ``silver`` sources (so
gold hangs under the silver assets), ``gold/<model>`` for models. What the catalog shows for
them (description, owners) is ``gold/metadata.py``'s; tests of a daily microbatch model are
partitioned checks (one result per day, ``gold/per_day.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from lakehouse.gold.metadata import dbt_description, inherited_owners
from lakehouse.gold.per_day import microbatch_event_time


class LakehouseTranslator(DagsterDbtTranslator):
    def __init__(
        self,
        settings: DagsterDbtTranslatorSettings | None = None,
        *,
        calendar: dg.PartitionsDefinition | None = None,
        owners_by_source: Mapping[tuple[str, str], Sequence[str]] | None = None,
    ):
        """``calendar``: the partitions of the daily microbatch models, which their tests share;
        ``owners_by_source``: owners of each dbt source ``(source_name, table)``, inherited by the
        models built from it that declare none."""
        super().__init__(settings)
        self._calendar = calendar
        self._owners_by_source = dict(owners_by_source or {})

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source" and props["source_name"] == "silver":
            return spec.replace_attributes(key=dg.AssetKey(["silver", props["name"]]))
        if props["resource_type"] == "model":
            owners = spec.owners or inherited_owners(manifest, unique_id, self._owners_by_source)
            return spec.replace_attributes(
                key=dg.AssetKey(["gold", props["name"]]), group_name="gold", owners=owners
            )
        return spec

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return dbt_description(dbt_resource_props)

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        model = manifest["nodes"].get(manifest["nodes"].get(unique_id, {}).get("attached_node") or "", {})
        partitions = asset_spec.partitions_def or self._calendar
        if spec is None or partitions is None or microbatch_event_time(model) is None:
            return spec
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
            partitions_def=partitions,
        )
