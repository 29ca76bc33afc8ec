"""Vacuum: delete the files a Delta table no longer references, once they are old enough.

Every write that replaces days (bronze and quarantine's partition overwrite, silver's MERGE, a
restore, retention's deletes) leaves the files it replaced on storage, referenced only by older
versions of the log, and a write that died leaves files no version references (orphans). Nothing
removed either: one rerun of a day grew a small lake from 91 to 104 MB. Vacuum deletes both kinds
once they are older than the window (``LAKEHOUSE_VACUUM_RETAIN_HOURS``, default 168 h): time
travel, the pairing's undo of an interrupted ingest (a restore to the version before) and readers
still on an older version keep working within the window, and cannot reach further back after.

Removed files are sized before they are deleted (a dry run, then the real one), so the report
says how many bytes each table gave back.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakehouse.tables.location import TableLocation


@dataclass(frozen=True)
class VacuumReport:
    table: str  # the table's URI
    version: int | None  # the current version (None: no table there)
    files_removed: int
    bytes_freed: int
    retention_hours: int
    dry_run: bool = False

    @property
    def exists(self) -> bool:
        return self.version is not None


def vacuum(location: TableLocation, retention_hours: int, *, dry_run: bool = False) -> VacuumReport:
    """Delete ``location``'s files unreferenced by its current version and older than
    ``retention_hours`` (0: every such file, now); ``dry_run`` only counts them.

    A full vacuum: the removed files of earlier versions and the orphans no version names (a
    crashed write's). Shorter windows than the table's ``delta.deletedFileRetentionDuration``
    are allowed on purpose: the window is the platform's setting, not each table's.
    """
    if retention_hours < 0:
        raise ValueError(f"retention_hours must be >= 0, got {retention_hours}")
    table = location.open()
    if table is None:
        return VacuumReport(location.uri, None, 0, 0, retention_hours, dry_run)

    def run(dry: bool) -> list[str]:
        return table.vacuum(retention_hours, dry_run=dry, enforce_retention_duration=False, full=True)

    # The log keeps naming files an earlier vacuum deleted: only those still on storage count,
    # and with none, no vacuum commit is written (a rerun changes nothing).
    sizes = _sizes(location, run(True))
    removed = set(sizes)
    if sizes and not dry_run:
        removed &= set(run(False))
    return VacuumReport(
        table=location.uri,
        version=table.version(),
        files_removed=len(removed),
        bytes_freed=sum(sizes[path] for path in removed),
        retention_hours=retention_hours,
        dry_run=dry_run,
    )


def _sizes(location: TableLocation, paths: list[str]) -> dict[str, int]:
    """Bytes of each file still on storage (paths relative to the table's root, as vacuum
    lists them); files already gone are left out."""
    if not paths:
        return {}
    import pyarrow.fs as pafs

    infos = location.filesystem().get_file_info([_relative(location, p) for p in paths])
    return {
        path: info.size or 0
        for path, info in zip(paths, infos, strict=True)
        if info.type == pafs.FileType.File
    }


def _relative(location: TableLocation, path: str) -> str:
    """Vacuum names files relative to the table, or (some versions) by absolute URI."""
    root = location.uri.removeprefix("file://").rstrip("/") + "/"
    plain = path.removeprefix("file://")
    return plain[len(root) :] if plain.startswith(root) else plain
