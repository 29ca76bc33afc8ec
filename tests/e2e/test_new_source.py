"""Adding a source is a YAML file: no Python changes, and its assets exist on the next load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.location import TableLocation
from tests.conftest import make_settings
from tests.helpers import rows, write_landing

RETURNS = """\
name: returns
owner: returns-team@example.com
description: Parcels sent back by customers.
extract: {kind: files, path: "returns/{date}/*.jsonl", format: jsonl}
partitions: {start: 2026-01-01, event_time: returned_at, lookback_days: 1}
primary_key: [return_id]
columns:
  - {name: return_id,   type: string,    nullable: false}
  - {name: order_id,    type: string,    nullable: false}
  - {name: reason,      type: string,    normalize: [trim, lower]}
  - {name: refund,      type: "decimal(12,2)"}
  - {name: returned_at, type: timestamp, nullable: false}
quality:
  - {expect: column_values_to_be_in_set, column: reason, value_set: [damaged, wrong_size, changed_mind], severity: warn}
"""


def test_a_third_source_is_one_yaml_file(tmp_path: Path, sources_dir: Path) -> None:
    settings = make_settings(tmp_path, sources_dir)
    before = build_definitions(settings).resolve_asset_graph().get_all_asset_keys()
    (sources_dir / "returns.yaml").write_text(RETURNS)
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    new = {
        dg.AssetKey(["landing", "returns"]),
        dg.AssetKey(["bronze", "returns"]),
        dg.AssetKey(["silver", "returns"]),
    }
    assert graph.get_all_asset_keys() - before == new
    bronze = graph.get(dg.AssetKey(["bronze", "returns"]))
    assert bronze.partitions_def == graph.get(dg.AssetKey(["bronze", "orders"])).partitions_def
    assert bronze.owners == ["returns-team@example.com"]

    day = date(2026, 6, 1)
    write_landing(
        settings.landing_root,
        "returns/2026-06-01/r.jsonl",
        """
        {"return_id": "r1", "order_id": "O1", "reason": " Damaged ", "refund": "19.99", "returned_at": "2026-06-01T10:00:00Z"}
        {"return_id": "r2", "order_id": "O2", "reason": "lost", "refund": 5, "returned_at": "2026-06-01T11:00:00Z"}
        """,
        arrived=day,
    )
    result = materialize_range(defs, day, day, selection=["bronze/returns", "silver/returns"])
    assert result.success
    silver = {r["return_id"]: r for r in rows(TableLocation(f"{settings.lake_root}/silver/returns"))}
    assert silver["r1"]["reason"] == "damaged" and silver["r1"]["dq_valid"]
    assert silver["r2"]["dq_flags"] == ["column_values_to_be_in_set(reason)"]
