"""A landing zone: a local folder (its path, as before) or an S3 prefix reached through dagster-aws.

Bronze asks a zone for one arrival day's files and gets ``LandingFile``s with a local path to
read, whatever the zone is: an S3 object is downloaded once into a cache keyed by its ETag, so
the readers (DuckDB over local files) and their line numbers, reject tables and layout checks
stay exactly as they are for local files, and a rerun of the same day downloads nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from lakehouse.tables.s3 import S3Connection, is_s3_uri

if TYPE_CHECKING:
    from lakehouse.landing.s3 import S3LandingZone

# A local landing root stays a plain path string, so every caller that passed one still works.
LandingZone = Union[str, "S3LandingZone"]


def landing_zone(root: str, s3: S3Connection | None = None) -> LandingZone:
    """The zone at ``root``: an ``S3LandingZone`` for ``s3://``, else the path itself."""
    if is_s3_uri(root):
        from lakehouse.landing.s3 import S3LandingZone

        return S3LandingZone(root, s3)
    if "://" in root and not root.startswith("file://"):
        raise ValueError(f"landing root {root}: only local folders and s3:// URIs are supported")
    return root.removeprefix("file://")


def zone_root(zone: LandingZone) -> str:
    return zone if isinstance(zone, str) else zone.root
