"""Deleting rows so that no byte of them stays: Delta delete, vacuum, and the log's history.

A Delta ``DELETE`` only marks the files that held the rows removed (time travel still reads
them); the log's earlier commits keep those files' statistics (min and max per column, which for
a 64-character token is the token itself), and the delete's own commit records its predicate,
the token again. So an erasure deletes, vacuums every file no version but the current one needs
(retention 0), checkpoints the vacuum's last version, and removes every log file before it: the
table's history starts at the erasure. The platform's own commit metadata that later runs read
back (the PII key's fingerprint, the bronze/quarantine write id, the days they cover) is carried
into the vacuum's commits, so it survives the log's truncation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lakehouse.tables.location import TableLocation

_LOG_FILE = re.compile(r"^(\d{20})\.(json|crc|checkpoint\.parquet|checkpoint\.\d+\.\d+\.parquet)$")


@dataclass(frozen=True)
class Deleted:
    rows: int
    version_before: int
    version_after: int  # the version of the delete (the vacuum's own commits follow it)
    files_vacuumed: int
    log_files_removed: int


def delete_and_vacuum(location: TableLocation, predicate: str, carried: dict[str, Any]) -> Deleted | None:
    """Delete the rows ``predicate`` matches and every byte of them; None when the table does not
    exist. A table without such rows is not touched (delta-rs commits no version then)."""
    from lakehouse.tables.delta import commit_properties

    table = location.open()
    if table is None:
        return None
    before = table.version()
    metrics = table.delete(predicate)
    after = table.version()
    if after == before:
        return Deleted(0, before, before, 0, 0)
    matched = int(metrics.get("num_deleted_rows", 0))
    vacuumed = table.vacuum(
        retention_hours=0,
        enforce_retention_duration=False,
        dry_run=False,
        full=True,
        commit_properties=commit_properties(carried),
    )
    removed = truncate_log(location)
    return Deleted(int(matched), before, after, len(vacuumed), removed)


def truncate_log(location: TableLocation) -> int:
    """Checkpoint the current version and remove the log files before it; return how many."""
    import pyarrow.fs as pafs

    table = location.open()
    assert table is not None
    version = table.version()
    table.create_checkpoint()
    filesystem = location.filesystem()
    removed = 0
    for info in filesystem.get_file_info(pafs.FileSelector("_delta_log", allow_not_found=True)):
        match = _LOG_FILE.match(info.base_name)
        if match and int(match.group(1)) < version:
            filesystem.delete_file(info.path)
            removed += 1
    return removed
