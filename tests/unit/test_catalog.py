"""What the catalog says about each asset before any run: columns with types (the platform's own
included) and their lineage, where tables live, owners, descriptions; and the pieces of the
per-day gold story that need no dbt run (a dbt test judged on one day, as dbt would)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from lakehouse.assets.columns import (
    bronze_column_lineage,
    bronze_column_schema,
    silver_column_lineage,
    silver_column_schema,
)
from lakehouse.checks.slo import SourceSlo
from lakehouse.contracts.loader import load_contracts
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import bronze_schema, silver_schema
from lakehouse.contracts.types import parse_type
from lakehouse.gold.per_day import DbtTest, restricted_to_day
from lakehouse.platform import build_definitions
from lakehouse.sensors.slo import NOT_EVALUATED, report_cells
from tests.helpers import REPO, make_settings

CONTRACTS = [loaded.contract for loaded in load_contracts(REPO / "sources")]
PLATFORM_TYPES = {
    "date": pa.date32(),
    "string": pa.string(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "list<string>": pa.list_(pa.string()),
}


def arrow_type(type_: str) -> pa.DataType:
    return PLATFORM_TYPES.get(type_) or parse_type(type_).arrow


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
@pytest.mark.parametrize(
    ("shown", "written"), [(bronze_column_schema, bronze_schema), (silver_column_schema, silver_schema)]
)
def test_the_column_schema_is_the_table_every_write_casts_to(
    contract: SourceContract, shown, written
) -> None:
    """Every column, in order, with its type and nullability, the platform's own included."""
    schema = written(contract)
    assert [(c.name, arrow_type(c.type), c.constraints.nullable) for c in shown(contract).columns] == [
        (f.name, f.type, f.nullable) for f in schema
    ]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_column_lineage_links_existing_columns_one_layer_up(contract: SourceContract) -> None:
    bronze = {c.name for c in bronze_column_schema(contract).columns}
    for column, deps in bronze_column_lineage(contract).deps_by_column.items():
        assert column in bronze
        assert {d.asset_key.to_user_string() for d in deps} <= {f"landing/{contract.name}"}
        assert {d.column_name for d in deps} <= {c.name for c in contract.columns}  # the file's fields
    silver = {c.name for c in silver_column_schema(contract).columns}
    lineage = silver_column_lineage(contract).deps_by_column
    for column, deps in lineage.items():
        assert column in silver and {d.column_name for d in deps} <= bronze
    assert {d.column_name for d in lineage["_sk"]} == set(contract.primary_key)


def test_the_catalog_says_where_each_table_lives_who_owns_it_and_what_it_is(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    graph = build_definitions(settings).resolve_asset_graph()

    def node(path: str):
        return graph.get(dg.AssetKey.from_user_string(path))

    lake = Path(settings.lake_root).absolute()
    assert node("bronze/orders").metadata["dagster/uri"] == (lake / "bronze" / "orders").as_uri()
    assert node("silver/customers").metadata["dagster/uri"] == (lake / "silver" / "customers").as_uri()
    gold = node("gold/fct_daily_sales")
    assert gold.owners == ["team:commerce-data"]  # declared by no dbt file: its sources' owners
    assert node("gold/customer_segment_daily_sales").owners == ["team:commerce-data", "team:crm-data"]
    assert gold.description.startswith("Orders and revenue per day") and "Raw SQL" not in gold.description
    report = node("reports/data_slo")
    assert {k.to_user_string() for k in report.parent_keys} == {
        "bronze/orders",
        "bronze/customers",
        "silver/orders",
        "silver/customers",
    }
    assert report.owners == ["team:commerce-data", "team:crm-data"]
    # a dbt test of a daily microbatch model has the model's partitions: one result per day; a
    # test of the ephemeral staging model compiled into it reads the staging rows whole: no days
    checks = graph.get_check_keys_for_assets({gold.key})
    own = [k for k in checks if "fct_daily_sales" in k.name]
    assert own and all(graph.get(k).partitions_def == gold.partitions_def for k in own)
    assert all(graph.get(k).partitions_def is None for k in checks if "stg_demo__" in k.name)


def test_the_slo_report_says_freshness_was_not_evaluated_rather_than_n_a_of_0() -> None:
    never = SourceSlo("orders", 0, None, 12, 100.0, 300, 1.0)
    assert report_cells(never)[1] == NOT_EVALUATED
    assert report_cells(SourceSlo("orders", 4, 75.0, 12, 100.0, 300, 1.0))[1] == "75.0% of 4 days"
    # a source with no freshness promise says why, not "not evaluated"
    finished = SourceSlo(
        "orders", 0, None, 12, 100.0, 300, 1.0, freshness_note="historical, ended 2020-12-31"
    )
    assert report_cells(finished)[1] == "n/a (historical, ended 2020-12-31)"


RELATION = '"memory"."main"."sales"'


@pytest.fixture
def con():
    with duckdb.connect() as con:
        con.execute("CREATE TABLE sales (order_date DATE, amount INTEGER)")
        # 1 March: one negative amount; 2 March: three; 3 March: none
        con.execute(
            "INSERT INTO sales VALUES ('2026-03-01', -1), ('2026-03-01', 5), ('2026-03-02', -1), "
            "('2026-03-02', -2), ('2026-03-02', -3), ('2026-03-03', 4)"
        )
        yield con


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, [("error", False), ("error", False), ("error", True)]),  # dbt's defaults: any row fails
        ({"warn_if": "> 0", "error_if": "> 2"}, [("warn", False), ("error", False), ("error", True)]),
        ({"warn_if": "> 0", "error_if": "> 3"}, [("warn", False), ("warn", False), ("error", True)]),
        ({"severity": "warn"}, [("warn", False), ("warn", False), ("error", True)]),  # warn never errors
    ],
)
def test_a_dbt_test_is_judged_on_each_days_rows_as_dbt_would(con, config: dict, expected: list) -> None:
    test = DbtTest(
        check_key=dg.AssetCheckKey(dg.AssetKey(["gold", "sales"]), "not_negative_sales_amount"),
        blocking=True,
        compiled_sql=f"select amount from {RELATION} as s where s.amount < 0",  # an alias, as tests write
        config={"severity": "error", **config},
        model_relation=RELATION,
        event_time="order_date",
    )
    results = [test.judge(con, date(2026, 3, d), rows=0) for d in (1, 2, 3)]
    # (a passing day of a blocking test carries error severity, like dagster-dbt's passing results)
    assert [(r.severity, r.passed) for r in results] == expected
    assert [r.metadata["failing_rows"] for r in results] == [1, 3, 0]


def test_only_the_models_rows_of_the_day_are_read() -> None:
    sql = restricted_to_day(
        f"select * from {RELATION} join other using (id)", RELATION, "order_date", date(2026, 3, 1)
    )
    assert "CAST(\"order_date\" AS DATE) = CAST('2026-03-01' AS DATE)" in sql
    assert "JOIN other" in sql  # other relations untouched
