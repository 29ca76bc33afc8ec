"""One S3 connection, handed to every client that reaches the lake: delta-rs, pyarrow and boto3.

Three libraries talk to S3 here and each takes its settings differently: delta-rs (object_store)
takes ``AWS_*`` storage options, pyarrow's native ``S3FileSystem`` takes constructor arguments
(it ignores ``AWS_ENDPOINT_URL``), and boto3 comes from dagster-aws's ``S3Resource``. Deriving
all three from one frozen object is how they cannot disagree about the endpoint, the region or
the credentials.

Concurrent writers: delta-rs 1.6 commits every version with a put-if-absent
(``If-None-Match: *``) and retries when the winner did not conflict; a real conflict raises
``CommitFailedError`` and nothing of the loser is visible. No locking provider is configured:
DynamoDB locking is gone from delta-rs (the option is ignored) and would only send credential
look-ups to the instance metadata service. The store must honour ``If-None-Match`` (AWS S3 and
moto do); one that ignores it silently loses commits.

Kept free of heavy imports: resources hold connections, and resources are built at definitions
load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    import pyarrow.fs

DEFAULT_REGION = "us-east-1"


def is_s3_uri(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → ``("bucket", "a/b")`` (no leading or trailing slash on the key)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
        raise ValueError(f"{uri!r} is not an s3://bucket/prefix URI")
    return parsed.netloc, parsed.path.strip("/")


@dataclass(frozen=True)
class S3Connection:
    """Where S3 is and who we are there. Secrets never appear in ``repr`` (logs, errors).

    ``endpoint_url`` is None for AWS itself; an S3-compatible store (MinIO, moto in the tests)
    gives its URL. Keys left None fall back to each client's default credential chain.
    """

    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    def storage_options(self) -> dict[str, str]:
        """delta-rs storage options (also what dbt-duckdb's delta plugin hands to delta-rs)."""
        options = {"AWS_REGION": self.region}
        if self.access_key_id and self.secret_access_key:
            options["AWS_ACCESS_KEY_ID"] = self.access_key_id
            options["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key
        if self.session_token:
            options["AWS_SESSION_TOKEN"] = self.session_token
        options.update(self.endpoint_environment())
        return options

    def endpoint_environment(self) -> dict[str, str]:
        """The non-secret ``AWS_*`` variables that point delta-rs at a custom endpoint (a dbt
        subprocess gets these; the keys it inherits from the environment they came from)."""
        values = {"AWS_REGION": self.region}
        if self.endpoint_url:
            values["AWS_ENDPOINT_URL"] = self.endpoint_url
            # Path-style addressing: virtual-hosted style would take the endpoint's host as the bucket.
            values["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "false"
            if self.endpoint_url.startswith("http://"):
                values["AWS_ALLOW_HTTP"] = "true"  # else delta-rs refuses the URL scheme
        return values

    def pyarrow_filesystem(self) -> pyarrow.fs.S3FileSystem:
        """pyarrow's native S3 client. Scans go through it rather than delta-rs's Python
        filesystem wrapper, which aborts the interpreter at exit now and then."""
        import pyarrow.fs as pafs

        kwargs: dict[str, Any] = {"region": self.region}
        if self.access_key_id and self.secret_access_key:
            kwargs.update(access_key=self.access_key_id, secret_key=self.secret_access_key)
            if self.session_token:
                kwargs["session_token"] = self.session_token
        if self.endpoint_url:
            endpoint = urlparse(self.endpoint_url)
            kwargs.update(
                endpoint_override=endpoint.netloc or self.endpoint_url,
                scheme=endpoint.scheme or "https",
                force_virtual_addressing=False,
            )
        return pafs.S3FileSystem(**kwargs)

    def client(self) -> Any:
        """A boto3 S3 client, made by dagster-aws's ``S3Resource`` (listing and landing files)."""
        from dagster_aws.s3 import S3Resource

        return S3Resource(
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
        ).get_client()


def connection_from_environ(environ: dict[str, str] | None = None) -> S3Connection:
    """The connection the process environment describes, for code running outside a Dagster
    resource (the command line, dbt's subprocess, tests): the same variables the resources read."""
    import os

    env = os.environ if environ is None else environ
    return S3Connection(
        region=env.get("LAKEHOUSE_S3_REGION") or env.get("AWS_REGION") or DEFAULT_REGION,
        endpoint_url=env.get("LAKEHOUSE_S3_ENDPOINT_URL") or None,
        access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        session_token=env.get("AWS_SESSION_TOKEN") or None,
    )
