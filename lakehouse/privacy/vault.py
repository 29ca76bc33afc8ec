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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse.tables.location import TableLocation
from lakehouse.tables.sql import ident

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

    def store(self, source: str, entries: list[tuple[str, str, str]]) -> int:
        """Add ``(column, token, value)`` entries the vault does not hold yet (a rerun adds none).

        Every source's bronze step writes this one table, so two runs may commit at once: the
        MERGE that loses is retried from a fresh read (it only inserts what is still missing, so a
        retry never adds an entry twice)."""
        import time

        from deltalake.exceptions import CommitFailedError

        for attempt in range(_COMMIT_ATTEMPTS):
            try:
                return self._store_once(source, entries)
            except CommitFailedError:
                if attempt == _COMMIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def _store_once(self, source: str, entries: list[tuple[str, str, str]]) -> int:
        import pyarrow as pa

        from lakehouse.tables.delta import commit_properties

        table = self._open_or_create()
        known = {(r["column"], r["token"]) for r in self._rows(table, "source", source, ["column", "token"])}
        new = sorted({(c, t, v) for c, t, v in entries if (c, t) not in known})
        if not new:
            return 0
        aead = self._aead()
        nonces = [os.urandom(_NONCE_BYTES) for _ in new]
        batch = pa.table(
            {
                "token": [t for _, t, _ in new],
                "source": [source] * len(new),
                "column": [c for c, _, _ in new],
                "key_fingerprint": [self.fingerprint] * len(new),
                "nonce": nonces,
                "ciphertext": [
                    aead.encrypt(n, v.encode(), t.encode()) for n, (_, t, v) in zip(nonces, new, strict=True)
                ],
            },
            schema=vault_schema(),
        )
        (
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
        return len(new)

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


def vault_location(vault_root: str) -> TableLocation:
    return TableLocation(f"{vault_root.rstrip('/')}/{VAULT_TABLE}")
