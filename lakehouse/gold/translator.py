"""How dbt's nodes become Dagster asset keys and checks: ``silver/<table>`` for the ``silver``
sources (so gold hangs under the silver assets), ``gold/<model>`` for models, in any package.
What the catalog shows for them (description, owners) is ``gold/metadata.py``'s.

dbt tests are checks of the asset they test. A test of an ephemeral model arrives here already
pointed at the model it is compiled into (``gold/manifest.py``); its check depends on what that
model reads, not on the ephemeral model, which is no asset. A source test is a check of the
silver asset, owned by one gold definition only (``owns_source_tests``). Tests of a daily
microbatch model are partitioned checks (one result per day, ``gold/per_day.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from lakehouse.gold.manifest import is_ephemeral, tested_node
from lakehouse.gold.metadata import dbt_description, inherited_owners
from lakehouse.gold.per_day import microbatch_event_time


class LakehouseTranslator(DagsterDbtTranslator):
    def __init__(
        self,
        *,
        owns_source_tests: bool = True,
        calendar: dg.PartitionsDefinition | None = None,
        owners_by_source: Mapping[tuple[str, str], Sequence[str]] | None = None,
    ):
        """``calendar``: the partitions of the daily microbatch models, which their tests share;
        ``owners_by_source``: owners of each dbt source ``(source_name, table)``, inherited by the
        models built from it that declare none."""
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                enable_source_tests_as_checks=True,
                # The demo's package and the project may both declare a silver table.
                enable_duplicate_source_asset_keys=True,
            )
        )
        self.owns_source_tests = owns_source_tests
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
        test = manifest["nodes"].get(unique_id, {})
        target = tested_node(manifest, test) or ""
        if target.startswith("source.") and not self.owns_source_tests:
            return None
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        model = manifest["nodes"].get(target, {})
        additional_deps = [dep.asset_key for dep in spec.additional_deps]
        if is_ephemeral(model):
            # dagster-dbt made the ephemeral model (no asset) a dependency of the check: keep only
            # real assets, the model's own inputs already come with the model the check belongs to.
            ephemeral_keys = {
                super(LakehouseTranslator, self).get_asset_spec(manifest, parent, project).key
                for parent in manifest["parent_map"].get(unique_id, [])
                if parent in manifest["nodes"] and is_ephemeral(manifest["nodes"][parent])
            } | {self.get_asset_spec(manifest, target, project).key}
            additional_deps = [key for key in additional_deps if key not in ephemeral_keys]
        daily = microbatch_event_time(model) is not None
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
            partitions_def=(asset_spec.partitions_def or self._calendar) if daily else None,
        )
