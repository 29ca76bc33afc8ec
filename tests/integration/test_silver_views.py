"""Silver tables as warehouse views (``gold/delta_views.py``): string filters work on merged
silver, the views outlive the connection that made them, and filters still prune by day.

The silver table is the platform's own (a bronze ingest, then a silver MERGE), so its files carry
the ``string_view`` Arrow annotation that delta-rs's MERGE writes.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from lakehouse.gold.delta_views import DeltaViewError, publish
from tests.helpers import HEADER, Lake

DAYS = [date(2026, 3, 1) + timedelta(days=i) for i in range(3)]


@pytest.fixture
def lake(tmp_path: Path) -> tuple[Lake, Counter]:
    """Three days of events in silver; the kinds per day (after silver's normalisation)."""
    lake, kinds, rng = Lake(tmp_path), Counter(), random.Random(3)
    for day in DAYS:
        lines = [HEADER]
        for i in range(30):
            kind = rng.choice(["click", "click", " Buy", "refund"])
            kinds[day, kind.strip().lower()] += 1
            lines.append(f"{day:%d}-{i},acc,,{kind},{i}.25,1,true,{day}T{i % 24:02}:00:00Z")
        lake.file(f"events/{day}/e.csv", "\n".join(lines) + "\n", arrived=day)
    lake.ingest(DAYS[0], DAYS[-1])
    lake.build(DAYS[0], DAYS[-1])
    return lake, kinds


def test_string_filters_work_on_merged_silver_and_the_views_persist(lake, tmp_path: Path) -> None:
    events, kinds = lake
    silver = DeltaTable(events.silver.uri)
    # A delta-rs MERGE (scd2's write) rewrites a day's file with string_view columns: the case the
    # views exist for. Merge mode rewrites days through write_deltalake, which writes strings.
    day = silver.to_pyarrow_table(filters=[("_event_date", "=", DAYS[0])])
    silver.merge(
        day, predicate="t._sk = s._sk AND t._event_date = s._event_date", source_alias="s", target_alias="t"
    ).when_matched_update_all().execute()
    kinds_written = {pq.read_schema(f.removeprefix("file://")).field("kind").type for f in silver.file_uris()}
    assert pa.string_view() in kinds_written
    warehouse = str(tmp_path / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        (view,) = publish(con, "silver", str(tmp_path / "lake" / "silver"))
        assert view.name == "events" and view.version == silver.version()

    with duckdb.connect(warehouse, read_only=True) as con:  # another connection, the file only
        buys = con.execute("SELECT count(*) FROM silver.events WHERE kind = 'buy'").fetchall()[0][0]
        assert buys == sum(n for (_, kind), n in kinds.items() if kind == "buy")
        ranged = con.execute("SELECT count(*) FROM silver.events WHERE kind >= 'c' AND kind < 'd'").fetchall()
        assert ranged == [(sum(n for (_, kind), n in kinds.items() if kind == "click"),)]
        accepted = con.execute(
            "SELECT kind FROM silver.events WHERE kind NOT IN ('click', 'buy') GROUP BY kind"
        ).fetchall()
        assert accepted == [("refund",)]
        one_day = f"SELECT count(*) FROM silver.events WHERE _event_date = DATE '{DAYS[1]}' AND kind = 'buy'"
        assert con.execute(one_day).fetchall() == [(kinds[DAYS[1], "buy"],)]
        plan = con.execute(f"EXPLAIN {one_day}").fetchall()[0][1]
        assert f"Scanning Files: 1/{len(silver.file_uris())}" in plan  # pruned to the day's file


def test_a_refresh_follows_the_table_and_drops_views_of_tables_gone(lake, tmp_path: Path) -> None:
    events, _ = lake
    root = tmp_path / "lake" / "silver"
    gone = root / "gone"
    write_deltalake(str(gone), pa.table({"id": pa.array([1], pa.int64())}))
    warehouse = str(tmp_path / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        publish(con, "silver", str(root))
        con.execute("CREATE TABLE silver.mine AS SELECT 1 AS x")  # not a view of ours: kept
        # A later version with a column no file has yet: the view has it, NULL.
        table = DeltaTable(events.silver.uri)
        table.alter.add_columns([_nullable_string("note")])
        shutil.rmtree(gone)
        (view,) = publish(con, "silver", str(root))
        assert view.version == table.version()
        names = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'silver'"
            ).fetchall()
        }
        assert names == {"events", "mine"}
        assert con.execute("SELECT count(*), count(note) FROM silver.events").fetchall() == [(90, 0)]


def _nullable_string(name: str):
    from deltalake.schema import Field, PrimitiveType

    return Field(name, PrimitiveType("string"), nullable=True)


def test_a_table_whose_folders_disagree_with_its_log_is_refused(tmp_path: Path) -> None:
    """DuckDB reads partition values from folder names: a table written elsewhere with other
    folder names would be read with wrong days, so it is refused, naming the file."""
    root = tmp_path / "silver" / "odd"
    write_deltalake(str(root), pa.table({"day": ["2026-03-01"], "x": [1]}), partition_by=["day"])
    (folder,) = [p for p in root.iterdir() if p.name.startswith("day=")]
    folder.rename(root / "elsewhere")
    log = next((root / "_delta_log").glob("*.json"))
    log.write_text(log.read_text().replace("day=2026-03-01/", "elsewhere/"))
    with (
        duckdb.connect() as con,
        pytest.raises(DeltaViewError, match=r"odd: file elsewhere/.* day=2026-03-01"),
    ):
        publish(con, "silver", str(tmp_path / "silver"))
