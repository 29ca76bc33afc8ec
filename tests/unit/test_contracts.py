"""Contract validation: good files load; each kind of bad file is an error naming file and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from lakehouse.cli import main
from lakehouse.contracts import ContractError, load_contract, load_contracts
from lakehouse.contracts.schema import bronze_schema, silver_schema
from tests.helpers import REPO

GOOD = """\
name: shop
owner: commerce-data
extract: {kind: files, path: "shop/{date}/*.csv", format: csv}
partitions: {start: 2026-01-01, event_time: ordered_at, timezone: Europe/Madrid, lookback_days: 3}
primary_key: [order_id]
columns:
  - {name: order_id,   type: string,          nullable: false}
  - {name: email,      type: string,          pii: tokenize}
  - {name: amount,     type: "decimal(12,2)", nullable: false}
  - {name: paid,       type: boolean}
  - {name: items,      type: int32}
  - {name: ordered_at, type: timestamp,       nullable: false}
  - {name: ship_date,  type: date}
quality:
  - {expect: column_values_to_be_between, column: amount, min_value: 0, severity: warn}
  - {expect: compound_columns_to_be_unique, column_list: [order_id, ordered_at]}
"""


def write(tmp_path: Path, text: str, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(tmp_path: Path, text: str, name: str = "shop.yaml") -> list[str]:
    path = write(tmp_path, text, name)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    return [str(p) for p in caught.value.problems]


def test_repository_contracts_load() -> None:
    contracts = load_contracts(REPO / "sources")
    assert contracts.errors == []
    assert {"orders", "customers"} <= set(contracts.contracts)
    orders = contracts.contracts["orders"].contract
    assert orders.pii_columns == ["customer_email"]
    assert contracts.contracts["customers"].contract.silver.mode == "scd2"


def test_good_contract_produces_explicit_arrow_schemas(tmp_path: Path) -> None:
    loaded = load_contract(write(tmp_path, GOOD))
    schema = bronze_schema(loaded.contract)
    assert schema.field("amount").type == pa.decimal128(12, 2)
    assert not schema.field("amount").nullable
    assert schema.field("paid").type == pa.bool_()
    assert schema.field("items").type == pa.int32()
    assert schema.field("ordered_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("ship_date").type == pa.date32()
    assert schema.field("email").type == pa.string()
    assert {"_event_date", "_ingested_at", "_source_file", "_row_hash", "_rescued_data"} <= set(schema.names)
    silver = silver_schema(loaded.contract)
    assert {"_sk", "dq_valid", "dq_flags"} <= set(silver.names)
    assert len(loaded.version) == 16


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("type: int32}", "type: integr}"),
            "columns[4].type: unknown type 'integr'; expected one of: string,",
        ),
        (("type: boolean}", "type: bool, colour: red}"), "columns[3].colour: unknown field"),
        (("owner: commerce-data\n", ""), "owner: required field is missing"),
        (("shop/{date}/*.csv", "shop/*.csv"), "extract.path: must contain '{date}' exactly once"),
        (
            ("format: csv", "format: xlsx"),
            "extract.format: Input should be 'csv', 'jsonl' or 'parquet' (got 'xlsx')",
        ),
        (("Europe/Madrid", "Mars/Olympus"), "partitions.timezone: unknown timezone 'Mars/Olympus'"),
        (
            ("lookback_days: 3", "lookback_days: -1"),
            "partitions.lookback_days: Input should be greater than or equal to 0 (got -1)",
        ),
        (("start: 2026-01-01", "start: 2026-13-01"), "partitions.start: Input should be a valid date"),
        (
            ("event_time: ordered_at", "event_time: created"),
            "partitions.event_time: 'created' is not a declared column (columns: order_id, email,",
        ),
        (
            ("type: timestamp,       nullable: false", "type: timestamp"),
            "partitions.event_time: column 'ordered_at' must be declared nullable: false",
        ),
        (
            ("primary_key: [order_id]", "primary_key: [email]"),
            "primary_key[0]: column 'email' must be declared nullable: false",
        ),
        (
            (
                "{name: email,      type: string,          pii: tokenize}",
                "{name: email, type: int64, pii: tokenize}",
            ),
            "columns[1]: pii: tokenize needs type string",
        ),
        (
            ("expect: column_values_to_be_between", "expect: column_values_to_be_betwen"),
            "quality[0]: unknown expectation 'column_values_to_be_betwen'; supported:",
        ),
        (
            ("min_value: 0", "minimum: 0"),
            "quality[0]: column_values_to_be_between: unknown argument 'minimum'",
        ),
        (
            ("min_value: 0", "min_value: zero"),
            "quality[0] (column_values_to_be_between): min_value must be a number for column 'amount'",
        ),
        (
            ("column_list: [order_id, ordered_at]", "column_list: [order_id, shipped]"),
            "quality[1] (compound_columns_to_be_unique).column_list[1]: 'shipped' is not a declared column",
        ),
        (("severity: warn", "severity: fatal"), "quality[0].severity: Input should be 'error' or 'warn'"),
        (
            ("min_value: 0", "min_value: 10, max_value: 1"),
            "quality[0]: column_values_to_be_between: min_value 10 is above max_value 1",
        ),
        (
            ("column_list: [order_id, ordered_at]", "column_list: [order_id]"),
            "quality[1]: compound_columns_to_be_unique: argument 'column_list' needs at least two",
        ),
        (
            (
                'extract: {kind: files, path: "shop/{date}/*.csv", format: csv}',
                "extract: {kind: files, "
                "path: \"shop/{date}/*.jsonl\", format: jsonl, options: {delimiter: ';'}}",
            ),
            "extract: options are CSV dialect settings; format jsonl takes none",
        ),
        (
            ("lookback_days: 3}", "lookback_days: 3}\nowner: someone-else"),
            "line 5, column 1: invalid YAML: the key 'owner' is given twice",
        ),
        (
            ("- {name: ship_date,  type: date}", "- {name: amount, type: date}"),
            "columns: duplicate column names ['amount']",
        ),
        (
            ("- {name: ship_date,  type: date}", "- {name: dq_valid, type: bool}"),
            "columns[6].name: 'dq_valid' is a column the platform adds",
        ),
    ],
)
def test_bad_contract_names_file_field_and_expectation(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in GOOD, f"test setup: {old!r} not in the good contract"
    problems = problems_of(tmp_path, GOOD.replace(old, new, 1))
    assert any(p.startswith(expected) for p in problems), problems


def test_regex_and_length_rules_need_string_columns_and_valid_patterns(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, GOOD + "  - {expect: column_values_to_match_regex, column: amount, regex: '^1'}\n"
    )
    assert problems == [
        "quality[2] (column_values_to_match_regex): column_values_to_match_regex applies to "
        "string columns; 'amount' is decimal(12,2)"
    ]
    problems = problems_of(
        tmp_path, GOOD + "  - {expect: column_values_to_match_regex, column: order_id, regex: '(['}\n"
    )
    assert problems[0].startswith("quality[2] (column_values_to_match_regex): regex '([' is invalid")


@pytest.mark.parametrize(
    ("regex", "construct"),
    [
        ("^(?=[A-Z])[A-Z]{3}$", "a lookahead"),
        ("(?<!x)y", "a lookbehind"),
        ("(a)\\1", "a backreference"),
        ("a++", "a possessive quantifier"),
    ],
)
def test_a_regex_duckdb_cannot_run_is_refused(tmp_path: Path, regex: str, construct: str) -> None:
    """dq_flags run the rule in DuckDB (RE2), great-expectations in Python: both must accept it."""
    rule = f"  - {{expect: column_values_to_match_regex, column: order_id, regex: '{regex}'}}\n"
    assert problems_of(tmp_path, GOOD + rule) == [
        f"quality[2]: column_values_to_match_regex: regex {regex!r} uses {construct}, which DuckDB's RE2 "
        "engine lacks"
    ]
    escaped = "  - {expect: column_values_to_match_regex, column: order_id, regex: '^\\\\1\\++$'}\n"
    load_contract(write(tmp_path, GOOD + escaped))  # an escaped backslash and '+' are plain text


def test_rule_argument_of_wrong_type_is_named(tmp_path: Path) -> None:
    text = GOOD.replace("min_value: 0", "min_value: [1, 2]")
    problems = problems_of(tmp_path, text)
    assert any(p.startswith("quality[0]") and "argument 'min_value' must be" in p for p in problems), problems


def test_quality_rule_on_tokenised_pii_column_is_refused(tmp_path: Path) -> None:
    text = GOOD + "  - {expect: column_values_to_match_regex, column: email, regex: '@'}\n"
    problems = problems_of(tmp_path, text)
    assert any("column 'email' is PII" in p for p in problems), problems


def test_invalid_yaml_gives_line_and_column(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD.replace("primary_key: [order_id]", "primary_key: [order_id"))
    assert any(p.startswith("line ") and "invalid YAML" in p for p in problems), problems


def test_name_must_match_file_name(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD, name="orders_v2.yaml")
    assert problems == ["name: 'shop' must match the file name 'orders_v2'"]


def test_a_bad_file_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, "name: broken\nowner: [unclosed\n", "broken.yaml")
    result = load_contracts(tmp_path)
    assert list(result.contracts) == ["shop"]
    assert [e.path.name for e in result.errors] == ["broken.yaml"]


def test_two_sources_may_not_feed_one_silver_entity(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, GOOD.replace("name: shop", "name: shop2\nentity: shop"), "shop2.yaml")
    result = load_contracts(tmp_path)
    assert list(result.contracts) == ["shop"]
    assert "silver entity 'shop' is already produced by shop.yaml" in result.errors[0].describe()


def test_cli_validate_reports_each_file_and_exits_non_zero(tmp_path: Path) -> None:
    good = write(tmp_path, GOOD)
    bad = write(
        tmp_path, GOOD.replace("type: int32}", "type: integr}").replace("name: shop", "name: bad"), "bad.yaml"
    )
    runner = CliRunner()
    ok = runner.invoke(main, ["contract", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "ok  " in ok.output
    failed = runner.invoke(main, ["contract", "validate", str(good), str(bad)])
    assert failed.exit_code == 1
    assert f"{bad}: invalid source contract" in failed.output
    assert "columns[4].type: unknown type 'integr'" in failed.output


def test_two_contracts_on_one_landing_path_are_refused_naming_both(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, GOOD.replace("name: shop", "name: shop_copy\nentity: shop_copy"), "shop_copy.yaml")
    narrower = GOOD.replace("name: shop", "name: shop_eu\nentity: shop_eu").replace(
        "shop/{date}/*.csv", "shop/{date}/eu.csv"
    )
    write(tmp_path, narrower, "shop_eu.yaml")
    result = load_contracts(tmp_path)
    assert list(result.contracts) == ["shop"]
    described = {e.path.name: e.describe() for e in result.errors}
    assert set(described) == {"shop_copy.yaml", "shop_eu.yaml"}
    for text in described.values():
        assert "shop.yaml" in text and "extract.path" in text and "shared_path: true" in text


def test_a_shared_landing_path_declared_by_both_contracts_loads(tmp_path: Path) -> None:
    shared = GOOD.replace("format: csv}", "format: csv, shared_path: true}")
    write(tmp_path, shared)
    write(tmp_path, shared.replace("name: shop", "name: shop_copy\nentity: shop_copy"), "shop_copy.yaml")
    one_sided = GOOD.replace("name: shop", "name: shop_third\nentity: shop_third")
    write(tmp_path, one_sided, "shop_third.yaml")
    result = load_contracts(tmp_path)
    assert sorted(result.contracts) == ["shop", "shop_copy"]
    assert [e.path.name for e in result.errors] == ["shop_third.yaml"]


SNAPSHOT = """\
name: stores
owner: retail-data
extract: {kind: files, path: "stores/{date}/*.csv", format: csv}
partitions: {start: 2026-01-01, event_time: _arrival_date}
primary_key: [store_id]
columns:
  - {name: store_id, type: string, nullable: false}
  - {name: city,     type: string}
silver: {mode: scd2}
"""


def test_a_snapshot_without_a_time_column_is_dated_by_its_files_arrival_day(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, SNAPSHOT, "stores.yaml")).contract
    assert contract.partitions.by_arrival and contract.partitions.lookback_days == 0
    assert contract.event_time_column is None and contract.valid_from_column is None
    assert contract.tracked_columns == ["city"]
    late = SNAPSHOT.replace("event_time: _arrival_date}", "event_time: _arrival_date, lookback_days: 2}")
    assert problems_of(tmp_path, late, "stores.yaml") == [
        "partitions: lookback_days must be 0 with event_time _arrival_date: a row's day is its file's "
        "arrival day, so no row is ever late (got 2)"
    ]
    missing = SNAPSHOT.replace("event_time: _arrival_date", "event_time: opened_at")
    (problem,) = problems_of(tmp_path, missing, "stores.yaml")
    assert "'opened_at' is not a declared column" in problem and "_arrival_date" in problem


def test_a_finished_source_ends_and_freshness_can_be_off(tmp_path: Path) -> None:
    ended = GOOD.replace("start: 2026-01-01,", "start: 2026-01-01, end: 2026-03-31,")
    contract = load_contract(write(tmp_path, ended)).contract
    assert contract.partitions.end.isoformat() == "2026-03-31" and not contract.freshness_checked
    assert not contract.partitions.in_history(contract.partitions.end.replace(day=30, month=4))
    backwards = GOOD.replace("start: 2026-01-01,", "start: 2026-01-01, end: 2025-12-31,")
    assert problems_of(tmp_path, backwards) == ["partitions: end 2025-12-31 is before start 2026-01-01"]
    quiet = load_contract(write(tmp_path, GOOD + "freshness: {enabled: false}\n")).contract
    assert not quiet.freshness_checked
    assert load_contract(write(tmp_path, GOOD)).contract.freshness_checked


WHOLE = """\
name: currencies
owner: finance-data
extract: {kind: files, path: "currencies/current/*.csv", format: csv}
partitions: {grain: none}
primary_key: [code]
columns:
  - {name: code,     type: string, nullable: false}
  - {name: eur_rate, type: "decimal(12,6)", nullable: false}
"""


def test_a_source_refreshed_whole_has_no_days(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, WHOLE, "currencies.yaml")).contract
    assert not contract.partitions.partitioned and not contract.freshness_checked
    assert contract.event_time_column is None
    dated = WHOLE.replace("currencies/current/*.csv", "currencies/{date}/*.csv")
    assert problems_of(tmp_path, dated, "currencies.yaml")[0].startswith(
        "extract.path: a source refreshed whole (partitions.grain: none) reads the files its path matches now"
    )
    started = WHOLE.replace("{grain: none}", "{grain: none, start: 2026-01-01}")
    assert problems_of(tmp_path, started, "currencies.yaml") == [
        "partitions: start: a source refreshed whole (grain: none) has no days; remove them"
    ]
    history = WHOLE + "silver: {mode: scd2}\n"
    assert (
        "silver.mode: a source refreshed whole keeps the latest row per key"
        in problems_of(tmp_path, history, "currencies.yaml")[0]
    )
    undated = GOOD.replace("shop/{date}/*.csv", "shop/*.csv")
    assert any("or set partitions.grain: none" in p for p in problems_of(tmp_path, undated))


def test_a_dimension_may_allow_gold_to_proceed_on_it_stale(tmp_path: Path) -> None:
    stale = load_contract(write(tmp_path, GOOD + "freshness: {max_lag: 6h, stale_ok_days: 1}\n")).contract
    assert stale.freshness.stale_ok_days == 1
    assert load_contract(write(tmp_path, GOOD)).contract.freshness.stale_ok_days == 0
    (too_many,) = problems_of(tmp_path, GOOD + "freshness: {stale_ok_days: 30}\n")
    assert "freshness.stale_ok_days" in too_many and "7" in too_many
    (whole,) = problems_of(tmp_path, WHOLE + "freshness: {stale_ok_days: 1}\n", "currencies.yaml")
    assert whole.startswith("freshness.stale_ok_days: applies to daily sources")
