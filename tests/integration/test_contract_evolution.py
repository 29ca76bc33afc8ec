"""An additive contract change on real Delta tables: a new nullable column reaches bronze (schema
merge) and silver (``DeltaTable.alter.add_columns``) without rewriting what was written before."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.contracts.schema import silver_schema
from lakehouse.demo.generate import generate
from lakehouse.tables.delta import SchemaMismatchError, evolve_columns
from tests.helpers import REPO, Lake, contract_from, data_file_digests, rows

D1, D2, D3, D4, D5 = (date(2026, 3, d) for d in range(1, 6))
CUSTOMERS = (REPO / "sources" / "customers.yaml").read_text()
ORDERS = (REPO / "sources" / "orders.yaml").read_text()
LANGUAGE = "  - {name: preferred_language, type: string}\n"
COUPON = "  - {name: coupon_code, type: string}\n"


def with_column(text: str, after: str, column: str) -> str:
    """The contract with ``column`` declared after the line that declares ``after``."""
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if f"name: {after}," in line)
    return "".join([*lines[: at + 1], column, *lines[at + 1 :]])


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    # Three days: the CRM adds preferred_language to its snapshot on the third.
    generate(tmp_path / "landing", D1, D3, orders_per_day=60)
    return tmp_path


def test_scd2_silver_gains_the_column_and_keeps_its_history(landing: Path) -> None:
    lake = Lake(landing, CUSTOMERS)
    for day in (D1, D2):
        lake.daily(day)
    before = rows(lake.silver)
    bronze_days = {r["_event_date"] for r in rows(lake.bronze)}

    lake.contract = contract_from(with_column(CUSTOMERS, "country", LANGUAGE))
    lake.daily(D3)

    assert lake.bronze.open().schema().to_arrow().field("preferred_language").nullable
    bronze = rows(lake.bronze)
    assert all(r["preferred_language"] is None for r in bronze if r["_event_date"] < D3)
    assert any(r["preferred_language"] for r in bronze if r["_event_date"] == D3)
    assert bronze_days <= {r["_event_date"] for r in bronze}

    silver = rows(lake.silver)
    assert "preferred_language" in lake.silver.open().schema().to_arrow().names
    # Every version written before the change is still there with the values it had (the day-3
    # snapshot re-observing a version refreshes only its lineage and the new field).
    kept = {r["_version_sk"]: r for r in silver}
    values = [c.name for c in lake.contract.columns if c.name not in ("snapshot_at", "preferred_language")]
    for old in before:
        new = kept[old["_version_sk"]]
        assert [new[k] for k in (*values, "valid_from")] == [old[k] for k in (*values, "valid_from")]
    assert any(r["preferred_language"] for r in silver if r["is_current"])


def test_merge_silver_gains_the_column_without_rewriting_old_days(tmp_path: Path) -> None:
    # The generated order files carry coupon_code, undeclared so far (rescued in bronze).
    generate(tmp_path / "landing", D1, D5, orders_per_day=60)
    lake = Lake(tmp_path, ORDERS)
    lake.daily(D1)
    lake.daily(D2)
    evolved = contract_from(with_column(ORDERS, "currency", COUPON))

    early = sorted(f for f in lake.silver.open().file_uris() if f.split("_event_date=")[1][:10] <= str(D2))
    digests = data_file_digests(lake.silver)
    version = lake.silver.open().version()
    assert evolve_columns(lake.silver, silver_schema(evolved), {"test": "evolve"}) == ["coupon_code"]
    assert lake.silver.open().version() == version + 1
    assert data_file_digests(lake.silver) == digests  # adding a column rewrote no file
    assert evolve_columns(lake.silver, silver_schema(evolved), {}) == []  # a rerun: nothing to add

    lake.contract = evolved
    lake.daily(D5)  # restates D3..D5 (lookback 2): D1 and D2 stay as written
    assert early == sorted(
        f for f in lake.silver.open().file_uris() if f.split("_event_date=")[1][:10] <= str(D2)
    )
    silver = rows(lake.silver)
    assert {r["_event_date"] for r in silver} == {D1, D2, D3, D4, D5}
    assert all(r["coupon_code"] is None for r in silver if r["_event_date"] <= D2)
    assert any(r["coupon_code"] for r in silver if r["_event_date"] == D5)
    bronze = rows(lake.bronze)
    assert all(r["coupon_code"] is None for r in bronze if r["_event_date"] <= D2)
    assert any(r["coupon_code"] for r in bronze if r["_event_date"] == D5)


def test_anything_but_a_nullable_column_is_refused_on_the_table(landing: Path) -> None:
    lake = Lake(landing, ORDERS)
    lake.daily(D1)
    schema = silver_schema(lake.contract)
    required = schema.append(pa.field("coupon", pa.string(), nullable=False))
    with pytest.raises(SchemaMismatchError, match="coupon is not nullable"):
        evolve_columns(lake.silver, required, {})
    narrowed = schema.set(schema.get_field_index("quantity"), pa.field("quantity", pa.int16()))
    with pytest.raises(SchemaMismatchError, match="quantity is int32 in the table but int16"):
        evolve_columns(lake.silver, narrowed, {})
