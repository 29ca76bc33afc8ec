"""The image, built for real (scripts/build-image: podman on a local Debian base) and run: its
code server answers gRPC, and the definitions it lists are the lakehouse's."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin

from tests.helpers import PII_KEY, REPO, VAULT_KEY
from tests.infra.services import free_port

pytestmark = [pytest.mark.slow, pytest.mark.image]
PODMAN = ["podman", "--runtime", "runc"]


def test_the_image_builds_and_serves_its_definitions_over_grpc(tmp_path: Path) -> None:
    tag = f"localhost/lakehouse:test-{uuid.uuid4().hex[:8]}"
    build = subprocess.run(
        [str(REPO / "scripts/build-image"), tag], capture_output=True, text=True, timeout=1200
    )
    assert build.returncode == 0, build.stderr[-3000:]
    port, name = free_port(), f"lakehouse-test-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(
            [
                *PODMAN,
                "run",
                "-d",
                "--name",
                name,
                "--ulimit",
                "nofile=20000:20000",
                "--ulimit",
                "nproc=32768:32768",
                "-e",
                f"LAKEHOUSE_PII_KEY={PII_KEY}",
                "-e",
                f"LAKEHOUSE_VAULT_KEY={VAULT_KEY}",
                "-p",
                f"127.0.0.1:{port}:4000",
                tag,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        deadline = time.monotonic() + 180
        dagster = str(Path(REPO / ".venv/bin/dagster"))
        while (
            subprocess.run(
                [dagster, "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            ).returncode
            != 0
        ):
            logs = subprocess.run([*PODMAN, "logs", name], capture_output=True, text=True).stdout
            assert time.monotonic() < deadline, logs[-3000:]
            time.sleep(1)
        user = subprocess.run([*PODMAN, "exec", name, "id", "-u"], capture_output=True, text=True, check=True)
        assert user.stdout.strip() == "10001"  # not root
        with (
            dg.DagsterInstance.ephemeral() as instance,
            GrpcServerCodeLocationOrigin(
                host="127.0.0.1", port=port, location_name="lakehouse"
            ).create_location(instance) as location,
        ):
            (repository,) = location.get_repositories().values()
            assets = {node.key.to_user_string() for node in repository.asset_graph.asset_nodes}
            checks = repository.asset_graph.asset_check_keys
            sensors = {sensor.name for sensor in repository.get_sensors()}
        assert {"bronze/orders", "silver/orders", "bronze/customers", "gold/fct_daily_sales"} <= assets
        assert any(c.name == "circuit_breaker" for c in checks)
        assert "quality_ledger" in sensors
    finally:
        subprocess.run([*PODMAN, "rm", "-f", name], capture_output=True)
        subprocess.run([*PODMAN, "rmi", "-f", tag], capture_output=True)
