"""DuckDB reading ``s3://`` paths without its httpfs extension, which cannot be downloaded here.

DuckDB accepts an fsspec filesystem per connection (``register_filesystem``) and then reads
``s3://`` URIs through it, with Parquet footers and row groups fetched by range, so filters and
partition pruning still skip what a query does not need. The filesystem is fsspec's wrapper over
pyarrow's native S3 client, built from the same ``S3Connection`` as delta-rs and boto3 use:
no second S3 library (s3fs) and no second set of settings.

A view over ``s3://`` files persists in the warehouse like any other; whoever reads it later
needs the same registration (the platform's own readers do it), or httpfs where it can be
installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from lakehouse.tables.s3 import S3Connection


def s3_filesystem(connection: S3Connection) -> Any:
    """An fsspec filesystem for ``s3://`` (and ``s3a://``) paths over pyarrow's S3 client."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    class S3ArrowFileSystem(ArrowFSWrapper):
        protocol = ("s3", "s3a")

        @classmethod
        def _strip_protocol(cls, path: Any) -> Any:
            if isinstance(path, list):
                return [cls._strip_protocol(p) for p in path]
            for prefix in ("s3://", "s3a://"):
                if path.startswith(prefix):
                    path = path[len(prefix) :]
            return path.rstrip("/")

    return S3ArrowFileSystem(connection.pyarrow_filesystem())


def register_s3(con: duckdb.DuckDBPyConnection, connection: S3Connection) -> None:
    """Let ``con`` read ``s3://`` paths (once per connection)."""
    if "s3" not in con.list_filesystems():
        con.register_filesystem(s3_filesystem(connection))
