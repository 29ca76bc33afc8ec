"""A JSON HTTP API → JSON-lines landing files, page by page.

requests (already a dependency of Dagster's) with a session per extraction. The records of a
page are written verbatim (numbers as the API wrote them) to the file of their watermark's day,
so bronze's JSON-lines reader judges them: a renamed or removed field is caught by its schema
checks, an undeclared one is rescued.

- Auth: a header whose value comes from the variable the contract names; never a query
  parameter, never logged (errors name the URL without its query string).
- Pagination: ``page`` (page number and size, a short page ends it), ``cursor`` (a cursor from
  the body, sent back as a parameter) or ``link`` (the ``Link: rel="next"`` header). A page that
  would repeat one already read is an error, not a loop.
- Retries, per request: a 429 waits exactly its ``Retry-After`` (seconds or an HTTP date); a
  5xx, a dropped connection, a timeout or a truncated body waits ``backoff * 2**(n-1)`` (capped);
  after ``max_attempts`` the extraction fails (and goes to the dead-letter queue). Other 4xx
  fail at once: a replay would get the same answer.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lakehouse.contracts.extracts import (
    CursorPagination,
    HttpExtract,
    LinkPagination,
    PagePagination,
    parse_seconds,
)
from lakehouse.contracts.model import SourceContract
from lakehouse.extract.errors import SourceConfigError, SourceUnavailableError
from lakehouse.extract.files import StagedFiles

Sleep = Callable[[float], None]


def _where(url: str) -> str:
    """The URL without its query string (the page parameters are noise, and safer left out)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def dig(body: Any, path: str) -> Any:
    """``a.b.c`` into nested objects; '' is the body itself."""
    for part in [p for p in path.split(".") if p]:
        body = body.get(part) if isinstance(body, dict) else None
    return body


@dataclass
class Client:
    """One extraction's requests: the session, the auth header, the retry rules."""

    contract: SourceContract
    extract: HttpExtract
    token: str | None
    sleep: Sleep = time.sleep

    def __post_init__(self) -> None:
        import requests

        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if self.extract.auth is not None:
            if not self.token:
                raise SourceConfigError(f"{self.contract.name}: {self.extract.auth.env} is empty")
            self.session.headers[self.extract.auth.header] = f"{self.extract.auth.prefix}{self.token}"

    def get(self, url: str, params: dict[str, Any] | None) -> tuple[Any, Any]:
        """The parsed body and the response, after the retries the contract allows."""
        import requests

        retry = self.extract.retry
        backoff, cap = (
            parse_seconds(retry.backoff).total_seconds(),
            parse_seconds(retry.max_backoff).total_seconds(),
        )
        longest = parse_seconds(retry.max_retry_after).total_seconds()
        timeout = parse_seconds(self.extract.timeout).total_seconds()
        name, where = self.contract.name, _where(url)
        problem = ""
        for attempt in range(1, retry.max_attempts + 1):
            wait = min(cap, backoff * 2 ** (attempt - 1))
            try:
                response = self.session.get(url, params=params, timeout=timeout)
                if response.status_code == 429:
                    after = retry_after_seconds(response.headers.get("Retry-After"))
                    problem = "429 Too Many Requests"
                    if after is not None:
                        if after > longest:
                            raise SourceUnavailableError(
                                f"{name}: GET {where} answered 429 with Retry-After {after:.0f}s, longer than "
                                f"retry.max_retry_after ({retry.max_retry_after})"
                            )
                        wait = after  # exactly what the server asked for
                elif response.status_code >= 500:
                    problem = f"{response.status_code} {response.reason}"
                elif response.status_code >= 400:
                    hint = (
                        " (check the token in the variable auth.env names)"
                        if response.status_code in (401, 403)
                        else ""
                    )
                    raise SourceConfigError(
                        f"{name}: GET {where} answered {response.status_code} {response.reason}{hint}"
                    )
                else:
                    return json.loads(response.content, parse_float=Decimal), response
            except requests.RequestException as error:  # refused, reset, timed out, truncated
                problem = f"{type(error).__name__} ({str(error).split(':')[0][:120]})"
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                problem = (
                    f"a body that is not complete JSON ({error.msg if hasattr(error, 'msg') else error})"
                )
            if attempt < retry.max_attempts:
                self.sleep(wait)
        raise SourceUnavailableError(
            f"{name}: GET {where} failed after {retry.max_attempts} attempts; last: {problem}"
        )


def pages(client: Client, extract: HttpExtract, params: dict[str, Any]) -> Iterator[list[Any]]:
    """Each page's records, following the contract's pagination."""
    style = extract.pagination
    url: str | None = extract.url
    seen: set[str] = set()
    page_number = style.first if isinstance(style, PagePagination) else 0
    cursor: str | None = None
    while url is not None:
        query = dict(params)
        if isinstance(style, PagePagination):
            query.update({style.page_param: page_number, style.size_param: style.size})
        elif isinstance(style, CursorPagination):
            if style.size_param and style.size:
                query[style.size_param] = style.size
            if cursor is not None:
                query[style.cursor_param] = cursor
        elif isinstance(style, LinkPagination) and url != extract.url:
            query = {}  # the next link carries its own query
        key = f"{url}?{sorted(query.items())}"
        if key in seen:
            raise SourceUnavailableError(
                f"{client.contract.name}: pagination does not advance at {_where(url)}"
            )
        seen.add(key)
        body, response = client.get(url, query)
        records = dig(body, extract.records)
        if not isinstance(records, list):
            raise SourceConfigError(
                f"{client.contract.name}: GET {_where(url)}: no list of records at "
                f"{extract.records or 'the body'} (extract.records)"
            )
        yield records
        if isinstance(style, PagePagination):
            page_number += 1
            url = url if len(records) >= style.size else None
        elif isinstance(style, CursorPagination):
            cursor = dig(body, style.cursor_path)
            url = url if cursor not in (None, "") else None
            cursor = None if cursor is None else str(cursor)
        elif isinstance(style, LinkPagination):
            url = response.links.get("next", {}).get("url")
        else:
            url = None


def _watermark(value: Any, timezone: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        from zoneinfo import ZoneInfo

        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    return parsed


def extract_http(
    contract: SourceContract,
    token: str | None,
    staged: StagedFiles,
    *,
    on_page: Callable[[int], None] | None = None,
    sleep: Sleep = time.sleep,
) -> None:
    """Read the window's records into ``staged``. A record whose watermark cannot be read goes
    to the file of the window's last day, where bronze quarantines it with the reason."""
    extract = contract.extract
    assert isinstance(extract, HttpExtract)
    window = staged.window
    params: dict[str, Any] = dict(extract.params)
    if extract.since_param:
        params[extract.since_param] = window.lower.isoformat()
    if extract.until_param:
        params[extract.until_param] = window.until.isoformat()
    client = Client(contract, extract, token, sleep)
    last_day = window.days[-1]
    try:
        _read_pages(client, extract, params, staged, last_day, on_page)
    finally:
        client.session.close()


def _read_pages(
    client: Client,
    extract: HttpExtract,
    params: dict[str, Any],
    staged: StagedFiles,
    last_day: date,
    on_page: Callable[[int], None] | None,
) -> None:
    contract, window = client.contract, staged.window
    for records in pages(client, extract, params):
        for record in records:
            mark = (
                _watermark(record.get(extract.watermark), contract.partitions.timezone)
                if isinstance(record, dict)
                else None
            )
            if mark is None:
                staged.write_record(last_day, record)
                staged.rows += 1
                staged.rows_by_day[last_day] = staged.rows_by_day.get(last_day, 0) + 1
            elif window.contains(mark):  # the API may not filter, or filter loosely
                day = window.day_of(mark)
                staged.write_record(day, record)
                staged.seen(mark, day)
        if on_page is not None:
            on_page(len(records))
