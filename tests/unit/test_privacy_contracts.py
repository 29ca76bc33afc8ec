"""Contract fields of minimisation and erasure: what they accept, and the errors naming the field."""

from __future__ import annotations

import pytest

from lakehouse.contracts.loader import ContractError
from tests.helpers import EVENTS_CONTRACT, contract_from


def test_defaults_keep_undeclared_fields_and_erase_hard() -> None:
    contract = contract_from(EVENTS_CONTRACT)
    assert contract.undeclared == "keep" and contract.erasure.mode == "hard"
    assert contract.tokenized_columns == ["email"] == contract.keyed_columns


def test_a_dropped_column_is_stored_nowhere_and_cannot_be_used() -> None:
    contract = contract_from(EVENTS_CONTRACT, **{"type: string}\n": "type: string, pii: drop}\n"})
    assert "account" not in [c.name for c in contract.stored_columns]
    assert contract.pii_columns == ["account", "email"] and contract.keyed_columns == ["email"]
    with pytest.raises(
        ContractError, match=r"primary_key\[0\]: column 'event_id' is pii: drop \(never stored\)"
    ):
        contract_from(
            EVENTS_CONTRACT,
            **{"{name: event_id,    type: string,": "{name: event_id,    type: string, pii: drop,"},
        )


@pytest.mark.parametrize(
    ("replacements", "error"),
    [
        ({"type: int32}": "type: int32, pii: hash}"}, "pii: hash needs type string"),
        ({"primary_key: [event_id]": "primary_key: [event_id]\nundeclared: forget"}, "undeclared"),
        ({"primary_key: [event_id]": "primary_key: [event_id]\nerasure: {mode: soft}"}, r"erasure\.mode"),
    ],
)
def test_bad_values_are_named(replacements: dict[str, str], error: str) -> None:
    with pytest.raises(ContractError, match=error):
        contract_from(EVENTS_CONTRACT, **replacements)
