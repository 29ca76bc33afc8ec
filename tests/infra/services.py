"""Real services for the infrastructure tests, started and stopped by the tests themselves.

- ``MotoServer``: moto in server mode (an S3-compatible store) in its own process on loopback.
- ``PostgresDatabase``: a database of its own on the machine's PostgreSQL (127.0.0.1:5432,
  trust auth), created for a test run and dropped after it.

Nothing here stands in for a part: clients talk to these servers over real sockets.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
S3_KEY, S3_SECRET, S3_REGION = "lakehouse-test-key", "lakehouse-test-secret", "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a process started with ``start_new_session=True`` and its children (its group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        pass


class MotoServer:
    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.log = open(log_dir / "moto.log", "w")  # noqa: SIM115 - closed in close()
        moto = Path(sys.executable).with_name("moto_server")
        self.process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, process=self.process)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        """The variables a lakehouse process needs to reach this server."""
        return {
            "LAKEHOUSE_S3_ENDPOINT_URL": self.endpoint,
            "LAKEHOUSE_S3_REGION": S3_REGION,
            "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
        )

    def bucket(self) -> str:
        """A new, empty bucket (moto keeps state as long as the server lives)."""
        name = f"lake-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def close(self) -> None:
        stop(self.process)
        self.log.close()


class PostgresDatabase:
    """A database of its own; ``url`` is a libpq URI for it."""

    def __init__(self, prefix: str = "lakehouse_test"):
        import psycopg2

        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin() as con:
            con.cursor().execute(f'CREATE DATABASE "{self.name}"')
        self.psycopg2 = psycopg2

    @staticmethod
    @contextmanager
    def admin() -> Iterator:
        import psycopg2

        con = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres")
        con.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        try:
            yield con
        finally:
            con.close()

    def url(self, password: str = "") -> str:
        auth = f"{PG_USER}:{password}" if password else PG_USER
        return f"postgresql://{auth}@{PG_HOST}:{PG_PORT}/{self.name}"

    def connect(self):
        con = self.psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=self.name)
        con.autocommit = True
        return con

    def execute(self, sql: str, params: tuple | list | None = None) -> None:
        with self.connect() as con, con.cursor() as cur:
            cur.execute(sql, params)

    def drop(self) -> None:
        with self.admin() as con:
            con.cursor().execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
