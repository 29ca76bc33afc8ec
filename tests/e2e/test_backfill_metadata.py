"""A long single-run backfill writes its run-wide tables once, not once per day.

A step's metadata is copied onto every day's materialisation; the run's tables (a row per day,
a line per file) grow with the range, so a year's backfill wrote a year-long table 365 times
(40 % of its event log in ``bench/backfill.py``). Past 31 days they go to the last day alone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from tests.helpers import make_settings

FIRST, LAST = date(2026, 1, 1), date(2026, 2, 2)  # 33 days


def test_a_long_backfill_puts_its_run_tables_on_its_last_day_and_each_day_keeps_its_counts(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    generate(settings.landing_root, FIRST, LAST, orders_per_day=20, seed=5)
    (tmp_path / "home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "home"))
    result = materialize_range(
        build_definitions(settings),
        FIRST,
        LAST,
        instance=instance,
        selection=["bronze/orders", "silver/orders"],
        raise_on_error=False,
    )
    assert result.success
    for asset in ("bronze/orders", "silver/orders"):
        by_day = {
            e.materialization.partition: e.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.materialization.asset_key.to_user_string() == asset
        }
        assert len(by_day) == 33, asset
        with_tables = sorted(day for day, metadata in by_day.items() if "per_day" in metadata)
        assert with_tables == [LAST.isoformat()], asset
        assert all("dagster/row_count" in metadata for metadata in by_day.values()), asset
        assert (
            by_day[FIRST.isoformat()]["run_tables"].value
            == f"on the materialisation of {LAST}, the run's last day"
        )
    bronze_last = next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key.to_user_string() == "bronze/orders"
        and e.materialization.partition == LAST.isoformat()
    )
    assert "files" in bronze_last
