"""The token vault: the value behind each token of a ``pii: tokenize`` column, encrypted.

Tokens are HMACs and cannot be reversed; the vault is the one place a token's value can be read
back (``lakehouse pii resolve``), and deleting a subject's entries is crypto-shredding: its
tokens stay in the tables, but no key anywhere turns them back into the value.

One Delta table (``<vault_root>/tokens``) outside bronze, silver and gold, written by the bronze
step before bronze commits (so no token is ever stored without its mapping) and idempotently (an
entry already there is not written again). Each value is encrypted with AES-256-GCM under a key
derived from ``LAKEHOUSE_VAULT_KEY`` (a secret separate from the tokenisation key: the pipeline's
key makes tokens, only holders of the vault key read values), with the token as associated data,
so a ciphertext moved next to another token does not decrypt. The vault's bytes hold no clear
value. The Delta log keeps no statistics of its columns, so no token sits in the log either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import ident, literal

if TYPE_CHECKING:
    import pyarrow as pa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from deltalake import DeltaTable

VAULT_TABLE = "tokens"
_NONCE_BYTES = 12
_KEY_INFO = b"lakehouse token vault, AES-256-GCM, v1"
_FINGERPRINT_MESSAGE = b"lakehouse: fingerprint of the vault key, v1"


class VaultKeyMissingError(RuntimeError):
    pass


class VaultKeyError(RuntimeError):
    """An entry does not decrypt with this key (another key, or a tampered entry)."""


def vault_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("token", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("column", pa.string(), nullable=False),
            pa.field("key_fingerprint", pa.string(), nullable=False),
            pa.field("nonce", pa.binary(), nullable=False),
            pa.field("ciphertext", pa.binary(), nullable=False),
        ]
    )


# Statistics (min/max per file) would copy tokens into the log's JSON, which outlives a delete.
NO_STATS = {"delta.dataSkippingStatsColumns": "source"}


# Commits of the vault's MERGE tried before a run fails (concurrent bronze steps of other sources).
_COMMIT_ATTEMPTS = 5


@dataclass(frozen=True)
class TokenVault:
    location: TableLocation
    key: str

    def __post_init__(self) -> None:
        if not self.key:
            raise VaultKeyMissingError(
                "this source has pii: tokenize columns but LAKEHOUSE_VAULT_KEY is not set; set it to a long "
                "random secret, kept apart from LAKEHOUSE_PII_KEY (it decrypts the token vault)"
            )

    @property
    def fingerprint(self) -> str:
        return hmac.new(self.key.encode(), _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]

    def _aead(self) -> AESGCM:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
            self.key.encode()
        )
        return AESGCM(derived)

    def store(self, source: str, entries: pa.Table | Sequence[tuple[str, str, str]]) -> int:
        """Add the ``(column, token, value)`` entries the vault does not hold yet (a rerun adds
        none); ``entries`` as a table with those three columns, or as tuples.

        Every source's bronze step writes this one table, so two runs may commit at once: the
        MERGE that loses is retried from a fresh read (it only inserts what is still missing, so a
        retry never adds an entry twice)."""
        import time

        from deltalake.exceptions import CommitFailedError

        entries = _as_table(entries)
        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                return self._store_once(source, entries)
            except CommitFailedError:
                if attempt == _COMMIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def _store_once(self, source: str, entries: pa.Table) -> int:
        """The entries the vault lacks are found by an anti-join in DuckDB over the vault's files,
        and only those are encrypted: the cost follows the run's tokens, not the vault (it used to
        load every token the source ever had into a Python set)."""
        from lakehouse.tables.delta import commit_properties

        table = self._open_or_create()
        new = self._missing(table, source, entries)
        if new.num_rows == 0:
            return 0
        batch = self._encrypted(source, new)
        metrics = (
            table.merge(
                batch,
                predicate="t.token = s.token AND t.source = s.source AND t.column = s.column",
                source_alias="s",
                target_alias="t",
                commit_properties=commit_properties({"lakehouse_operation": "vault store", "source": source}),
            )
            .when_not_matched_insert_all()
            .execute()
        )
        return int(metrics["num_target_rows_inserted"])

    def _missing(self, table: DeltaTable, source: str, entries: pa.Table) -> pa.Table:
        """``entries`` less those the vault holds for ``source``, distinct, in a stable order. The
        join spills to a folder of its own under ``LAKEHOUSE_DUCKDB_MEMORY_LIMIT``, as a step's does."""
        import tempfile

        from lakehouse.tables.engine import step_connection
        from lakehouse.tables.scan import register_scan

        with tempfile.TemporaryDirectory(prefix="lakehouse-vault-") as spill:
            con = step_connection(spill)
            try:
                con.register("entries", entries)
                register_scan(con, "vault", self.location, table=table)
                return con.sql(
                    'SELECT DISTINCT e."column", e.token, e.value FROM entries e '
                    f"WHERE NOT EXISTS (SELECT 1 FROM vault v WHERE v.source = {literal(source)} "
                    'AND v."column" = e."column" AND v.token = e.token) ORDER BY 1, 2, 3'
                ).to_arrow_table()
            finally:
                con.close()

    def _encrypted(self, source: str, new: pa.Table) -> pa.Table:
        """The vault's rows for ``new`` entries: each value under a fresh nonce, the token as
        associated data, so a ciphertext moved next to another token does not decrypt."""
        import pyarrow as pa

        aead = self._aead()
        tokens = new.column("token").to_pylist()
        values = new.column("value").to_pylist()
        nonces = [os.urandom(_NONCE_BYTES) for _ in tokens]
        ciphertexts = [
            aead.encrypt(n, v.encode(), t.encode()) for n, t, v in zip(nonces, tokens, values, strict=True)
        ]
        return pa.table(
            {
                "token": new.column("token"),
                "source": pa.array([source] * new.num_rows, pa.string()),
                "column": new.column("column"),
                "key_fingerprint": pa.array([self.fingerprint] * new.num_rows, pa.string()),
                "nonce": pa.array(nonces, pa.binary()),
                "ciphertext": pa.array(ciphertexts, pa.binary()),
            },
            schema=vault_schema(),
        )

    def resolve(self, token: str) -> list[tuple[str, str, str]]:
        """``(source, column, value)`` of every entry of ``token`` (none once erased)."""
        table = self.location.open()
        if table is None:
            return []
        rows = self._rows(table, "token", token, [f.name for f in vault_schema()])
        aead = self._aead()
        found = []
        for row in rows:
            try:
                value = aead.decrypt(row["nonce"], row["ciphertext"], token.encode()).decode()
            except Exception as error:  # cryptography's InvalidTag
                raise VaultKeyError(
                    f"the vault entry of this token ({row['source']}.{row['column']}) does not decrypt with "
                    f"LAKEHOUSE_VAULT_KEY (fingerprint {self.fingerprint}; the entry's: {row['key_fingerprint']})"
                ) from error
            found.append((row["source"], row["column"], value))
        return found

    def tokens_of(self, values: set[str]) -> set[str]:
        """Every token whose entry decrypts to one of ``values``: erasure by value also reaches
        entries made under an earlier PII key (a rotation leaves them), whose tokens no one can
        recompute. Decrypts the whole vault (AES-GCM: microseconds an entry)."""
        table = self.location.open()
        if table is None or not values:
            return set()
        data = self._read(table, ["token", "nonce", "ciphertext"]).to_pylist()
        aead = self._aead()
        found = set()
        for row in data:
            try:
                value = aead.decrypt(row["nonce"], row["ciphertext"], row["token"].encode()).decode()
            except Exception:  # another vault key's entry: not this key's to judge
                continue
            if value in values:
                found.add(row["token"])
        return found

    def _rows(self, table: DeltaTable, column: str, value: str, columns: list[str]) -> list[dict]:
        """The entries whose ``column`` is ``value``: pyarrow cannot filter the ``string_view``
        columns delta-rs's merge writes, so the filter runs in DuckDB on the loaded columns."""
        import duckdb

        data = self._read(table, sorted({*columns, column}))
        con = duckdb.connect()
        try:
            con.register("vault", data)
            found = con.execute(
                f"SELECT {', '.join(ident(c) for c in columns)} FROM vault WHERE {ident(column)} = ?", [value]
            )
            names = [d[0] for d in found.description]
            return [dict(zip(names, row, strict=True)) for row in found.fetchall()]
        finally:
            con.close()

    def _read(self, table: DeltaTable, columns: list[str]) -> pa.Table:
        """Through pyarrow's own filesystem (delta-rs's Python wrapper aborts at exit on S3)."""
        return table.to_pyarrow_dataset(filesystem=self.location.filesystem()).to_table(columns=columns)

    def _open_or_create(self) -> DeltaTable:
        from deltalake import DeltaTable

        table = self.location.open()
        if table is None:
            DeltaTable.create(
                self.location.target,
                vault_schema(),
                mode="ignore",
                configuration=NO_STATS,
                storage_options=self.location.storage_options,
            )
            table = self.location.open()
        assert table is not None
        return table


def _as_table(entries: pa.Table | Sequence[tuple[str, str, str]]) -> pa.Table:
    import pyarrow as pa

    if isinstance(entries, pa.Table):
        return entries.select(["column", "token", "value"]).cast(entry_schema())
    return pa.table(
        {
            "column": [c for c, _, _ in entries],
            "token": [t for _, t, _ in entries],
            "value": [v for _, _, v in entries],
        },
        schema=entry_schema(),
    )


def entry_schema() -> pa.Schema:
    """What ``TokenVault.store`` takes: a token, its column and its clear value."""
    import pyarrow as pa

    return pa.schema([("column", pa.string()), ("token", pa.string()), ("value", pa.string())])


def vault_location(vault_root: str) -> TableLocation:
    return TableLocation(f"{vault_root.rstrip('/')}/{VAULT_TABLE}")
