"""PII tokenisation: HMAC-SHA256 of the value with a secret key, computed inside DuckDB.

Tokens are deterministic (the same e-mail gives the same token in every source, so joins still
work) and cannot be reversed or recomputed without the key, which comes from the environment
(``LAKEHOUSE_PII_KEY``) and never appears in code, logs, tables or SQL text: its HMAC pads are
handed to DuckDB as bound parameters of session variables. Clear values exist only in the memory
of the ingesting process: the first byte written anywhere is already a token.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

MACRO = "pii_token"
_BLOCK = 64  # SHA-256 block size


class PiiKeyMissingError(RuntimeError):
    pass


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def install_token_macro(con: duckdb.DuckDBPyConnection, key: str | None) -> None:
    """Define ``pii_token(varchar) -> varchar`` (hex HMAC-SHA256) on this connection only."""
    if not key:
        raise PiiKeyMissingError(
            "this source has PII columns but LAKEHOUSE_PII_KEY is not set; set it to a long random "
            "secret (the same one everywhere, or tokens will not match across runs)"
        )
    inner, outer = hmac_pads(key.encode())
    con.execute("SET VARIABLE pii_inner_pad = ?", [inner])
    con.execute("SET VARIABLE pii_outer_pad = ?", [outer])
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO {MACRO}(v) AS CASE WHEN v IS NULL THEN NULL ELSE "
        "sha256(getvariable('pii_outer_pad') || unhex(sha256(getvariable('pii_inner_pad') || encode(v)))) END"
    )


def token(key: str, value: str) -> str:
    """The same token in Python, for tests and for looking a value up by its token."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


# ``pii: hash`` is the HMAC of this prefix and the value: never equal to the value's token, so no
# vault entry (which maps tokens) can ever turn a hash back into its value.
HASH_PREFIX = "lakehouse:hash:"


def keyed_hash(key: str, value: str) -> str:
    """A ``pii: hash`` column's value in Python (erasure finds a subject's rows by it)."""
    return token(key, HASH_PREFIX + value)


def keyed_value(key: str, mode: str, value: str) -> str:
    """What bronze stores for ``value`` in a column of ``pii: mode`` (tokenize or hash)."""
    return keyed_hash(key, value) if mode == "hash" else token(key, value)


_FINGERPRINT_MESSAGE = b"lakehouse: fingerprint of the PII tokenisation key, v1"


def key_fingerprint(key: str) -> str:
    """A keyed hash of a constant: equal for equal keys, and useless for recovering the key
    (HMAC-SHA256 of a fixed message, 16 hex digits). Recorded with every table the key
    tokenised, so a run with another key can be stopped before tokens stop joining."""
    return hmac.new(key.encode(), _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]
