"""The extract kinds that read a live system: a PostgreSQL table or query, and a JSON HTTP API.

Both are incremental by a watermark column (``updated_at > last watermark - lookback``) and
deliver what they read into the landing zone (PostgreSQL as Parquet, an API's records as JSON
lines), under ``<source>/{date}/`` by the watermark's day. Bronze then reads those files like any
other: its checks, replays and the missing-files guard apply unchanged.

Secrets are never in a contract: it names the environment variable that holds them
(``connection_env``, ``auth.env``), which the platform reads through ``dagster.EnvVar``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlparse

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from lakehouse.contracts.model import CsvOptions

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _env_name(value: str) -> str:
    """An environment variable's name; the value itself (a connection string, a token) is never
    echoed back, since a secret pasted here would then show in logs too."""
    if not _ENV_NAME.match(value):
        raise ValueError(
            "must be the name of an environment variable (A-Z, 0-9, _) that holds the secret, "
            "not the secret itself"
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_DURATION = re.compile(r"^(\d+)\s*(ms|s|m|h|d)$")
_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_seconds(text: str) -> timedelta:
    """``'250ms'``, ``'30s'``, ``'15m'``, ``'2h'``, ``'1d'`` (``'0m'`` is allowed: no lookback)."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"expected a duration like '30s', '15m', '2h' or '1d', got {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


Duration = Annotated[str, Field(description="a duration: 30s, 15m, 2h, 1d")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Incremental(_Strict):
    """What both live kinds share: the watermark, its lookback, and where their files land."""

    # A declared timestamp column; each run reads rows whose value is after the last
    # committed watermark minus ``lookback`` and before the end of the run's last day.
    watermark: str
    # Rows whose watermark is set backwards (a transaction that commits late with an earlier
    # updated_at) are caught when they fall within this window before the last watermark.
    lookback: Duration = "15m"
    # Relative to the landing root; filled in by the contract as ``<name>/{date}/*.<format>``.
    path: str
    # A day with no new or changed rows is normal for a live source (an outage is a failed
    # extraction, which the dead-letter queue records): its empty days pass unjudged.
    allow_empty_days: bool = True
    # Another contract lands in the same folder on purpose (see FilesExtract.shared_path).
    shared_path: bool = False

    @field_validator("lookback")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_seconds(value)
        return value

    @field_validator("path")
    @classmethod
    def _has_date(cls, value: str) -> str:
        if value.count("{date}") != 1:
            raise ValueError("must contain '{date}' exactly once (the watermark's day of the files)")
        if value.startswith("/") or "://" in value or ".." in value.split("/"):
            raise ValueError("must be relative to the landing root (no leading '/', '..' or scheme)")
        name = value.rsplit("/", 1)[-1]
        if name.count("*") != 1 or set("?[]{}") & set(name.replace("{date}", "")) or "{date}" in name:
            raise ValueError(
                "the file name must have one '*' (each extraction writes a file of its own there) "
                "and no other pattern, e.g. <source>/{date}/*.parquet"
            )
        return value

    def file_path(self, day: date, stem: str) -> str:
        """Where one extraction's file of ``day`` lands (the pattern with ``*`` = ``stem``)."""
        folder, _, name = self.path.replace("{date}", day.isoformat()).rpartition("/")
        return f"{folder}/{name.replace('*', stem)}" if folder else name.replace("*", stem)

    @property
    def lookback_delta(self) -> timedelta:
        return parse_seconds(self.lookback)

    @property
    def options(self) -> CsvOptions:
        """No CSV dialect: what an extractor writes is Parquet or JSON lines."""
        from lakehouse.contracts.model import CsvOptions

        return CsvOptions()

    @property
    def secret_env(self) -> str | None:
        raise NotImplementedError


class PostgresExtract(_Incremental):
    kind: Literal["postgres"]
    # The environment variable holding the connection string (libpq URI or key=value form).
    connection_env: EnvName
    table: str | None = None  # schema.table or table
    query: str | None = None  # or a SELECT; the watermark filter wraps it
    # Rows fetched per round trip of the server-side cursor (and per Parquet row group).
    chunk_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    format: Literal["parquet"] = "parquet"

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str | None) -> str | None:
        if value is not None and not _SQL_NAME.match(value):
            raise ValueError(f"expected table or schema.table (letters, digits, _), got {value!r}")
        return value

    @field_validator("query")
    @classmethod
    def _one_statement(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip().rstrip(";").strip()
        if ";" in text:
            raise ValueError("must be one SELECT statement (no ';' inside)")
        if not re.match(r"(?is)^(select|with)\b", text):
            raise ValueError("must be a SELECT (or WITH ... SELECT) statement")
        return text

    @model_validator(mode="after")
    def _table_or_query(self) -> PostgresExtract:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of 'table' and 'query'")
        return self

    @property
    def secret_env(self) -> str:
        return self.connection_env


class HttpAuth(_Strict):
    """A header whose value comes from an environment variable (never a query parameter)."""

    env: EnvName
    header: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]+$")] = "Authorization"
    prefix: str = "Bearer "  # written before the variable's value ('' for a bare API key)


class PagePagination(_Strict):
    style: Literal["page"]
    page_param: str = "page"
    size_param: str = "per_page"
    size: Annotated[int, Field(ge=1, le=100_000)] = 100
    first: Annotated[int, Field(ge=0)] = 1  # the first page's number
    # A page with fewer than ``size`` records is the last one.


class CursorPagination(_Strict):
    style: Literal["cursor"]
    cursor_param: str = "cursor"
    # Dotted path to the next cursor in the body; absent, null or '' ends the listing.
    cursor_path: str = "next_cursor"
    size_param: str | None = None
    size: Annotated[int | None, Field(ge=1, le=100_000)] = None


class LinkPagination(_Strict):
    style: Literal["link"]  # RFC 8288 ``Link: <url>; rel="next"`` response header


Pagination = Annotated[PagePagination | CursorPagination | LinkPagination, Field(discriminator="style")]


class HttpRetry(_Strict):
    # Attempts per request, the first included; a 5xx, a dropped connection or a truncated body
    # waits ``backoff * 2**(attempt-1)`` (at most ``max_backoff``); a 429 waits its Retry-After.
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    backoff: Duration = "1s"
    max_backoff: Duration = "60s"
    # A Retry-After longer than this fails the request instead of holding the run.
    max_retry_after: Duration = "5m"

    @field_validator("backoff", "max_backoff", "max_retry_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_seconds(value)
        return value


class HttpExtract(_Incremental):
    kind: Literal["http"]
    url: str
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    # Dotted path to the list of records in a response body ('' when the body is the list).
    records: str = ""
    auth: HttpAuth | None = None
    pagination: Pagination | None = None
    # Query parameters the API filters by (ISO 8601 values); without them the platform filters.
    since_param: str | None = None
    until_param: str | None = None
    retry: HttpRetry = Field(default_factory=HttpRetry)
    timeout: Duration = "30s"
    format: Literal["jsonl"] = "jsonl"

    @field_validator("url")
    @classmethod
    def _plain_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        if parsed.username or parsed.password:
            raise ValueError("must not carry credentials; name an environment variable in auth.env")
        return value

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        parse_seconds(value)
        return value

    @property
    def secret_env(self) -> str | None:
        return self.auth.env if self.auth else None


LIVE_KINDS = ("postgres", "http")
LANDED_FORMAT = {"postgres": "parquet", "http": "jsonl"}


def default_landing_path(name: object, kind: object) -> str | None:
    """``<name>/{date}/*.<format>`` for a live kind, None for others."""
    if not isinstance(kind, str) or kind not in LANDED_FORMAT or not isinstance(name, str):
        return None
    return f"{name}/{{date}}/*.{LANDED_FORMAT[kind]}"
