"""What the gold assets are made of, read from dbt's manifest: which models are daily, which are
whole tables, and which asset each dbt test is a check of.

- **Daily** models are microbatch incrementals: one batch per day, so they share the lakehouse's
  daily partitions and a run rebuilds only its days. Every other node (tables, views, seeds,
  snapshots, other incrementals) is rebuilt whole by every run that selects it, so it is an
  unpartitioned asset: a one-day run records one materialisation, not one per day of a window.
- **Tests of ephemeral models** would vanish from Dagster: an ephemeral model is no asset, it is
  compiled into the models that select from it. Its tests become checks of the materialised model
  it is compiled into (the first by unique id when there are several, or the one the test names
  in ``meta: {dagster: {ref: {name: ...}}}``, dagster-dbt's own convention).

Pure functions of the manifest's JSON: nothing here imports dbt or Dagster.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# dbt's selector for the daily models (dagster-dbt hands it to dbt on a full run).
DAILY_SELECT = "config.incremental_strategy:microbatch"
ASSET_TYPES = ("model", "seed", "snapshot")

Manifest = Mapping[str, Any]


def is_ephemeral(node: Mapping[str, Any]) -> bool:
    return node.get("resource_type") == "model" and node.get("config", {}).get("materialized") == "ephemeral"


def is_daily(node: Mapping[str, Any]) -> bool:
    """What ``DAILY_SELECT`` selects, among asset nodes."""
    return node.get("resource_type") == "model" and node.get("config", {}).get("incremental_strategy") == (
        "microbatch"
    )


def asset_nodes(manifest: Manifest) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for unique_id, node in manifest["nodes"].items():
        if node.get("resource_type") in ASSET_TYPES and not is_ephemeral(node):
            yield unique_id, node


def materialised_consumers(manifest: Manifest, unique_id: str) -> list[str]:
    """The non-ephemeral models an ephemeral model is compiled into (through other ephemerals)."""
    found: set[str] = set()
    queue = list(manifest["child_map"].get(unique_id, []))
    seen: set[str] = set()
    while queue:
        child = queue.pop()
        if child in seen or child not in manifest["nodes"]:
            continue
        seen.add(child)
        node = manifest["nodes"][child]
        if is_ephemeral(node):
            queue.extend(manifest["child_map"].get(child, []))
        elif node.get("resource_type") in ASSET_TYPES:
            found.add(child)
    return sorted(found)


def tested_node(manifest: Manifest, test: Mapping[str, Any]) -> str | None:
    """The node a test is about: a generic test's attached node, or a singular test's one parent."""
    parents = test.get("depends_on", {}).get("nodes", [])
    return test.get("attached_node") or (parents[0] if len(parents) == 1 else None)


def _ref(test: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = test.get("config", {}).get("meta") or test.get("meta") or {}
    return meta.get("dagster", {}).get("ref", {})


def _unique_id_of_ref(manifest: Manifest, ref: Mapping[str, Any]) -> str | None:
    package = ref.get("package") or manifest.get("metadata", {}).get("project_name")
    for unique_id, node in manifest["nodes"].items():
        if (node.get("name"), node.get("package_name"), node.get("version")) == (
            ref.get("name"),
            package,
            ref.get("version"),
        ):
            return unique_id
    return None


def attach_ephemeral_tests(manifest: Manifest) -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of the manifest in which each test of an ephemeral model is a test of the model it
    is compiled into, and ``{test unique id: that model's unique id}``.

    Two edits make dagster-dbt see it that way, both when it builds the check specs and when it
    reads the test's result: the test names its model in ``config.meta.dagster.ref`` (kept if the
    test already names one), and the child map lists the test under that model.
    """
    patched = dict(manifest)
    patched["nodes"] = dict(manifest["nodes"])
    patched["child_map"] = {key: list(value) for key, value in manifest["child_map"].items()}
    attached: dict[str, str] = {}
    for unique_id, test in manifest["nodes"].items():
        if test.get("resource_type") != "test":
            continue
        target = tested_node(manifest, test)
        if target is None or target not in manifest["nodes"] or not is_ephemeral(manifest["nodes"][target]):
            continue
        ref = _ref(test)
        owner = _unique_id_of_ref(manifest, ref) if ref else None
        if owner is None:
            consumers = materialised_consumers(manifest, target)
            if not consumers:
                continue  # an ephemeral model nothing materialises: its tests test nothing that exists
            owner = consumers[0]
        node = manifest["nodes"][owner]
        test = copy.deepcopy(test)
        config = test.setdefault("config", {})
        meta = config.get("meta") or {}
        config["meta"] = meta
        meta.setdefault("dagster", {})["ref"] = {"name": node["name"], "package": node["package_name"]}
        patched["nodes"][unique_id] = test
        children = patched["child_map"].setdefault(owner, [])
        if unique_id not in children:
            children.append(unique_id)
        attached[unique_id] = owner
    return patched, attached


@dataclass(frozen=True)
class GoldPart:
    """One ``@dbt_assets`` definition: what it selects in dbt, and the tests it owns that its
    model selection alone would not run (they test ephemeral models, or sources)."""

    select: str
    exclude: str | None
    extra_tests: tuple[str, ...]  # unique ids
    owns_source_tests: bool


@dataclass(frozen=True)
class GoldSplit:
    daily: GoldPart | None
    whole: GoldPart | None


def fqn(manifest: Manifest, unique_id: str) -> str:
    return ".".join(manifest["nodes"][unique_id]["fqn"])


def source_tests(manifest: Manifest) -> list[str]:
    return sorted(
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node.get("resource_type") == "test" and (tested_node(manifest, node) or "").startswith("source.")
    )


def split(manifest: Manifest, attached: Mapping[str, str]) -> GoldSplit:
    """Daily models in one definition, everything else in another; either may be absent.

    Source tests are checks of the silver assets, owned by one definition only (a check key may
    exist once): the whole-table one when there is one (dbt's ``fqn:*`` already runs them), else
    the daily one, which asks for them by name.
    """
    nodes = dict(asset_nodes(manifest))
    daily_ids = {u for u, n in nodes.items() if is_daily(n)}
    has_whole = len(nodes) > len(daily_ids)
    daily_tests = sorted(t for t, owner in attached.items() if owner in daily_ids)
    sources = source_tests(manifest)
    daily = (
        GoldPart(
            select=DAILY_SELECT,
            exclude=None,
            extra_tests=tuple(daily_tests + ([] if has_whole else sources)),
            owns_source_tests=not has_whole,
        )
        if daily_ids
        else None
    )
    whole = (
        GoldPart(
            select="fqn:*",
            exclude=" ".join([DAILY_SELECT, *(fqn(manifest, t) for t in daily_tests)]),
            extra_tests=tuple(sorted(t for t, owner in attached.items() if owner not in daily_ids)),
            owns_source_tests=True,
        )
        if has_whole
        else None
    )
    return GoldSplit(daily=daily, whole=whole)
