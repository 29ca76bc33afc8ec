"""Where a Delta table lives: a URI and the options to reach it.

Kept free of heavy imports (deltalake, pyarrow load on first use) because resources hold
locations and resources are built when Dagster loads definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    storage_options: Mapping[str, str] | None = None

    @property
    def is_local(self) -> bool:
        return "://" not in self.uri or self.uri.startswith("file://")

    def open(self) -> DeltaTable | None:
        """The table, or None when nothing was ever written there."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        if self.is_local and not (Path(self.uri) / "_delta_log").is_dir():
            return None
        try:
            return DeltaTable(self.uri, storage_options=dict(self.storage_options or {}) or None)
        except TableNotFoundError:
            return None

    def filesystem(self) -> pyarrow.fs.FileSystem:
        """A pyarrow filesystem rooted at the table.

        Scanning through delta-rs's own Python filesystem wrapper aborts the interpreter at exit
        with pyarrow 26 ("terminate called without an active exception"); pyarrow's native
        filesystems do not.
        """
        import pyarrow.fs as pafs

        if self.is_local:
            return pafs.SubTreeFileSystem(self.uri.removeprefix("file://"), pafs.LocalFileSystem())
        fs, path = pafs.FileSystem.from_uri(self.uri)
        options = dict(self.storage_options or {})
        if isinstance(fs, pafs.S3FileSystem):
            fs = pafs.S3FileSystem(
                access_key=options.get("AWS_ACCESS_KEY_ID"),
                secret_key=options.get("AWS_SECRET_ACCESS_KEY"),
                session_token=options.get("AWS_SESSION_TOKEN"),
                region=options.get("AWS_REGION", "us-east-1"),
                endpoint_override=options.get("AWS_ENDPOINT_URL"),
                allow_bucket_creation=False,
            )
        return pafs.SubTreeFileSystem(path, fs)
