"""The evolution classifier, case by case, and the loader building from the accepted version."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lakehouse.contracts import load_contract, load_contracts
from lakehouse.contracts.accepted import accept, accepted_dir, history
from lakehouse.contracts.evolution import classify
from tests.helpers import EVENTS_CONTRACT, contract_from

BASE = contract_from(EVENTS_CONTRACT)
UNITS = "  - {name: units,       type: int32}"
AMOUNT = '  - {name: amount,      type: "decimal(10,2)", nullable: false}'
START = "start: 2026-01-01"
LOOKBACK = "lookback_days: 2"
RULES = "quality:\n"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (UNITS, UNITS + "\n  - {name: channel, type: string}", "new nullable column 'channel'"),
        (LOOKBACK, "lookback_days: 5", "lookback_days 2 -> 5"),
        (
            RULES,
            RULES + "  - {expect: column_values_to_not_be_null, column: account, severity: warn}\n",
            "new quality rule column_values_to_not_be_null(account)",
        ),
        (
            "severity: warn}\n  - {expect: column_values_to_be_in_set",
            "severity: error}\n  - {expect: column_values_to_be_in_set",
            "quality rule column_values_to_be_between(amount) changed",
        ),
        (
            START,
            "start: 2025-12-01",
            "partitions.start moved earlier to 2025-12-01: 2025-12-01..2025-12-31 to load",
        ),
    ],
    ids=["nullable column", "larger lookback", "new rule", "changed rule", "start earlier"],
)
def test_additive_changes_are_accepted(old: str, new: str, said: str) -> None:
    evolution = classify(BASE, contract_from(EVENTS_CONTRACT, **{old: new}))
    assert evolution.accepted and any(text.startswith(said) for text in evolution.additive), evolution
    assert evolution.describe().startswith("additive: ")


def test_the_same_contract_is_no_change() -> None:
    evolution = classify(BASE, contract_from(EVENTS_CONTRACT))
    assert not evolution.changed and evolution.describe() == "no change"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (UNITS + "\n", "", "column 'units' removed"),
        (
            "{name: units,       type: int32}",
            "{name: units,       type: int32, nullable: false}",
            "column 'units' became nullable: false",
        ),
        (
            UNITS,
            UNITS + "\n  - {name: channel, type: string, nullable: false}",
            "new column 'channel' is nullable: false",
        ),
        (
            AMOUNT,
            AMOUNT.replace("10,2", "8,2"),
            "column 'amount': type narrowed from decimal(10,2) to decimal(8,2)",
        ),
        (
            "primary_key: [event_id]",
            "primary_key: [event_id, kind]",
            "primary_key changed from ['event_id'] to ['event_id', 'kind']",
        ),
        (START, "start: 2026-02-01", "partitions.start moved later, from 2026-01-01 to 2026-02-01"),
        (
            "{name: units,       type: int32}",
            "{name: units,       type: int64}",
            "column 'units': type changed from int32 to int64",
        ),
        ("timezone: UTC", "timezone: Europe/Madrid", "partitions.timezone changed from UTC to Europe/Madrid"),
        (
            "{name: account,     type: string}",
            "{name: account,     type: string, pii: tokenize}",
            "column 'account': pii changed from None to tokenize",
        ),
    ],
    ids=[
        "removed",
        "required",
        "new required",
        "narrowed",
        "primary key",
        "start later",
        "widened",
        "timezone",
        "pii",
    ],
)
def test_breaking_changes_are_refused_with_the_reason(old: str, new: str, said: str) -> None:
    evolution = classify(BASE, contract_from(EVENTS_CONTRACT, **{old: new}))
    assert not evolution.accepted
    assert any(reason.startswith(said) for reason in evolution.breaking), evolution.breaking
    assert evolution.describe().startswith("breaking, refused: ")


def test_an_integer_narrowed_is_named_so() -> None:
    wide = contract_from(EVENTS_CONTRACT, **{"type: int32}": "type: int64}"})
    (reason,) = classify(wide, BASE).breaking
    assert reason.startswith("column 'units': type narrowed from int64 to int32")


def test_start_moved_earlier_names_only_the_new_days() -> None:
    evolution = classify(BASE, contract_from(EVENTS_CONTRACT, **{START: "start: 2025-12-01"}))
    assert evolution.accepted
    assert evolution.earlier_days == (date(2025, 12, 1), date(2025, 12, 31))


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.yaml"
    path.write_text(text)
    return path


def test_the_loader_keeps_the_accepted_version_against_a_breaking_edit(tmp_path: Path) -> None:
    sources, lake = tmp_path / "sources", tmp_path / "lake"
    store = accepted_dir(str(lake))
    assert store is not None and accepted_dir("s3://bucket/lake") is None
    path = _write(sources, EVENTS_CONTRACT)
    first = load_contract(path)
    assert load_contracts(sources, store).contracts["events"].version == first.version  # nothing accepted yet
    accept(store, "events", first.version, path.read_bytes())

    _write(sources, EVENTS_CONTRACT.replace("primary_key: [event_id]", "primary_key: [kind]"))
    loaded = load_contracts(sources, store)
    assert loaded.contracts["events"].version == first.version
    (refusal,) = loaded.refused
    assert refusal.name == "events" and refusal.reasons[0].startswith("primary_key changed")
    assert "keeps running" in refusal.describe() and str(path) in refusal.describe()

    additive = EVENTS_CONTRACT.replace(UNITS, UNITS + "\n  - {name: channel, type: string}")
    _write(sources, additive)
    loaded = load_contracts(sources, store)
    assert not loaded.refused and "channel" in loaded.contracts["events"].contract.column_map

    _write(sources, EVENTS_CONTRACT.replace("owner: test-team", "owner: [oops"))
    loaded = load_contracts(sources, store)
    assert loaded.contracts["events"].version == first.version  # the accepted version keeps running
    assert "events.yaml" in loaded.errors[0].describe()
    assert load_contracts(sources).contracts == {}  # without the store: the file is the truth

    accept(store, "events", "v2", additive.encode())
    assert [p.stem for p in history(store, "events")] == [first.version, "v2"]
