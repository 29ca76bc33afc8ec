"""A real Dagster deployment for the tests: the lakehouse's gRPC code server, the webserver and
the daemon, on an instance whose storage is the machine's PostgreSQL (deploy/dagster.yaml as
it is), each a process of its own on loopback, stopped by process group at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests.helpers import PII_KEY, REPO
from tests.infra.services import PostgresDatabase, free_port, stop, wait_for_port

BIN = Path(sys.executable).parent


def instance_environ(database: PostgresDatabase, home: Path) -> dict[str, str]:
    """DAGSTER_HOME holding deploy/dagster.yaml, and the DAGSTER_PG_* variables it reads."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "trust-auth-ignores-it",
        "DAGSTER_PG_DB": database.name,
    }


class Deployment:
    def __init__(self, root: Path, environ: dict[str, str]):
        self.root = root
        self.env = {**os.environ, "LAKEHOUSE_PII_KEY": PII_KEY, **environ}
        self.logs = root / "logs"
        self.logs.mkdir(exist_ok=True)
        self.processes: list[subprocess.Popen] = []
        self.grpc_port, self.web_port = free_port(), free_port()
        self.workspace = root / "workspace.yaml"
        self.workspace.write_text(
            f"load_from:\n  - grpc_server: {{host: 127.0.0.1, port: {self.grpc_port}, location_name: lakehouse}}\n"
        )

    def start(self, name: str, *argv: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - the process holds it
        process = subprocess.Popen(
            [str(BIN / argv[0]), *argv[1:]],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stopped with its children
        )
        self.processes.append(process)
        return process

    def start_code_server(self) -> None:
        server = self.start(
            "code-server",
            "dagster",
            "code-server",
            "start",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.grpc_port),
            "-m",
            "lakehouse.definitions",
            "--location-name",
            "lakehouse",
        )
        wait_for_port(self.grpc_port, timeout=120, process=server)
        deadline = time.monotonic() + 120
        while (
            subprocess.run(
                [
                    str(BIN / "dagster"),
                    "api",
                    "grpc-health-check",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.grpc_port),
                ],
                env=self.env,
                capture_output=True,
            ).returncode
            != 0
        ):
            assert time.monotonic() < deadline, (self.logs / "code-server.log").read_text()[-3000:]
            time.sleep(1)

    def start_webserver(self) -> None:
        web = self.start(
            "webserver",
            "dagster-webserver",
            "-w",
            str(self.workspace),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.web_port),
        )
        deadline = time.monotonic() + 120
        while True:
            assert web.poll() is None, (self.logs / "webserver.log").read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{self.web_port}/server_info", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the webserver did not come up"
            time.sleep(0.5)

    def start_daemon(self) -> None:
        self.start("daemon", "dagster-daemon", "run", "-w", str(self.workspace))

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"http://127.0.0.1:{self.web_port}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=60,
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop(process)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()
