"""A changed PII key: the fingerprint recorded with every table stops a run with another key,
naming the tables and days; ``lakehouse pii rotate`` re-tokenises them deliberately, and tokens
join across sources again. On the demo's data, through Dagster and the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from lakehouse.bronze.pii import key_fingerprint
from lakehouse.bronze.pii_keys import FINGERPRINT, days_by_fingerprint
from lakehouse.cli import main
from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.history import latest_with
from lakehouse.tables.location import TableLocation
from tests.helpers import PII_KEY, make_settings

pytestmark = pytest.mark.slow

START, END = date(2026, 6, 1), date(2026, 6, 3)
NEW_KEY = "a-new-pii-key-for-the-rotation-test"
BRONZE_SILVER = ["bronze/orders", "silver/orders", "bronze/customers", "silver/customers"]


def join_rate(lake_root: str) -> float:
    """Share of silver orders whose e-mail token matches a token of silver customers."""
    con = duckdb.connect()
    for name in ("orders", "customers"):
        location = TableLocation(f"{lake_root}/silver/{name}")
        con.register(name, location.open().to_pyarrow_dataset(filesystem=location.filesystem()))
    return con.execute(
        "SELECT avg(CASE WHEN customer_email IN (SELECT email FROM customers) THEN 1.0 ELSE 0 END) "
        "FROM orders WHERE customer_email IS NOT NULL"
    ).fetchall()[0][0]


def test_a_run_with_another_key_stops_and_a_rotation_re_tokenises(tmp_path: Path, monkeypatch) -> None:
    settings = make_settings(tmp_path)
    generate(settings.landing_root, START, END, orders_per_day=50, seed=12)
    defs = build_definitions(settings)
    home = tmp_path / "home"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(home))
    assert materialize_range(defs, START, END, instance=instance, selection=BRONZE_SILVER).success
    assert join_rate(settings.lake_root) == 1.0
    orders = TableLocation(f"{settings.lake_root}/bronze/orders")
    assert latest_with(orders, FINGERPRINT).get(FINGERPRINT) == key_fingerprint(PII_KEY)
    assert latest_with(TableLocation(f"{settings.lake_root}/silver/orders"), FINGERPRINT) is not None

    monkeypatch.setenv("LAKEHOUSE_PII_KEY", NEW_KEY)
    refused = materialize_range(
        defs, END, END, instance=instance, selection=BRONZE_SILVER, raise_on_error=False
    )
    assert not refused.success
    failures = " ".join(
        e.event_specific_data.error.message
        for e in refused.all_events
        if e.event_type_value == "STEP_FAILURE"
    )
    assert "LAKEHOUSE_PII_KEY is not the key these tables were tokenised with" in failures
    assert "bronze/orders: 2026-06-01..2026-06-03" in failures
    assert "quarantine/customers" in failures and "lakehouse pii rotate" in failures
    assert join_rate(settings.lake_root) == 1.0  # nothing was written with the new key

    env = {**settings.as_environ(), "DAGSTER_HOME": str(home), "LAKEHOUSE_PII_KEY": NEW_KEY}
    narrow = CliRunner().invoke(main, ["pii", "rotate", "--start", "2026-06-02"], env=env)
    assert narrow.exit_code == 1 and "leaves out days written under the old key (2026-06-01)" in narrow.output
    rotated = CliRunner().invoke(main, ["pii", "rotate"], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert "bronze/orders: 2026-06-01..2026-06-03 written under another key" in rotated.output
    assert set(days_by_fingerprint(orders).values()) == {key_fingerprint(NEW_KEY)}
    assert join_rate(settings.lake_root) == 1.0
    again = CliRunner().invoke(main, ["pii", "rotate"], env=env)
    assert again.exit_code == 0 and "Nothing to rotate" in again.output
    assert materialize_range(defs, END, END, instance=instance, selection=BRONZE_SILVER).success


def test_a_bad_day_on_the_command_line_is_one_line_naming_it_and_the_calendar(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    env = {**settings.as_environ(), "DAGSTER_HOME": str(tmp_path / "home")}
    for args, expected in (
        (
            ["--start", "2026-13-45"],
            "partition key '2026-13-45' is not a day (YYYY-MM-DD: month must be in 1..12)",
        ),
        (
            ["--start", "1999-01-01", "--end", "1999-01-02"],
            "partition key 1999-01-01 is outside the calendar",
        ),
        (
            ["--start", "2026-02-05", "--end", "2026-02-01"],
            "partition range 2026-02-05...2026-02-01 is reversed",
        ),
    ):
        done = CliRunner().invoke(main, ["checks", "slo", *args], env=env)
        assert done.exit_code != 0
        lines = [line for line in done.output.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0] and "the calendar runs from 2026-01-01" in lines[0], (
            done.output
        )
