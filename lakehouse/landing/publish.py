"""Delivering a finished file into a landing zone atomically: readers see all of it or none.

Locally the file is copied beside its destination under a hidden name (``glob`` skips names
starting with a dot) and renamed into place; on S3 an upload is one object that appears whole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lakehouse.landing.zone import LandingZone


def publish(zone: LandingZone, relative: str, local_path: str) -> None:
    if not isinstance(zone, str):
        zone.publish(relative, local_path)
        return
    target = Path(zone) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    shutil.copyfile(local_path, partial)
    os.replace(partial, target)


@contextmanager
def local_folder_for(zone: LandingZone) -> Iterator[str]:
    """A folder to write landing files into: the zone itself when it is local, else a temporary
    folder whose files are published into the zone (same relative paths) when the block ends."""
    if isinstance(zone, str):
        yield zone
        return
    with tempfile.TemporaryDirectory(prefix="lakehouse-landing-") as folder:
        yield folder
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                publish(zone, path.relative_to(folder).as_posix(), str(path))
