"""Finding a source's landing files for given arrival days.

Files are addressed by arrival day through the contract's path template (``orders/{date}/*.csv``),
so a partition lists only the folders of the days that can hold its rows, never the whole zone.

The listing is a glob that does not look away: Python's ``glob`` silently skips a folder it
cannot list, so an unreadable day folder looked like a day without files ("the source may be
late"), and following that advice (``allow_missing_files``) dropped the day's rows. Here a day
folder or file that cannot be read, or a broken symbolic link, is reported with its path and the
operating system's error; a match that is not a regular file (a directory named ``x.csv``) is
reported too, never read and never skipped silently.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse.contracts.model import Extract
    from lakehouse.landing.zone import LandingZone

_GLOB = frozenset("*?[")


class LandingUnavailableError(RuntimeError):
    """The landing zone itself cannot be reached (not: a day without files)."""


@dataclass(frozen=True)
class LandingFile:
    path: str  # absolute, for reading
    relative_path: str  # relative to the landing root: stable across machines, stored in tables
    arrival_date: date
    modified_at: datetime  # UTC; when the file was delivered
    size: int


@dataclass(frozen=True)
class Unreadable:
    """A path the day's pattern reaches that cannot be read, and the OS's reason."""

    relative_path: str
    arrival_date: date
    reason: str  # e.g. "[Errno 13] Permission denied", "broken symbolic link to ..."

    def describe(self) -> str:
        return f"{self.relative_path}: {self.reason}"


@dataclass(frozen=True)
class NotAFile:
    """A match of the pattern that is not a regular file (a directory named ``x.csv``)."""

    relative_path: str
    arrival_date: date
    kind: str  # "a directory", "a FIFO", ...


@dataclass
class DayListing:
    files: list[LandingFile] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    not_files: list[NotAFile] = field(default_factory=list)


def _os_error(error: OSError) -> str:
    return f"[Errno {error.errno}] {error.strerror}" if error.strerror else str(error)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _broken_link(path: str) -> str | None:
    """Why a symbolic link at ``path`` leads nowhere (missing target, a loop), or None."""
    if not os.path.islink(path):
        return None
    try:
        os.stat(path)
    except OSError as error:
        return f"broken symbolic link to {os.readlink(path)} ({_os_error(error)})"
    return None


def _matches(directory: str, part: str) -> list[str]:
    """Names in ``directory`` matching the glob ``part`` (hidden names only when it asks)."""
    with os.scandir(directory) as entries:
        names = [e.name for e in entries]
    hidden = part.startswith(".")
    return sorted(n for n in names if fnmatch.fnmatchcase(n, part) and (hidden or not n.startswith(".")))


def list_day(landing_root: str | LandingZone, extract: Extract, day: date) -> DayListing:
    """What the path template finds for ``day``: files, unreadable paths, non-files. An S3 zone
    lists the day's objects and downloads them into its cache (``landing/s3.py``)."""
    if not isinstance(landing_root, str) or "://" in landing_root:
        from lakehouse.landing.zone import landing_zone

        zone = landing_zone(landing_root) if isinstance(landing_root, str) else landing_root
        return DayListing(files=zone.files_for_day(extract, day))  # type: ignore[union-attr]
    root = Path(landing_root)
    if not root.is_dir():
        raise LandingUnavailableError(f"landing root {landing_root} does not exist or is not a directory")
    listing = DayListing()
    parts = [p for p in extract.path.replace("{date}", day.isoformat()).split("/") if p]

    def relative(path: str) -> str:
        return os.path.relpath(path, root)

    def unreadable(path: str, reason: str) -> None:
        listing.unreadable.append(Unreadable(relative(path), day, reason))

    def walk(directory: str, remaining: list[str]) -> None:
        part, rest = remaining[0], remaining[1:]
        if _GLOB & set(part):
            broken = _broken_link(directory)
            if broken:
                unreadable(directory, broken)
                return
            try:
                names = _matches(directory, part)
            except FileNotFoundError:
                return  # not delivered (yet): a day without files
            except OSError as error:  # permissions, not a directory, I/O
                unreadable(directory, _os_error(error))
                return
            candidates = [os.path.join(directory, n) for n in names]
        else:
            candidates = [os.path.join(directory, part)]
        for path in candidates:
            if not rest:
                _add(path)
            elif (broken := _broken_link(path)) is not None:
                unreadable(path, broken)
            elif os.path.lexists(path):
                walk(path, rest)

    def _add(path: str) -> None:
        if not os.path.lexists(path):
            return
        broken = _broken_link(path)
        if broken:
            unreadable(path, broken)
            return
        try:
            status = os.stat(path)
        except OSError as error:
            unreadable(path, _os_error(error))
            return
        if not stat.S_ISREG(status.st_mode):
            listing.not_files.append(NotAFile(relative(path), day, _kind(status.st_mode)))
            return
        try:
            with open(path, "rb") as handle:  # readable by this process (permissions, locks, I/O)
                handle.read(1)
        except OSError as error:
            unreadable(path, _os_error(error))
            return
        listing.files.append(
            LandingFile(
                path=path,
                relative_path=relative(path),
                arrival_date=day,
                modified_at=datetime.fromtimestamp(status.st_mtime, tz=UTC).replace(microsecond=0),
                size=status.st_size,
            )
        )

    walk(str(root), parts)
    listing.files.sort(key=lambda f: f.path)
    return listing


def files_for_day(landing_root: str | LandingZone, extract: Extract, day: date) -> list[LandingFile]:
    """The readable files delivered on ``day``, sorted by path."""
    return list_day(landing_root, extract, day).files


def files_for_days(
    landing_root: str | LandingZone, extract: Extract, days: Iterable[date]
) -> list[LandingFile]:
    return [f for day in days for f in files_for_day(landing_root, extract, day)]
