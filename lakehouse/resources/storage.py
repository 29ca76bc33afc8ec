"""The lake's storage: the landing zone files arrive in, the root of the Delta tables, and S3.

Local folders by default (``./data``). Any root may be ``s3://bucket/prefix``: then the resource
also carries the S3 endpoint, region and credentials, the credentials as ``dagster.EnvVar``s
(the UI shows the variable's name, never its value), and hands one ``S3Connection`` to every
table location and the landing zone, so delta-rs, pyarrow and boto3 (dagster-aws's
``S3Resource``) reach the same store the same way.
"""

from __future__ import annotations

import dagster as dg

from lakehouse.landing.zone import LandingZone, landing_zone
from lakehouse.tables.location import TableLocation
from lakehouse.tables.s3 import S3Connection, is_s3_uri


class LakeStorage(dg.ConfigurableResource):
    """Tables live at ``<lake_root>/<layer>/<name>``: ``bronze/orders``, ``quarantine/orders``,
    ``silver/orders``; the platform's own tables (dead letters, watermarks) under ``_ops/``.
    """

    landing_root: str
    lake_root: str
    s3_region: str = "us-east-1"
    s3_endpoint_url: str | None = None  # None: AWS itself
    aws_access_key_id: str | None = None  # EnvVar("AWS_ACCESS_KEY_ID"); None: the default chain
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None

    def s3(self) -> S3Connection | None:
        if not (is_s3_uri(self.lake_root) or is_s3_uri(self.landing_root)):
            return None
        return S3Connection(
            region=self.s3_region,
            endpoint_url=self.s3_endpoint_url,
            access_key_id=self.aws_access_key_id,
            secret_access_key=self.aws_secret_access_key,
            session_token=self.aws_session_token,
        )

    def table(self, layer: str, name: str) -> TableLocation:
        return TableLocation(f"{self.lake_root.rstrip('/')}/{layer}/{name}", self.s3())

    def ops_table(self, name: str) -> TableLocation:
        """The platform's own bookkeeping (``_ops/dead_letters``, ``_ops/watermarks``)."""
        return self.table("_ops", name)

    def landing(self) -> LandingZone:
        """The landing root as bronze reads it: the local path, or an S3 zone."""
        return landing_zone(self.landing_root, self.s3())
