"""Erasing one data subject: its vault entries, and where the contract asks, its rows.

A subject is found by what bronze stores for its value: the token (``pii: tokenize``) or keyed
hash (``pii: hash``) of the value, normalised as each column normalises it. From the value itself
(``lakehouse erase --subject``) every keyed column can be searched; from a token (the Dagster job,
whose run config Dagster keeps forever, so it never takes the value) the tokenised ones.

Every erasure deletes the subject's vault entries (crypto-shredding: its tokens no longer resolve
to anything). A source with ``erasure: {mode: hard}`` (the default) also loses the subject's rows:
bronze and silver where a keyed column holds the subject's value, quarantine where its redacted
raw record holds it, each by a Delta delete, then a vacuum and a truncation of the log
(``tables/shred.py``) so no file keeps a byte of them. The warehouse loses every row of a table
that holds the token in a text column, its silver views are republished (the files they named are
vacuumed), and the file is rewritten into a fresh one (``COPY FROM DATABASE``, then an atomic
swap): DuckDB reuses freed blocks but does not clear them. Gold's demo marts are aggregates
without personal columns; their counts still include the subject until gold is rebuilt.

The receipt names tables, rows, versions and contract versions, and the subject only by a keyed
hash (neither the value nor its token): it holds no personal data. A second erasure of the same
subject finds nothing and says so, in a receipt of zeros.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakehouse.bronze.pii import keyed_value, token
from lakehouse.contracts.loader import LoadedContract
from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import ident, literal

_SUBJECT_MESSAGE = "lakehouse:erasure-subject:"


@dataclass(frozen=True)
class Subject:
    """What bronze stores for one subject: ``(source, column) -> token or keyed hash``."""

    values: dict[tuple[str, str], str]
    reference: str  # a keyed hash naming the subject in receipts (not its token)
    # The subject's values as tokenised columns normalise them (in memory only): the vault's
    # entries of tokens made under an earlier key are found by them. Empty: from the vault.
    clear: frozenset[str] = frozenset()


def _reference(pii_key: str, subject_token: str) -> str:
    return hmac.new(pii_key.encode(), (_SUBJECT_MESSAGE + subject_token).encode(), hashlib.sha256).hexdigest()


def _normalised(value: str, steps: Iterable[str]) -> str:
    """A contract's ``normalize`` steps in Python, as bronze applies them in SQL before hashing."""
    for step in steps:
        value = value.strip() if step == "trim" else value.lower() if step == "lower" else value.upper()
    return value


def subject_from_value(
    contracts: Iterable[LoadedContract], pii_key: str, value: str, column: str | None = None
) -> Subject:
    """Every keyed column (or those named ``column``) of every source, with the subject's value."""
    columns = [
        (loaded.contract.name, c)
        for loaded in contracts
        for c in loaded.contract.columns
        if c.pii in ("tokenize", "hash") and (column is None or c.name == column)
    ]
    values = {
        (source, c.name): keyed_value(pii_key, str(c.pii), _normalised(value, c.normalize))
        for source, c in columns
    }
    clear = frozenset(_normalised(value, c.normalize) for _, c in columns if c.pii == "tokenize")
    return Subject(values, _reference(pii_key, token(pii_key, value)), clear)


def subject_from_token(
    contracts: Iterable[LoadedContract], pii_key: str, subject_token: str, column: str | None = None
) -> Subject:
    """Every tokenised column (or those named ``column``) holding ``subject_token``."""
    values = {
        (loaded.contract.name, c.name): subject_token
        for loaded in contracts
        for c in loaded.contract.columns
        if c.pii == "tokenize" and (column is None or c.name == column)
    }
    return Subject(values, _reference(pii_key, subject_token))


@dataclass
class TableReceipt:
    table: str
    rows_deleted: int
    version_before: int | None
    version_after: int | None
    files_vacuumed: int = 0
    log_files_removed: int = 0
    contract_version: str | None = None


@dataclass
class Receipt:
    erasure_id: str
    subject: str  # keyed hash of the subject, never its value or token
    started_at: str
    finished_at: str = ""
    searched: list[str] = field(default_factory=list)  # source.column
    modes: dict[str, str] = field(default_factory=dict)  # source -> hard | shred
    vault_entries_deleted: int = 0
    tables: list[TableReceipt] = field(default_factory=list)
    warehouse_rows_deleted: dict[str, int] = field(default_factory=dict)
    warehouse_rewritten: bool = False

    @property
    def rows_deleted(self) -> int:
        return sum(t.rows_deleted for t in self.tables) + sum(self.warehouse_rows_deleted.values())

    @property
    def found(self) -> bool:
        return bool(self.rows_deleted or self.vault_entries_deleted)

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "rows_deleted": self.rows_deleted, "found": self.found}, indent=2)

    def lines(self) -> list[str]:
        """The receipt as the command prints it."""
        out = [
            f"Erasure {self.erasure_id} (subject {self.subject[:16]}...), {self.started_at} .. {self.finished_at}"
        ]
        if not self.found:
            out.append(
                "Nothing found: no vault entry and no row holds this subject (already erased, or never seen)."
            )
        out.append(f"  vault: {self.vault_entries_deleted} entries deleted")
        for t in self.tables:
            versions = (
                f"version {t.version_before} -> {t.version_after}, {t.files_vacuumed} files vacuumed"
                if t.rows_deleted
                else "unchanged"
            )
            out.append(f"  {t.table}: {t.rows_deleted} rows deleted ({versions})")
        for name, rows in sorted(self.warehouse_rows_deleted.items()):
            out.append(f"  warehouse {name}: {rows} rows deleted")
        if self.warehouse_rewritten:
            out.append("  warehouse: rewritten into a fresh file (freed blocks gone)")
        return out


def erase(
    contracts: list[LoadedContract],
    subject: Subject,
    *,
    lake: Any,  # LakeStorage
    vault: Any | None,  # TokenVault
    warehouse_path: str,
) -> Receipt:
    """Erase ``subject`` everywhere (see the module's docstring); write and return the receipt."""
    receipt = Receipt(
        erasure_id=f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        subject=subject.reference,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        searched=sorted(f"{s}.{c}" for s, c in subject.values),
    )
    by_source: dict[str, dict[str, str]] = {}
    for (source, column), value in subject.values.items():
        by_source.setdefault(source, {})[column] = value
    tokens = set(subject.values.values())
    if vault is not None and tokens:
        clear = set(subject.clear) or {value for t in tokens for _, _, value in vault.resolve(t)}
        tokens |= vault.tokens_of(clear)
        receipt.vault_entries_deleted = _erase_vault(vault.location, sorted(tokens), receipt.erasure_id)
    hard_values: set[str] = set()
    for loaded in contracts:
        contract = loaded.contract
        columns = by_source.get(contract.name)
        if not columns:
            continue
        receipt.modes[contract.name] = contract.erasure.mode
        if contract.erasure.mode != "hard":
            continue
        hard_values.update(columns.values())
        equal = " OR ".join(f"{ident(c)} = {literal(v)}" for c, v in sorted(columns.items()))
        within = " OR ".join(f"_raw LIKE {literal('%' + v + '%')}" for v in sorted(set(columns.values())))
        for layer, name, predicate in (
            ("bronze", contract.name, equal),
            ("quarantine", contract.name, within),
            ("silver", contract.entity_name, equal),
        ):
            receipt.tables.append(
                _erase_table(
                    f"{layer}/{name}", lake.table(layer, name), predicate, receipt.erasure_id, loaded.version
                )
            )
    if hard_values:
        _erase_warehouse(warehouse_path, sorted(hard_values), lake, receipt)
    receipt.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    write_receipt(lake, receipt)
    return receipt


def _carried(location: TableLocation, erasure_id: str) -> dict[str, str]:
    """The commit metadata later runs read back, for the commit that survives the log's truncation."""
    from lakehouse.bronze.pii_keys import FINGERPRINT, days_by_fingerprint
    from lakehouse.tables.history import PARTITIONS, WRITE_ID, latest_with

    carried = {"lakehouse_erasure": erasure_id}
    for key in (FINGERPRINT, WRITE_ID, "contract_version"):
        commit = latest_with(location, key)
        if commit is not None and commit.get(key):
            carried[key] = str(commit.get(key))
    days = days_by_fingerprint(location)
    if days:
        carried[PARTITIONS] = f"{min(days)}..{max(days)}"
    return carried


def _erase_table(
    name: str, location: TableLocation, predicate: str, erasure_id: str, contract_version: str
) -> TableReceipt:
    from lakehouse.tables.shred import delete_and_vacuum

    table = location.open()
    if table is None:
        return TableReceipt(name, 0, None, None, contract_version=contract_version)
    done = delete_and_vacuum(location, predicate, _carried(location, erasure_id))
    assert done is not None
    return TableReceipt(
        name,
        done.rows,
        done.version_before,
        done.version_after,
        done.files_vacuumed,
        done.log_files_removed,
        contract_version,
    )


def _erase_vault(location: TableLocation, tokens: list[str], erasure_id: str) -> int:
    from lakehouse.tables.shred import delete_and_vacuum

    predicate = "token IN (" + ", ".join(literal(t) for t in tokens) + ")"
    done = delete_and_vacuum(location, predicate, {"lakehouse_erasure": erasure_id})
    return done.rows if done else 0


def _erase_warehouse(path: str, values: list[str], lake: Any, receipt: Receipt) -> None:
    """Delete every warehouse row holding one of ``values`` in a text column, republish the
    silver views, and rewrite the file when anything was deleted."""
    import duckdb

    from lakehouse.gold.delta_views import publish
    from lakehouse.warehouse_lock import COMMAND_WAIT_SECONDS, warehouse_lock

    if not Path(path).exists():
        return
    with warehouse_lock(path, wait_seconds=COMMAND_WAIT_SECONDS):
        con = duckdb.connect(path)
        try:
            columns = con.execute(
                "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c "
                "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
                "WHERE t.table_type = 'BASE TABLE' AND c.data_type = 'VARCHAR' "
                "AND c.table_catalog = current_database() ORDER BY 1, 2, 3"
            ).fetchall()
            tables: dict[str, list[str]] = {}
            for schema, table, column in columns:
                tables.setdefault(f"{ident(schema)}.{ident(table)}", []).append(column)
            for table, names in tables.items():
                matches = " OR ".join(f"contains({ident(c)}, {literal(v)})" for c in names for v in values)
                (count,) = con.execute(f"SELECT count(*) FROM {table} WHERE {matches}").fetchall()[0]
                if count:
                    con.execute(f"DELETE FROM {table} WHERE {matches}")
                    receipt.warehouse_rows_deleted[table] = int(count)
            if any(t.rows_deleted for t in receipt.tables) or receipt.warehouse_rows_deleted:
                publish(con, "silver", f"{lake.lake_root.rstrip('/')}/silver", lake.s3())
            con.execute("CHECKPOINT")
        finally:
            con.close()
        if any(t.rows_deleted for t in receipt.tables) or receipt.warehouse_rows_deleted:
            rewrite_warehouse(path)
            receipt.warehouse_rewritten = True


def rewrite_warehouse(path: str) -> None:
    """Copy the database into a fresh file and swap it in atomically: the old file's freed
    blocks (which may still hold deleted values) go with it. The caller holds the lock."""
    import duckdb

    fresh = f"{path}.rewrite"
    for leftover in (fresh, f"{fresh}.wal"):
        if os.path.exists(leftover):
            os.remove(leftover)
    con = duckdb.connect(path)
    try:
        con.execute(f"ATTACH {literal(fresh)} AS fresh")
        (name,) = con.execute("SELECT current_database()").fetchall()[0]
        con.execute(f"COPY FROM DATABASE {ident(name)} TO fresh")
        con.execute("DETACH fresh")
    finally:
        con.close()
    os.replace(fresh, path)


def write_receipt(lake: Any, receipt: Receipt) -> str:
    """``<lake>/_ops/erasures/<erasure id>.json``; return its location."""
    location = TableLocation(f"{lake.lake_root.rstrip('/')}/_ops/erasures", lake.s3())
    if location.is_local:
        Path(location.uri).mkdir(parents=True, exist_ok=True)
    filesystem = location.filesystem()
    name = f"{receipt.erasure_id}.json"
    with filesystem.open_output_stream(f"{name}.tmp") as out:
        out.write(receipt.as_json().encode())
    filesystem.move(f"{name}.tmp", name)
    return f"{location.uri}/{name}"
