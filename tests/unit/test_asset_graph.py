"""A snapshot of the asset graph the repository's contracts and dbt project produce.

Keys, upstream keys, groups, kinds, owners, partitioning, and each asset's checks with whether
they block: an unintended change to the graph shows in review as a change to
``__snapshots__/test_asset_graph.ambr``. After an intended change, refresh it with
``.venv/bin/python -m pytest tests/unit/test_asset_graph.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from lakehouse.platform import build_definitions
from tests.helpers import make_settings


def describe_graph(defs: dg.Definitions) -> dict[str, dict]:
    graph = defs.resolve_asset_graph()
    described = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        described[key.to_user_string()] = {
            "upstream": sorted(k.to_user_string() for k in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "partitioned": node.partitions_def is not None,
            "executable": node.is_executable,
            "checks": {
                check.name: {"blocking": graph.get(check).blocking}
                for check in sorted(graph.get_check_keys_for_assets({key}), key=lambda c: c.name)
            },
        }
    return described


def test_the_asset_graph_matches_its_snapshot(tmp_path: Path, snapshot) -> None:
    assert describe_graph(build_definitions(make_settings(tmp_path))) == snapshot


def test_every_asset_that_runs_has_a_single_run_backfill_policy(tmp_path: Path) -> None:
    """Dagster's CLI refuses a partition range (the README's `dg launch --assets '*'
    --partition-range`) if any selected asset lacks one, with a message that names none."""
    graph = build_definitions(make_settings(tmp_path)).resolve_asset_graph()
    missing = [
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_executable and graph.get(key).backfill_policy != dg.BackfillPolicy.single_run()
    ]
    assert not missing
