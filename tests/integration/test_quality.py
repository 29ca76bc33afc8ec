"""Quality rules run by great-expectations on silver tables written by the platform."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from lakehouse.checks.quality import evaluate_rules
from tests.helpers import EVENTS_CONTRACT, HEADER, Lake
from tests.integration.test_silver import CUSTOMERS, D1, D2, D3, D4, snapshot

KEY = dg.AssetKey(["silver", "events"])

RULES = """
quality:
  - {expect: column_values_to_be_between, column: amount, min_value: 0, mostly: 0.5, severity: warn, max_flagged_pct: 15}
  - {expect: column_values_to_be_between, column: units, min_value: 1, severity: warn, max_flagged_pct: 25}
  - {expect: column_values_to_be_between, column: happened_at, min_value: "2026-03-01T08:00:00", severity: error}
  - {expect: table_row_count_to_be_between, min_value: 5, severity: warn}
  - {expect: compound_columns_to_be_unique, column_list: [event_id, kind], severity: error}
"""


def by_name(outcomes):
    return {o.name: o for o in outcomes}


def lake_with_rules(tmp_path: Path) -> Lake:
    contract = EVENTS_CONTRACT[: EVENTS_CONTRACT.index("quality:")] + RULES
    lake = Lake(tmp_path, contract)
    rows = [
        f"e{i},acc,,click,{'-1.00' if i < 2 else '1.00'},{'' if i < 6 else ('0' if i < 8 else '2')},true,"
        f"2026-03-01T{9 + i:02d}:00:00Z"
        for i in range(10)
    ]
    rows.append("early,acc,,click,1.00,2,true,2026-03-01T07:00:00Z")  # before the 08:00 (UTC) bound
    lake.file("events/2026-03-01/a.csv", HEADER + "\n" + "\n".join(rows) + "\n", arrived=D1)
    lake.file(
        "events/2026-03-02/a.csv", HEADER + "\nx1,acc,,click,1.00,2,true,2026-03-02T10:00:00Z\n", arrived=D2
    )
    lake.ingest(D1, D2)
    lake.build(D1, D2)
    return lake


def test_each_rule_reports_each_day_with_counts_and_examples(tmp_path: Path) -> None:
    lake = lake_with_rules(tmp_path)
    outcomes = by_name(evaluate_rules(lake.contract, lake.silver, [D1, D2], KEY))

    # 2 of 11 rows negative: mostly=0.5 lets great-expectations pass, but 18 % > max_flagged_pct=15
    amount = outcomes["quality_column_values_to_be_between_amount"].days[0]
    assert (amount.passed, amount.severity) == (False, "error")
    assert amount.metadata["failing_rows"] == 2 and amount.metadata["evaluated_rows"] == 11
    assert "more than max_flagged_pct=15%" in amount.summary
    assert amount.metadata["failing_examples"].value == [-1.0, -1.0]

    # 2 zero units among 11 rows, 6 of them null: 18 % of the day's rows (not 40 % of non-null ones)
    units = outcomes["quality_column_values_to_be_between_units"].days[0]
    assert (units.passed, units.severity, units.metadata["failing_pct"]) == (
        False,
        "warn",
        round(200 / 11, 3),
    )

    # a timestamp bound, compared as an instant
    happened = outcomes["quality_column_values_to_be_between_happened_at"].days[0]
    assert (happened.passed, happened.metadata["failing_rows"]) == (False, 1)

    # table-level rules judge each day: day 2 has one row
    count = outcomes["quality_table_row_count_to_be_between"]
    assert [(d.day, d.passed) for d in count.days] == [("2026-03-01", True), ("2026-03-02", False)]
    assert count.days[1].summary == "table_row_count_to_be_between: observed 1"
    assert all(d.passed for d in outcomes["quality_compound_columns_to_be_unique"].days)


def test_a_day_without_rows_and_a_run_before_the_source(tmp_path: Path) -> None:
    lake = lake_with_rules(tmp_path)
    (empty_day,) = [
        o
        for o in evaluate_rules(lake.contract, lake.silver, [D4], KEY)
        if o.name == "quality_table_row_count_to_be_between"
    ]
    assert not empty_day.passed and empty_day.days[0].metadata["evaluated_rows"] == 0
    assert evaluate_rules(lake.contract, lake.silver, [], KEY) == []


def test_scd2_rules_judge_the_dimension_as_each_day_left_it(tmp_path: Path) -> None:
    contract = (
        CUSTOMERS
        + """
quality:
  - {expect: column_values_to_be_in_set, column: segment, value_set: [consumer, business], severity: warn}
  - {expect: table_row_count_to_be_between, min_value: 2, max_value: 2, severity: error}
"""
    )
    people = Lake(tmp_path, contract)
    snapshot(
        people,
        D1,
        {
            "p1": ("consumer", "Madrid", "2026-01-10T00:00:00Z"),
            "p2": ("enterprise", "Paris", "2026-02-01T00:00:00Z"),
        },
    )
    snapshot(
        people,
        D2,
        {
            "p1": ("business", "Madrid", "2026-03-02T09:00:00Z"),
            "p2": ("enterprise", "Paris", "2026-02-01T00:00:00Z"),
        },
    )
    snapshot(
        people,
        D3,
        {
            "p1": ("business", "Madrid", "2026-03-02T09:00:00Z"),
            "p2": ("consumer", "Paris", "2026-03-03T12:00:00Z"),
        },
    )
    people.ingest(D1, D3)
    people.build(D1, D3)
    outcomes = by_name(
        evaluate_rules(people.contract, people.silver, [D1, D2, D3], dg.AssetKey(["silver", "people"]))
    )
    # every day sees both customers (not only the versions first seen that day)
    assert all(d.passed for d in outcomes["quality_table_row_count_to_be_between"].days)
    segments = outcomes["quality_column_values_to_be_in_set_segment"].days
    assert [(d.day, d.metadata["failing_rows"]) for d in segments] == [
        ("2026-03-01", 1),
        ("2026-03-02", 1),
        ("2026-03-03", 0),
    ]
    assert date(2026, 3, 3).isoformat() == segments[2].day


EVERY_EXPECTATION = """
quality:
  - {expect: column_values_to_not_be_null, column: account, mostly: 0.9}
  - {expect: column_values_to_not_be_null, column: account, mostly: 0.9, severity: warn, name: account_again}
  - {expect: column_values_to_be_null, column: units, severity: warn}
  - {expect: column_values_to_be_between, column: happened_at, min_value: "2026-01-01", strict_min: true}
  - {expect: column_value_lengths_to_be_between, column: kind, min_value: 1, max_value: 10}
  - {expect: column_values_to_be_in_set, column: kind, value_set: [click, buy]}
  - {expect: column_values_to_not_be_in_set, column: kind, value_set: [test]}
  - {expect: column_values_to_match_regex, column: event_id, regex: '^e[0-9]+$'}
  - {expect: column_values_to_not_match_regex, column: account, regex: '(?i)^test'}
  - {expect: column_values_to_be_unique, column: email}
  - {expect: compound_columns_to_be_unique, column_list: [event_id, kind]}
  - {expect: table_row_count_to_be_between, min_value: 1, max_value: 100}
"""


def test_every_expectation_a_contract_accepts_runs_in_great_expectations(tmp_path: Path) -> None:
    """The load-time argument checks and great-expectations agree: nothing the contract accepts
    is refused when the check runs, and every rule gives a result."""
    from lakehouse.contracts.expectations import EXPECTATIONS

    contract = EVENTS_CONTRACT[: EVENTS_CONTRACT.index("quality:")] + EVERY_EXPECTATION
    lake = Lake(tmp_path, contract)
    assert {r.expect for r in lake.contract.quality} == set(EXPECTATIONS)  # one rule twice, too
    lake.file(
        "events/2026-03-01/a.csv",
        HEADER + "\ne1,acc,a@x.org,click,1.00,,true,2026-03-01T10:00:00Z\n"
        "e2,acc,b@x.org,buy,2.00,,true,2026-03-01T11:00:00Z\n",
        arrived=D1,
    )
    lake.ingest(D1, D1)
    lake.build(D1, D1)
    outcomes = evaluate_rules(lake.contract, lake.silver, [D1], KEY)
    assert len(outcomes) == len(EXPECTATIONS) + 1 and all(len(o.days) == 1 for o in outcomes)
    failed = {o.name: o.days[0].summary for o in outcomes if not o.passed}
    assert not failed, failed
