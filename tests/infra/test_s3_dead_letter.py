"""An S3 landing zone that is unreachable (its moto server stopped) is a dead letter; once the
store is back, ``lakehouse dlq replay`` loads the day from it and resolves the entry."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from lakehouse.cli import main
from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.resources import lake_storage
from lakehouse.runs import materialize_range
from lakehouse.settings import Settings
from lakehouse.tables.dead_letters import PENDING, RESOLVED, DeadLetterQueue
from lakehouse.tables.location import TableLocation
from tests.helpers import REPO, rows
from tests.infra.services import MotoServer, stop, wait_for_port

DAY = date(2026, 4, 10)


def serve(port: int, log: Path) -> subprocess.Popen:
    """moto on ``port`` again (a fresh, empty store)."""
    moto = Path(sys.executable).with_name("moto_server")
    with open(log, "a") as out:
        process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for_port(port, process=process)
    return process


def upload(server: MotoServer, bucket: str, folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            server.client().upload_file(str(path), bucket, f"landing/{path.relative_to(folder)}")


def test_an_unreachable_s3_landing_zone_is_replayed_once_it_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = MotoServer(tmp_path)
    files = tmp_path / "files"
    generate(files, DAY - timedelta(days=2), DAY, orders_per_day=30, seed=4)
    bucket = "landing-zone"
    server.client().create_bucket(Bucket=bucket)
    upload(server, bucket, files)
    for name, value in server.environ().items():
        monkeypatch.setenv(name, value)
    env = {
        "LAKEHOUSE_PROJECT_DIR": str(REPO),
        "LAKEHOUSE_DATA_DIR": str(tmp_path / "data"),
        "LAKEHOUSE_LANDING_ROOT": f"s3://{bucket}/landing",
        **server.environ(),
    }
    settings = Settings.from_env(env)
    defs = build_definitions(settings)
    home = tmp_path / "home"
    home.mkdir()
    queue = DeadLetterQueue(lake_storage(settings, env_vars=False).ops_table("dead_letters"))
    process = None
    try:
        server.close()  # the store goes away
        with dg.DagsterInstance.local_temp(str(home)) as instance:
            failed = materialize_range(
                defs, DAY, DAY, instance=instance, selection=["bronze/orders"], raise_on_error=False
            )
        assert not failed.success
        (entry,) = queue.entries()
        assert (entry.kind, entry.status, entry.source) == ("unreachable", PENDING, "orders")
        assert f"s3://{bucket}/landing" in entry.error

        process = serve(server.port, tmp_path / "moto-again.log")  # back, empty: the files are re-sent
        server.client().create_bucket(Bucket=bucket)
        upload(server, bucket, files)
        done = CliRunner().invoke(
            main, ["dlq", "replay", entry.id], env={**settings.as_environ(), **env, "DAGSTER_HOME": str(home)}
        )
        assert done.exit_code == 0, done.output
        assert "replayed, resolved" in done.output
        assert queue.get(entry.id).status == RESOLVED
        (landed,) = rows(
            TableLocation(f"{settings.lake_root}/bronze/orders"),
            f"SELECT count(*) AS n FROM t WHERE _event_date = DATE '{DAY}'",
        )
        assert landed["n"] > 0
    finally:
        if process is not None:
            stop(process)
