"""A real ``dagster dev`` (webserver and daemon on loopback, a free port, its own DAGSTER_HOME)
and the webserver's GraphQL: shared by the tests that need the real services."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.helpers import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Webserver:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def graphql(self, query: str, **variables) -> dict:
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_up(self, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
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
    root: Path, home: Path, env: Mapping[str, str], log: Path | None = None
) -> Iterator[tuple[Webserver, Path]]:
    """``dagster dev -w workspace.yaml`` in ``root`` with ``home`` as DAGSTER_HOME (its
    ``dagster.yaml`` written by the caller) and ``env`` added; stopped with Ctrl-C at the end."""
    shutil.copy(REPO / "workspace.yaml", root / "workspace.yaml")  # the file users point at
    port = free_port()
    log = log or root / "dagster-dev.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-w", "workspace.yaml", "-p", str(port)],
            cwd=root,
            env={**os.environ, **env, "DAGSTER_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Webserver(port)
    try:
        server.wait_until_up(process, log)
        yield server, log
    finally:
        os.killpg(process.pid, signal.SIGINT)  # dagster dev shuts its services down on Ctrl-C
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
