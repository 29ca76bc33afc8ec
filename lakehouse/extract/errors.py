"""Extraction failures, and keeping secrets out of their messages.

``SourceUnavailableError`` is a failure that is not the data's fault and may pass (the
database is down or dropped the connection, the API kept answering 5xx or 429, a timeout):
it goes to the dead-letter queue for a replay. ``SourceConfigError`` is the contract's fault
(no such table, a 404, a 401): a replay would fail the same way, so it only fails the run.
"""

from __future__ import annotations

from collections.abc import Iterable


class ExtractionError(RuntimeError):
    kind = "extraction"


class SourceUnavailableError(ExtractionError):
    kind = "source down"


class LandingUnreachableError(SourceUnavailableError):
    kind = "unreachable"


class SourceConfigError(ExtractionError):
    kind = "source config"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret (and each secret's parts that are long enough to matter)
    replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def dsn_secrets(dsn: str) -> list[str]:
    """The connection string and its password, in both its written and parsed forms."""
    found = [dsn]
    try:
        from psycopg2.extensions import parse_dsn

        password = parse_dsn(dsn).get("password")
    except Exception:  # an unparsable string is still redacted whole
        password = None
    if password:
        from urllib.parse import quote

        found += [password, quote(password, safe="")]
    return found
