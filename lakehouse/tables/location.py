"""Where a Delta table lives: a local folder or an S3 prefix, and how to reach it.

Kept free of heavy imports (deltalake, pyarrow load on first use) because resources hold
locations and resources are built when Dagster loads definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lakehouse.tables.s3 import S3Connection, connection_from_environ, is_s3_uri, split_s3_uri

if TYPE_CHECKING:
    import pyarrow.fs
    from deltalake import DeltaTable


@dataclass(frozen=True)
class TableLocation:
    """Where one Delta table lives, and how to reach it.

    An ``s3://`` location carries the ``S3Connection`` its resource was configured with (the
    same endpoint and credentials for delta-rs and pyarrow); without one it uses the process
    environment's (``LAKEHOUSE_S3_ENDPOINT_URL``, ``AWS_*``).
    """

    uri: str
    s3: S3Connection | None = field(default=None, compare=False)

    @property
    def is_local(self) -> bool:
        return "://" not in self.uri or self.uri.startswith("file://")

    @property
    def display_uri(self) -> str:
        """The location as a URI (``file:///...`` for a local path), as the catalog shows it."""
        if "://" in self.uri:
            return self.uri
        return Path(self.uri).absolute().as_uri()

    @property
    def connection(self) -> S3Connection:
        if not is_s3_uri(self.uri):
            raise NotImplementedError(f"{self.uri}: only local folders and s3:// are supported")
        return self.s3 or connection_from_environ()

    @property
    def storage_options(self) -> dict[str, str] | None:
        """delta-rs storage options: None for a local table."""
        return None if self.is_local else self.connection.storage_options()

    @property
    def target(self) -> str:
        """What ``write_deltalake``/``DeltaTable.create`` take when the table does not exist yet."""
        return self.uri

    def open(self) -> DeltaTable | None:
        """The table, or None when nothing was ever written there."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        if self.is_local and not (Path(self.uri.removeprefix("file://")) / "_delta_log").is_dir():
            return None
        try:
            return DeltaTable(self.uri, storage_options=self.storage_options)
        except TableNotFoundError:
            return None

    def filesystem(self) -> pyarrow.fs.FileSystem:
        """A pyarrow filesystem rooted at the table (its add actions are relative to the root).

        Scanning through delta-rs's own Python filesystem wrapper aborts the interpreter at exit
        with pyarrow 26 ("terminate called without an active exception"); pyarrow's native
        filesystems, local and S3, do not.
        """
        import pyarrow.fs as pafs

        if self.is_local:
            return pafs.SubTreeFileSystem(self.uri.removeprefix("file://"), pafs.LocalFileSystem())
        bucket, key = split_s3_uri(self.uri)
        return pafs.SubTreeFileSystem(f"{bucket}/{key}".rstrip("/"), self.connection.pyarrow_filesystem())
