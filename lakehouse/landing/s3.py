"""The landing zone on S3: list a day's objects, download them once, deliver extracted files.

Listing goes through dagster-aws's ``S3Resource`` (a boto3 client): ``list_objects_v2`` under the
longest literal prefix of the day's pattern, so a day costs a listing of that day's folder, never
of the zone. The listing already carries size, ETag and last-modified time (no HEAD per object);
the ETag keys the local cache, so a changed object is downloaded again and an unchanged one never.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.bronze.landing import LandingFile, LandingUnavailableError
from lakehouse.tables.s3 import S3Connection, connection_from_environ, split_s3_uri

if TYPE_CHECKING:
    from lakehouse.contracts.model import Extract

CACHE_MAX_AGE_SECONDS = 2 * 24 * 3600  # cached copies unused for two days are removed
_GLOB = re.compile(r"[*?\[]")
_SAFE_SUFFIX = re.compile(r"^[A-Za-z0-9.]*$")
_pruned: set[str] = set()


def _boto_errors() -> tuple[type[Exception], type[Exception]]:
    """botocore's client and transport errors (imported on use: boto3 is not a load-time import)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return ClientError, BotoCoreError


def default_cache_dir() -> str:
    return os.environ.get("LAKEHOUSE_LANDING_CACHE") or os.path.join(
        tempfile.gettempdir(), f"lakehouse-landing-cache-{os.getuid()}"
    )


def matches(pattern: str, relative: str) -> bool:
    """Glob semantics of the local zone (``glob.glob``): ``*`` and ``?`` stay within one path
    segment, and a segment starting with a dot (an upload in progress) matches only a pattern
    that starts with one."""
    parts, names = pattern.split("/"), relative.split("/")
    if len(parts) != len(names):
        return False
    return all(
        fnmatchcase(name, part) and (part.startswith(".") or not name.startswith("."))
        for part, name in zip(parts, names, strict=True)
    )


@dataclass(frozen=True)
class LandingObject:
    """One object of a day's listing: its ETag changes when it is rewritten."""

    key: str
    relative_path: str
    etag: str
    modified_at: datetime  # UTC
    size: int


@dataclass(frozen=True)
class S3LandingZone:
    root: str  # s3://bucket/prefix
    s3: S3Connection | None = field(default=None, compare=False)
    cache_dir: str = field(default_factory=default_cache_dir, compare=False)

    @property
    def bucket(self) -> str:
        return split_s3_uri(self.root)[0]

    @property
    def prefix(self) -> str:
        return split_s3_uri(self.root)[1]

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def _client(self) -> Any:
        return (self.s3 or connection_from_environ()).client()

    def objects_for_day(self, extract: Extract, day: date, client: Any = None) -> list[LandingObject]:
        """The objects delivered on ``day`` as the listing describes them (nothing downloaded):
        what the landing sensor compares with what it saw before."""
        pattern = extract.path.replace("{date}", day.isoformat())
        found = []
        for obj in self._list(client or self._client(), pattern):
            relative = obj["Key"][len(self.prefix) + 1 :] if self.prefix else obj["Key"]
            if obj["Key"].endswith("/") or not matches(pattern, relative):
                continue
            found.append(
                LandingObject(
                    key=obj["Key"],
                    relative_path=relative,
                    etag=str(obj["ETag"]).strip('"'),
                    modified_at=obj["LastModified"].astimezone(UTC),
                    size=int(obj["Size"]),
                )
            )
        return sorted(found, key=lambda o: o.relative_path)

    def files_for_day(self, extract: Extract, day: date) -> list[LandingFile]:
        """The objects delivered on ``day``, sorted by key, each with a local copy to read."""
        client = self._client()
        return [
            LandingFile(
                path=self._local_copy(client, obj.key, obj.etag),
                relative_path=obj.relative_path,
                arrival_date=day,
                modified_at=obj.modified_at.replace(microsecond=0),
                size=obj.size,
            )
            for obj in self.objects_for_day(extract, day, client)
        ]

    def _list(self, client: Any, pattern: str) -> Iterator[dict[str, Any]]:
        ClientError, BotoCoreError = _boto_errors()

        glob_at = _GLOB.search(pattern)
        literal = pattern[: glob_at.start()] if glob_at else pattern
        literal = literal[: literal.rfind("/") + 1] if glob_at else literal
        try:
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.key(literal) if literal else self.key("")
            ):
                yield from page.get("Contents", [])
        except ClientError as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
            raise LandingUnavailableError(
                f"landing root {self.root} cannot be listed: {code or error}"
            ) from None
        except BotoCoreError as error:
            raise LandingUnavailableError(f"landing root {self.root} cannot be reached: {error}") from None

    def _local_copy(self, client: Any, key: str, etag: str) -> str:
        """Download ``key`` unless the copy of this ETag is cached; atomic, safe across processes."""
        ClientError, BotoCoreError = _boto_errors()

        self._prune()
        suffix = "".join(Path(key).suffixes[-2:])
        suffix = suffix if _SAFE_SUFFIX.match(suffix) else ""
        name = hashlib.sha256(f"{self.bucket}/{key}".encode()).hexdigest()[:24] + suffix
        target = Path(self.cache_dir) / re.sub(r"[^A-Za-z0-9-]", "_", etag) / name
        if target.exists():
            os.utime(target)
            return str(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.{os.getpid()}.part")
        try:
            client.download_file(self.bucket, key, str(partial))
        except (ClientError, BotoCoreError) as error:
            partial.unlink(missing_ok=True)
            raise LandingUnavailableError(f"s3://{self.bucket}/{key} cannot be read: {error}") from None
        os.replace(partial, target)
        return str(target)

    def _prune(self) -> None:
        if self.cache_dir in _pruned:
            return
        _pruned.add(self.cache_dir)
        cutoff = time.time() - CACHE_MAX_AGE_SECONDS
        for path in Path(self.cache_dir).glob("*/*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    def publish(self, relative: str, local_path: str) -> None:
        """Put a finished file at ``relative``: an S3 object appears whole or not at all."""
        ClientError, BotoCoreError = _boto_errors()

        try:
            self._client().upload_file(local_path, self.bucket, self.key(relative))
        except (ClientError, BotoCoreError) as error:
            raise LandingUnavailableError(f"{self.root}/{relative} cannot be written: {error}") from None
