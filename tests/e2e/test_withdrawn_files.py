"""A withdrawn landing file: when a run accepts that it is gone (``allow_missing_files``, set in
the run config as the README says), the rows that came only from it leave bronze, silver and gold,
and the receipt (the materialisations' metadata, the run's log) says so. A key merely missing from
a file that is still there stays (flag, don't drop).

The data is the demo's; the withdrawn file is a second delivery of the day with orders of its own.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.location import TableLocation
from tests.helpers import make_settings, rows

pytestmark = pytest.mark.slow

START, END = date(2026, 4, 1), date(2026, 4, 3)
DAY = date(2026, 4, 2)
EXTRA = f"orders/{DAY}/orders_{DAY}_extra.csv"
ALLOW_MISSING = {"ops": {"bronze__orders": {"config": {"allow_missing_files": True}}}}


def extra_delivery(landing: Path) -> list[str]:
    """A second file for DAY with five orders of that day under new ids; returns the ids."""
    source = landing / "orders" / DAY.isoformat() / f"orders_{DAY}.csv"
    header, *body = list(csv.reader(io.StringIO(source.read_text())))
    picked = [r for r in body if len(r) == len(header) and r[8].startswith(DAY.isoformat())][:5]
    for row in picked:
        row[0] = row[0] + "X"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *picked])
    (landing / EXTRA).write_text(out.getvalue())
    return [r[0] for r in picked]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("withdrawn")
    settings = make_settings(root)
    landing = Path(settings.landing_root)
    generate(landing, START, END, orders_per_day=80, seed=8)
    extra_ids = extra_delivery(landing)
    defs = build_definitions(settings)
    (root / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(root / "home"))

    def gold_orders() -> int:
        with duckdb.connect(settings.warehouse_path, read_only=True) as con:
            return con.execute(
                "SELECT sum(orders + flagged_orders) FROM fct_daily_sales WHERE order_date = ?", [DAY]
            ).fetchall()[0][0]

    first = materialize_range(defs, START, END, instance=instance)
    before = gold_orders()
    (landing / EXTRA).unlink()  # withdrawn by the source
    refused = materialize_range(defs, DAY, DAY, instance=instance, raise_on_error=False)
    accepted = materialize_range(defs, DAY, DAY, instance=instance, run_config=ALLOW_MISSING)
    return {
        "settings": settings,
        "extra_ids": extra_ids,
        "first": first,
        "before": before,
        "refused": refused,
        "accepted": accepted,
        "after": gold_orders(),
        "log": [e.user_message for e in instance.all_logs(accepted.run_id)],
    }


def metadata(result: dg.ExecuteInProcessResult, key: str) -> dict:
    event = next(
        e
        for e in reversed(result.get_asset_materialization_events())
        if e.asset_key.to_user_string() == key and "restated_by_run_for" not in e.materialization.metadata
    )
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


def test_without_the_flag_the_run_stops_and_names_the_file(story) -> None:
    refused = story["refused"]
    assert not refused.success
    messages = " ".join(
        e.event_specific_data.error.message
        for e in refused.all_events
        if e.event_type_value == "STEP_FAILURE"
    )
    assert EXTRA in messages and "allow_missing_files" in messages


def test_rows_only_a_withdrawn_file_brought_leave_silver_and_gold(story) -> None:
    lake = story["settings"].lake_root
    ids = set(story["extra_ids"])
    for layer in ("bronze", "silver"):
        held = {
            r["order_id"] for r in rows(TableLocation(f"{lake}/{layer}/orders"), "SELECT order_id FROM t")
        }
        assert not held & ids, layer
        assert held, layer
    assert story["after"] == story["before"] - len(ids)


def test_the_receipt_names_the_file_and_its_rows(story) -> None:
    accepted = story["accepted"]
    bronze, silver = metadata(accepted, "bronze/orders"), metadata(accepted, "silver/orders")
    assert bronze["rows_withdrawn"] == len(story["extra_ids"]) == silver["rows_withdrawn"]
    assert bronze["withdrawn_files"] == {EXTRA: len(story["extra_ids"])}
    assert silver["withdrawn_files"] == {EXTRA: len(story["extra_ids"])}
    logged = story["log"]
    assert any(EXTRA in m and "dropped from bronze" in m for m in logged)
    assert any(EXTRA in m and "deleted" in m for m in logged)
