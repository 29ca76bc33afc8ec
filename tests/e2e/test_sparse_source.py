"""A sparse fact source: days without orders are normal. The contract says so
(``extract.allow_empty_days: true``) and such days load as empty, unjudged by volume; without it,
the run config ``allow_empty_days`` (as the README shows for the launchpad) accepts one run's.

The demo's orders, with one day delivering nothing and one a header-only file.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from tests.helpers import REPO, make_settings

pytestmark = pytest.mark.slow

START, END = date(2026, 7, 1), date(2026, 7, 5)
NOTHING, HEADER_ONLY = date(2026, 7, 3), date(2026, 7, 4)


def _lakehouse(root: Path, sparse: bool):
    sources = root / "sources"
    sources.mkdir()
    orders = (REPO / "sources" / "orders.yaml").read_text()
    if sparse:
        orders = orders.replace("  format: csv\n", "  format: csv\n  allow_empty_days: true\n")
    (sources / "orders.yaml").write_text(orders)
    settings = make_settings(root, sources)
    landing = Path(settings.landing_root)
    generate(landing, START, END, orders_per_day=150, seed=9)
    shutil.rmtree(landing / "customers")
    for path in (landing / "orders").rglob("*.csv"):  # no orders on those two days, late ones neither
        header, *body = path.read_text().splitlines()
        kept = [
            line for line in body if not any(f",{d.isoformat()}T" in line for d in (NOTHING, HEADER_ONLY))
        ]
        path.write_text("\n".join([header, *kept]) + "\n")
    shutil.rmtree(landing / "orders" / NOTHING.isoformat())  # a holiday: nothing delivered
    header_only = landing / "orders" / HEADER_ONLY.isoformat() / f"orders_{HEADER_ONLY}.csv"
    header_only.write_text(header_only.read_text().splitlines()[0] + "\n")
    (root / "home").mkdir()
    return build_definitions(settings), dg.DagsterInstance.local_temp(str(root / "home"))


def day_results(result: dg.ExecuteInProcessResult, check: str) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.partition: e
        for e in result.get_asset_check_evaluations()
        if e.check_name == check and e.partition and e.asset_key.to_user_string() == "bronze/orders"
    }


def test_a_contract_that_declares_empty_days_normal_loads_them_unjudged(tmp_path: Path) -> None:
    defs, instance = _lakehouse(tmp_path, sparse=True)
    result = materialize_range(
        defs, START, END, instance=instance, selection=["bronze/orders", "silver/orders"]
    )
    assert result.success
    breaker, volume, schema = (
        day_results(result, c) for c in ("circuit_breaker", "volume", "schema_contract")
    )
    assert all(e.passed for e in breaker.values())
    for day in (NOTHING, HEADER_ONLY):
        assert volume[day.isoformat()].passed
        assert volume[day.isoformat()].metadata["note"].value == "no rows read for this day"
        assert "header only" not in (schema[day.isoformat()].description or "")  # expected, not noise
    assert not volume[END.isoformat()].passed  # a day with rows is still judged (min_rows: 100)


def test_otherwise_an_empty_day_trips_the_breaker_and_the_run_config_accepts_it(tmp_path: Path) -> None:
    defs, instance = _lakehouse(tmp_path, sparse=False)
    day = NOTHING
    stopped = materialize_range(
        defs, day, day, instance=instance, selection=["bronze/orders"], raise_on_error=False
    )
    assert not stopped.success
    (tripped,) = [e for e in day_results(stopped, "circuit_breaker").values() if not e.passed]
    assert (
        "allow_empty_days" in tripped.description and "extract.allow_empty_days: true" in tripped.description
    )
    accepted = materialize_range(
        defs,
        day,
        day,
        instance=instance,
        selection=["bronze/orders"],
        run_config={"ops": {"bronze__orders": {"config": {"allow_empty_days": True}}}},
    )
    assert accepted.success
    assert day_results(accepted, "circuit_breaker")[day.isoformat()].passed
    header_only = materialize_range(
        defs, HEADER_ONLY, HEADER_ONLY, instance=instance, selection=["bronze/orders"]
    )
    warned = day_results(header_only, "schema_contract")[HEADER_ONLY.isoformat()]
    assert f"orders/{HEADER_ONLY}/orders_{HEADER_ONLY}.csv: header only, no rows" in warned.description
