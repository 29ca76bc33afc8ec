"""Where a Delta table lives.

Kept free of heavy imports (deltalake, pyarrow load on first use) because resources hold
locations and resources are built when Dagster loads definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow.fs
    from deltalake import DeltaTable


@dataclass(frozen=True)
class TableLocation:
    """Where one Delta table lives, and how to reach it."""

    uri: str

    @property
    def is_local(self) -> bool:
        return "://" not in self.uri or self.uri.startswith("file://")

    @property
    def display_uri(self) -> str:
        """The location as a URI (``file:///...`` for a local path), as the catalog shows it."""
        if "://" in self.uri:
            return self.uri
        return Path(self.uri).absolute().as_uri()

    def open(self) -> DeltaTable | None:
        """The table, or None when nothing was ever written there."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        if self.is_local and not (Path(self.uri.removeprefix("file://")) / "_delta_log").is_dir():
            return None
        try:
            return DeltaTable(self.uri)
        except TableNotFoundError:
            return None

    def filesystem(self) -> pyarrow.fs.FileSystem:
        """A pyarrow filesystem rooted at the table.

        Scanning through delta-rs's own Python filesystem wrapper aborts the interpreter at exit
        with pyarrow 26 ("terminate called without an active exception"); pyarrow's native
        filesystems do not.
        """
        import pyarrow.fs as pafs

        if not self.is_local:
            raise NotImplementedError(f"{self.uri}: only local tables are supported so far")
        return pafs.SubTreeFileSystem(self.uri.removeprefix("file://"), pafs.LocalFileSystem())
