"""Finding a source's landing files for given arrival days.

Files are addressed by arrival day through the contract's path template (``orders/{date}/*.csv``),
so a partition lists only the folders of the days that can hold its rows, never the whole zone.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakehouse.contracts.model import Extract
    from lakehouse.landing.zone import LandingZone


class LandingUnavailableError(RuntimeError):
    """The landing zone itself cannot be reached (not: a day without files)."""


@dataclass(frozen=True)
class LandingFile:
    path: str  # absolute, for reading
    relative_path: str  # relative to the landing root: stable across machines, stored in tables
    arrival_date: date
    modified_at: datetime  # UTC; when the file was delivered
    size: int


def files_for_day(landing_root: str | LandingZone, extract: Extract, day: date) -> list[LandingFile]:
    """The files delivered on ``day``, sorted by path (an S3 zone lists and downloads them)."""
    if not isinstance(landing_root, str) or "://" in landing_root:
        from lakehouse.landing.zone import landing_zone

        zone = landing_zone(landing_root) if isinstance(landing_root, str) else landing_root
        return zone.files_for_day(extract, day)  # type: ignore[union-attr]
    root = Path(landing_root)
    if not root.is_dir():
        raise LandingUnavailableError(f"landing root {landing_root} does not exist or is not a directory")
    pattern = extract.path.replace("{date}", day.isoformat())
    found = []
    for match in sorted(glob.glob(str(root / pattern))):
        stat = os.stat(match)
        if not os.path.isfile(match):
            continue
        found.append(
            LandingFile(
                path=match,
                relative_path=os.path.relpath(match, root),
                arrival_date=day,
                modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC).replace(microsecond=0),
                size=stat.st_size,
            )
        )
    return found


def files_for_days(
    landing_root: str | LandingZone, extract: Extract, days: Iterable[date]
) -> list[LandingFile]:
    return [f for day in days for f in files_for_day(landing_root, extract, day)]
