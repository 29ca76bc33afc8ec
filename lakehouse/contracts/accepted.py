"""The last accepted version of each contract, kept beside the lake, and its history.

The file under ``sources/`` is what someone wants; the accepted version is what the tables were
built for. The contract sensor accepts a version (a new source, an additive change) by copying
it to ``<lake root>/_ops/contracts/<name>.yaml``, and every version it ever accepted stays under
``history/<name>/<version>.yaml``. When the file on disk is a breaking change of the accepted
version, the loader builds from the accepted one, so the old definition keeps running. Reading
here is pure; ``accept`` is the sensor's write, never the loader's.

Only a local lake keeps accepted versions (an ``s3://`` lake has none yet: the file on disk is the
truth there, as in a fresh project).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ACCEPTED_FOLDER = "_ops/contracts"


def accepted_dir(lake_root: str) -> Path | None:
    """Where a lake keeps its accepted contracts; None for a lake that is not a local folder."""
    if "://" in lake_root:
        return None
    return Path(lake_root) / ACCEPTED_FOLDER


def accepted_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.yaml"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def accept(directory: Path, name: str, version: str, data: bytes) -> Path:
    """Make ``data`` (a contract file's bytes, version ``version``) the accepted version of
    ``name``: history first, then the current copy, each replaced atomically (a rerun is a no-op)."""
    _write_atomic(directory / "history" / name / f"{version}.yaml", data)
    target = accepted_path(directory, name)
    _write_atomic(target, data)
    return target


def history(directory: Path, name: str) -> list[Path]:
    """Every version of ``name`` ever accepted (oldest first, by the time it was accepted)."""
    folder = directory / "history" / name
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.yaml"), key=lambda p: p.stat().st_mtime_ns)
