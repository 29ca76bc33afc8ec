"""Builders and constants for tests: settings over a test directory, contracts from YAML text,
landing files with set arrival times, readers of what the tables hold, and a real ``dagster dev``
(webserver and daemon) on a free loopback port with its GraphQL client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from lakehouse.contracts import parse_contract
from lakehouse.contracts.model import SourceContract
from lakehouse.settings import Settings
from lakehouse.tables.delta import partition_dataset
from lakehouse.tables.location import TableLocation

REPO = Path(__file__).resolve().parents[1]
PII_KEY = "test-pii-key-0123456789abcdef"
VAULT_KEY = "test-vault-key-fedcba9876543210"


def make_settings(root: Path, sources_dir: Path | None = None) -> Settings:
    """Settings for a lakehouse under ``root`` (data, landing, lake, warehouse), repo's dbt project."""
    env = {
        "LAKEHOUSE_PROJECT_DIR": str(REPO),
        "LAKEHOUSE_DATA_DIR": str(root / "data"),
        "LAKEHOUSE_SOURCES_DIR": str(sources_dir or REPO / "sources"),
    }
    settings = Settings.from_env(env)
    Path(settings.landing_root).mkdir(parents=True, exist_ok=True)
    return settings


EVENTS_CONTRACT = """
name: events
owner: test-team
extract: {kind: files, path: "events/{date}/*.csv", format: csv}
partitions: {start: 2026-01-01, event_time: happened_at, timezone: UTC, lookback_days: 2}
primary_key: [event_id]
columns:
  - {name: event_id,    type: string,          nullable: false}
  - {name: account,     type: string}
  - {name: email,       type: string,          pii: tokenize}
  - {name: kind,        type: string,          nullable: false, normalize: [trim, lower]}
  - {name: amount,      type: "decimal(10,2)", nullable: false}
  - {name: units,       type: int32}
  - {name: active,      type: bool}
  - {name: happened_at, type: timestamp,       nullable: false}
quality:
  - {expect: column_values_to_be_between, column: amount, min_value: 0, severity: warn}
  - {expect: column_values_to_be_in_set, column: kind, value_set: [click, buy], severity: warn}
"""

HEADER = "event_id,account,email,kind,amount,units,active,happened_at"


def contract_from(text: str, **replacements: str) -> SourceContract:
    text = textwrap.dedent(text)
    for old, new in replacements.items():
        text = text.replace(old, new)
    return parse_contract(text)


def write_landing(root: Path | str, relative: str, text: str, arrived: date | None = None) -> Path:
    """Write a landing file; its modification time is 23:55 UTC on ``arrived`` (when given)."""
    path = Path(root) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    if arrived is not None:
        stamp = datetime(arrived.year, arrived.month, arrived.day, 23, 55, tzinfo=UTC).timestamp()
        os.utime(path, (stamp, stamp))
    return path


def string_values(*locations: TableLocation) -> set[str]:
    """Every string value in the tables (decoded, not grepped from compressed files)."""
    import pyarrow as pa

    values: set[str] = set()
    for location in locations:
        table = location.open()
        if table is None:
            continue
        data = partition_dataset(location).to_table()
        for column in data.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                values.update(v for v in column.to_pylist() if v is not None)
    return values


def rows(location: TableLocation, sql: str = "SELECT * FROM t", **params) -> list[dict]:
    """Query a Delta table through DuckDB; ``t`` is the table."""
    dataset = partition_dataset(location)
    assert dataset is not None, f"no Delta table at {location.uri}"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", dataset)
    result = con.execute(sql, params or None)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def data_file_digests(location: TableLocation) -> list[str]:
    """SHA-256 of every data file of the table's current version, sorted."""
    import hashlib

    table = location.open()
    assert table is not None
    return sorted(
        hashlib.sha256(Path(uri.removeprefix("file://")).read_bytes()).hexdigest()
        for uri in table.file_uris()
    )


class Lake:
    """One source's landing zone, bronze and quarantine tables under a test directory."""

    def __init__(self, root: Path, contract_text: str = EVENTS_CONTRACT, **replacements: str):
        from lakehouse.bronze.ingest import ingest_range
        from lakehouse.privacy.vault import TokenVault, vault_location

        self._ingest = ingest_range
        self.root = root
        self.landing = root / "landing"
        self.landing.mkdir(parents=True, exist_ok=True)
        self.contract = contract_from(contract_text, **replacements)
        self.bronze = TableLocation(str(root / "lake" / "bronze" / self.contract.name))
        self.quarantine = TableLocation(str(root / "lake" / "quarantine" / self.contract.name))
        self.silver = TableLocation(str(root / "lake" / "silver" / self.contract.entity_name))
        self.vault = TokenVault(vault_location(str(root / "vault")), VAULT_KEY)

    def file(self, relative: str, text: str, arrived: date) -> Path:
        return write_landing(self.landing, relative, text, arrived)

    def ingest(self, start: date, end: date, run_id: str = "run-1", **options):
        return self._ingest(
            self.contract,
            start=start,
            end=end,
            landing_root=str(self.landing),
            bronze=self.bronze,
            quarantine=self.quarantine,
            pii_key=PII_KEY,
            run_id=run_id,
            vault=self.vault,
            **options,
        )

    def build(self, start: date, end: date, run_id: str = "run-s"):
        from lakehouse.silver.build import build_range

        return build_range(
            self.contract,
            start=start,
            end=end,
            bronze=self.bronze,
            silver=self.silver,
            quarantine=self.quarantine,
            run_id=run_id,
        )

    def daily(self, day: date):
        """What the daily schedule does for ``day``: bronze, then silver, in one run."""
        return self.ingest(day, day), self.build(day, day)


def orders_lake(root: Path) -> Lake:
    """A lake for the demo's ``orders`` contract (CSV, PII), fed by ``lakehouse.demo.generate``."""
    return Lake(root, (REPO / "sources" / "orders.yaml").read_text())


def unprivileged(code: str, *args: str) -> str:
    """Run Python ``code`` (with ``args``) as a user without root's power to read anything, and
    return its output. The sandbox runs tests as root, for whom ``chmod 000`` hides nothing, so
    unreadable paths are tested by reading them as ``nobody`` (``setpriv``); as another user the
    code runs as is. Skips, saying why, where neither is possible."""
    import shutil
    import subprocess
    import sys

    import pytest

    command = [sys.executable, "-c", code, *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root and setpriv is missing: no way to read as an unprivileged user")
        command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Webserver:
    """A running Dagster webserver's GraphQL endpoint."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def graphql(self, query: str, **variables) -> dict:
        import requests

        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_up(self, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                data = self.graphql(
                    "{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }"
                )
                if data["repositoriesOrError"].get("nodes"):
                    return
            except (requests.RequestException, AssertionError):
                pass
            time.sleep(1)
        raise TimeoutError(f"webserver did not come up:\n{log.read_text()[-3000:]}")


@contextmanager
def dagster_dev(
    root: Path,
    settings: Settings,
    env: Mapping[str, str] | None = None,
    instance_config: str = "telemetry:\n  enabled: false\n",
) -> Iterator[tuple[Webserver, Path]]:
    """``dagster dev -w workspace.yaml`` (webserver and daemon) over ``settings``, with a fresh
    instance under ``root/home`` (its ``dagster.yaml``: ``instance_config``), on a free port;
    stopped with Ctrl-C (then killed) on exit."""
    import shutil

    home = root / "home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(instance_config)
    shutil.copy(REPO / "workspace.yaml", root / "workspace.yaml")  # the file users point at
    port = free_port()
    environ = {
        **os.environ,
        **settings.as_environ(),
        "DAGSTER_HOME": str(home),
        # Its own webserver: a contract sensor reloading another test's (or port 3000's) would not do.
        "LAKEHOUSE_WEBSERVER_URL": "http://127.0.0.1:{port}",
        **(env or {}),
    }
    environ = {k: v.replace("{port}", str(port)) for k, v in environ.items()}
    log = root / "dagster-dev.log"
    command = ["dagster", "dev", "-w", "workspace.yaml", "-p", str(port)]
    # dagster dev shuts its services down on Ctrl-C.
    with serve(command, root, environ, port, log, stop=signal.SIGINT, grace=10) as server:
        yield server, log


@contextmanager
def serve(
    command: list[str],
    root: Path,
    env: Mapping[str, str],
    port: int,
    log: Path,
    *,
    stop: signal.Signals = signal.SIGTERM,
    grace: float = 15,
) -> Iterator[Webserver]:
    """Start one of the venv's Dagster commands (``command[0]``) in its own process group in
    ``root``, wait until its webserver on ``port`` answers, and on exit send ``stop``, then kill
    after ``grace`` seconds."""
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name(command[0])), *command[1:]],
            cwd=root,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Webserver(port)
    try:
        server.wait_until_up(process, log)
        yield server
    finally:
        os.killpg(process.pid, stop)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
