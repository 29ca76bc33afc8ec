"""Minimisation on real Delta tables: ``pii: hash`` keeps a keyed hash and no mapping, ``pii: drop``
keeps nothing (not in bronze, quarantine, rescued data, nor the row hash's input), ``undeclared:
drop`` keeps no undeclared field; ``pii: tokenize`` values are in the vault, encrypted, before
bronze commits, and a rerun adds no entry. CSV and JSON lines."""

from __future__ import annotations

import hmac
from datetime import date
from pathlib import Path

import pytest

from lakehouse.bronze.pii import keyed_hash, token
from lakehouse.privacy.vault import TokenVault, VaultKeyError
from tests.helpers import EVENTS_CONTRACT, PII_KEY, Lake, rows
from tests.pii_scan import files_under, scan

D1 = date(2026, 3, 1)
MINIMISED = EVENTS_CONTRACT.replace(
    "  - {name: account,     type: string}",
    "  - {name: account,     type: string,          pii: hash}\n  - {name: phone,       type: string,          pii: drop}",
).replace("primary_key: [event_id]", "primary_key: [event_id]\nundeclared: drop")
JSONL = {'events/{date}/*.csv", format: csv': 'events/{date}/*.jsonl", format: jsonl'}
CLEAR = [
    "ann@example.com",
    "bob@example.com",
    "acc-ann",
    "acc-bob",
    "+34 600 000 001",
    "+34 600 000 002",
    "spring",
]


def _ingest(lake: Lake, jsonl: bool) -> None:
    if jsonl:
        lake.file(
            "events/2026-03-01/a.jsonl",
            """
            {"event_id": "e1", "account": "acc-ann", "email": "ann@example.com", "phone": "+34 600 000 001", "kind": "click", "amount": 1, "happened_at": "2026-03-01T10:00:00Z", "campaign": "spring"}
            {"event_id": "e2", "account": "acc-bob", "email": "bob@example.com", "phone": "+34 600 000 002", "kind": "click", "amount": "oops", "happened_at": "2026-03-01T11:00:00Z"}
            """,
            arrived=D1,
        )
    else:
        lake.file(
            "events/2026-03-01/a.csv",
            """
            event_id,account,email,phone,kind,amount,units,active,happened_at,campaign
            e1,acc-ann,ann@example.com,+34 600 000 001,click,1.50,3,true,2026-03-01T10:00:00Z,spring
            e2,acc-bob,bob@example.com,+34 600 000 002,click,oops,1,true,2026-03-01T11:00:00Z,
            """,
            arrived=D1,
        )
    lake.ingest(D1, D1)


@pytest.mark.parametrize("jsonl", [False, True], ids=["csv", "jsonl"])
def test_hash_drop_and_undeclared_drop_keep_what_the_contract_says(tmp_path: Path, jsonl: bool) -> None:
    lake = Lake(tmp_path, MINIMISED, **(JSONL if jsonl else {}))
    _ingest(lake, jsonl)

    (row,) = rows(lake.bronze)
    assert "phone" not in row  # dropped: not even a column
    assert row["account"] == keyed_hash(PII_KEY, "acc-ann") != token(PII_KEY, "acc-ann")
    assert row["email"] == token(PII_KEY, "ann@example.com")
    assert row["_rescued_data"] is None  # undeclared: drop
    (quarantined,) = rows(lake.quarantine)
    assert "phone" not in quarantined["_raw"] and "campaign" not in quarantined["_raw"]
    assert keyed_hash(PII_KEY, "acc-bob") in quarantined["_raw"]

    hits, count = scan(files_under(tmp_path / "lake", tmp_path / "vault"), CLEAR)
    assert count > 5 and not hits, "\n".join(map(str, hits))

    # The vault maps tokens of tokenize columns only; hashes resolve to nothing.
    assert lake.vault.resolve(token(PII_KEY, "ann@example.com")) == [("events", "email", "ann@example.com")]
    assert lake.vault.resolve(token(PII_KEY, "bob@example.com")) == [("events", "email", "bob@example.com")]
    assert lake.vault.resolve(row["account"]) == []
    version = lake.vault.location.open().version()
    lake.ingest(D1, D1)  # a rerun: no new entry, no new vault version
    assert lake.vault.location.open().version() == version
    with pytest.raises(VaultKeyError, match="does not decrypt with LAKEHOUSE_VAULT_KEY"):
        TokenVault(lake.vault.location, "another-key").resolve(row["email"])


def test_a_dropped_field_is_not_in_the_row_hash(tmp_path: Path) -> None:
    first, second = Lake(tmp_path / "a", MINIMISED), Lake(tmp_path / "b", MINIMISED)
    for lake, phone in ((first, "+34 600 000 001"), (second, "+34 699 999 999")):
        lake.file(
            "events/2026-03-01/a.csv",
            f"""
            event_id,account,email,phone,kind,amount,units,active,happened_at
            e1,acc-ann,ann@example.com,{phone},click,1.50,3,true,2026-03-01T10:00:00Z
            """,
            arrived=D1,
        )
        lake.ingest(D1, D1)
    assert rows(first.bronze)[0]["_row_hash"] == rows(second.bronze)[0]["_row_hash"]
    assert hmac.compare_digest(rows(first.bronze)[0]["email"], rows(second.bronze)[0]["email"])


@pytest.mark.parametrize("mode", ["hard", "shred"])
def test_erasure_by_mode_on_real_tables_and_a_second_erasure_finds_nothing(tmp_path: Path, mode: str) -> None:
    """hard: the subject's rows leave bronze, quarantine and silver, and no byte of the value's
    token stays in their files; shred: the rows stay, only the vault forgets the token."""
    from lakehouse.contracts.loader import LoadedContract
    from lakehouse.privacy.erasure import erase, subject_from_value
    from lakehouse.resources import LakeStorage

    text = EVENTS_CONTRACT.replace(
        "primary_key: [event_id]", f"primary_key: [event_id]\nerasure: {{mode: {mode}}}"
    )
    lake = Lake(tmp_path, text)
    lake.file(
        "events/2026-03-01/a.csv",
        """
        event_id,account,email,kind,amount,units,active,happened_at
        e1,acc,ann@example.com,click,1.50,3,true,2026-03-01T10:00:00Z
        e2,acc,ann@example.com,buy,oops,1,true,2026-03-01T11:00:00Z
        e3,acc,bob@example.com,buy,2.00,1,true,2026-03-01T12:00:00Z
        """,
        arrived=D1,
    )
    lake.ingest(D1, D1)
    lake.build(D1, D1)
    loaded = [LoadedContract(lake.contract, tmp_path / "events.yaml", "v1")]
    storage = LakeStorage(landing_root=str(lake.landing), lake_root=str(tmp_path / "lake"))
    ann = token(PII_KEY, "ann@example.com")
    # An entry left by a rotation: its token (under the old key) no one can recompute.
    old = token("the-previous-pii-key", "ann@example.com")
    lake.vault.store("events", [("email", old, "ann@example.com")])

    receipt = erase(
        loaded,
        subject_from_value(loaded, PII_KEY, "ann@example.com"),
        lake=storage,
        vault=lake.vault,
        warehouse_path=str(tmp_path / "warehouse.duckdb"),
    )
    assert receipt.vault_entries_deleted == 2 and lake.vault.resolve(ann) == lake.vault.resolve(old) == []
    assert lake.vault.resolve(token(PII_KEY, "bob@example.com")) != []
    deleted = {t.table: t.rows_deleted for t in receipt.tables}
    if mode == "shred":
        assert deleted == {} and len(rows(lake.bronze)) == 2
        return
    assert deleted == {"bronze/events": 1, "quarantine/events": 1, "silver/events": 1}
    assert [r["event_id"] for r in rows(lake.bronze)] == ["e3"] and rows(lake.quarantine) == []
    # Every file, the receipt under _ops/erasures included: neither the value nor its token.
    hits, _ = scan(files_under(tmp_path / "lake", tmp_path / "vault"), [ann, "ann@example.com"])
    assert not hits
    again = erase(
        loaded,
        subject_from_value(loaded, PII_KEY, "ann@example.com"),
        lake=storage,
        vault=lake.vault,
        warehouse_path=str(tmp_path / "warehouse.duckdb"),
    )
    assert not again.found and again.subject == receipt.subject
    assert all(t.version_before == t.version_after for t in again.tables)
    lake.ingest(D1, D1)  # the pipeline writes on after the log's truncation (key, pairing intact)
    lake.build(D1, D1)


def test_bronze_steps_of_two_sources_store_into_the_vault_at_once(tmp_path: Path) -> None:
    """Every source's bronze step writes the one vault table: a MERGE that loses a concurrent
    commit is retried, so neither step fails and no entry is lost or stored twice."""
    from concurrent.futures import ThreadPoolExecutor

    from lakehouse.privacy.vault import vault_location
    from tests.helpers import VAULT_KEY

    vault = TokenVault(vault_location(str(tmp_path / "vault")), VAULT_KEY)
    vault.store("seed", [("email", token(PII_KEY, "seed@example.com"), "seed@example.com")])

    def load(source: str) -> int:
        stored = 0
        for batch in range(6):
            values = [f"{source}-{batch}-{i}@example.com" for i in range(5)]
            stored += vault.store(source, [("email", token(PII_KEY, v), v) for v in values])
        return stored

    with ThreadPoolExecutor(max_workers=2) as pool:
        stored = list(pool.map(load, ["orders", "customers"]))
    assert stored == [30, 30]
    for source in ("orders", "customers"):
        value = f"{source}-5-4@example.com"
        assert vault.resolve(token(PII_KEY, value)) == [(source, "email", value)]
