"""The lake on an S3-compatible server (moto in server mode, on loopback, started by the tests):
landing files listed and read through dagster-aws's S3Resource, Delta tables written by delta-rs
and scanned through pyarrow's S3 filesystem, the platform's own tables, and two concurrent writers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from lakehouse.bronze.ingest import ingest_range
from lakehouse.bronze.preflight import plan_bronze
from lakehouse.extract.watermarks import WatermarkStore
from lakehouse.landing.s3 import S3LandingZone
from lakehouse.privacy.vault import TokenVault, vault_location
from lakehouse.resources import LakeStorage
from lakehouse.silver.build import build_range
from lakehouse.tables.dead_letters import DeadLetterQueue
from lakehouse.tables.location import TableLocation
from lakehouse.tables.s3 import S3Connection
from tests.helpers import (
    EVENTS_CONTRACT,
    HEADER,
    PII_KEY,
    REPO,
    VAULT_KEY,
    contract_from,
    rows,
    write_landing,
)
from tests.infra.services import S3_KEY, S3_REGION, S3_SECRET, MotoServer

DAY = date(2026, 1, 5)
FILES = {
    "events/2026-01-05/a.csv": HEADER + "\ne1,acc,x@y.z,click,1.50,2,true,2026-01-05T10:00:00Z\n"
    "e2,acc,x@y.z,buy,oops,2,true,2026-01-05T11:00:00Z\n",
    "events/2026-01-05/b.csv": HEADER + "\ne3,acc2,q@y.z,Buy ,7.25,1,false,2026-01-04T23:00:00Z\n",
    "events/2026-01-05/.c.csv.part": "an upload in progress",  # hidden: never listed
    "events/2026-01-06/d.csv": HEADER + "\ne4,acc,x@y.z,click,1.00,1,true,2026-01-06T01:00:00Z\n",
}


def connection(moto: MotoServer) -> S3Connection:
    return S3Connection(
        region=S3_REGION, endpoint_url=moto.endpoint, access_key_id=S3_KEY, secret_access_key=S3_SECRET
    )


@pytest.fixture
def lake(moto: MotoServer, tmp_path: Path) -> LakeStorage:
    bucket = moto.bucket()
    storage = LakeStorage(
        landing_root=f"s3://{bucket}/landing",
        lake_root=f"s3://{bucket}/lake",
        s3_region=S3_REGION,
        s3_endpoint_url=moto.endpoint,
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    )
    for key, body in FILES.items():
        moto.client().put_object(Bucket=bucket, Key=f"landing/{key}", Body=body.encode())
    return storage


def test_s3_landing_lists_one_day_and_skips_uploads_in_progress(lake: LakeStorage, tmp_path: Path) -> None:
    zone = lake.landing()
    assert isinstance(zone, S3LandingZone)
    zone = S3LandingZone(zone.root, zone.s3, cache_dir=str(tmp_path / "cache"))
    files = zone.files_for_day(contract_from(EVENTS_CONTRACT).extract, DAY)
    assert [f.relative_path for f in files] == ["events/2026-01-05/a.csv", "events/2026-01-05/b.csv"]
    assert Path(files[0].path).read_text() == FILES["events/2026-01-05/a.csv"]
    assert files[0].size == len(FILES["events/2026-01-05/a.csv"]) and files[0].modified_at.tzinfo == UTC
    again = zone.files_for_day(contract_from(EVENTS_CONTRACT).extract, DAY)  # cached by ETag
    assert [f.path for f in again] == [f.path for f in files]


def test_the_landing_sensor_sees_s3_files_by_etag_without_downloading(
    lake: LakeStorage, moto: MotoServer, tmp_path: Path
) -> None:
    from lakehouse.sensors.landing import list_arrivals

    contract = contract_from(EVENTS_CONTRACT)
    zone = S3LandingZone(lake.landing_root, lake.s3(), cache_dir=str(tmp_path / "cache"))
    first = {a.relative_path: a.identity for a in list_arrivals(zone, contract, DAY)}
    assert list(first) == ["events/2026-01-05/a.csv", "events/2026-01-05/b.csv"]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir()), "listed, not read"
    bucket = lake.landing_root.removeprefix("s3://").split("/")[0]
    moto.client().put_object(Bucket=bucket, Key="landing/events/2026-01-05/b.csv", Body=b"rewritten")
    again = {a.relative_path: a.identity for a in list_arrivals(zone, contract, DAY)}
    assert again["events/2026-01-05/a.csv"] == first["events/2026-01-05/a.csv"]
    assert again["events/2026-01-05/b.csv"] != first["events/2026-01-05/b.csv"], "a new ETag: processed again"


def test_bronze_and_silver_on_s3_hold_what_a_local_lake_holds(lake: LakeStorage, tmp_path: Path) -> None:
    contract = contract_from(EVENTS_CONTRACT)
    local = tmp_path / "local"
    for key, body in FILES.items():
        write_landing(local / "landing", key, body)
    results = {}
    for name, landing, bronze, quarantine, silver in (
        (
            "s3",
            lake.landing(),
            lake.table("bronze", "events"),
            lake.table("quarantine", "events"),
            lake.table("silver", "events"),
        ),
        (
            "local",
            str(local / "landing"),
            *(
                TableLocation(str(local / "lake" / layer / "events"))
                for layer in ("bronze", "quarantine", "silver")
            ),
        ),
    ):
        ingested = ingest_range(
            contract,
            start=DAY,
            end=DAY,
            landing_root=landing,
            bronze=bronze,
            quarantine=quarantine,
            pii_key=PII_KEY,
            run_id="r1",
            vault=TokenVault(vault_location(str(local / f"vault-{name}")), VAULT_KEY),
        )
        build_range(
            contract, start=DAY, end=DAY, bronze=bronze, silver=silver, quarantine=quarantine, run_id="s1"
        )
        results[name] = (
            (ingested.rows_read, ingested.rows_written, ingested.rows_quarantined),
            rows(bronze, "SELECT * EXCLUDE (_ingested_at) FROM t ORDER BY event_id"),
            rows(quarantine, "SELECT _source_file, _reason FROM t ORDER BY _source_file"),
            rows(silver, "SELECT * EXCLUDE (_ingested_at) FROM t ORDER BY event_id"),
        )
        # processing time differs between the two lakes' runs; silver carries bronze's, row for row
        assert rows(silver, "SELECT event_id, _ingested_at FROM t ORDER BY event_id") == rows(
            bronze, "SELECT event_id, _ingested_at FROM t ORDER BY event_id"
        )
    assert results["s3"] == results["local"]
    assert results["s3"][0] == (3, 2, 1)


def test_an_unreachable_landing_zone_trips_the_circuit_breaker(moto: MotoServer) -> None:
    zone = S3LandingZone("s3://no-such-bucket/landing", connection(moto))
    plan = plan_bronze(
        contract_from(EVENTS_CONTRACT),
        start=DAY,
        end=DAY,
        landing_root=zone,
        bronze=TableLocation("s3://no-such-bucket/lake/bronze/events", connection(moto)),
        quarantine=TableLocation("s3://no-such-bucket/lake/quarantine/events", connection(moto)),
    )
    assert plan is not None and [p.kind for p in plan.problems] == ["unreachable"]
    assert "s3://no-such-bucket/landing cannot be listed: NoSuchBucket" in plan.problems[0].message


def test_the_dead_letter_queue_and_the_watermarks_live_on_s3(lake: LakeStorage) -> None:
    queue = DeadLetterQueue(lake.ops_table("dead_letters"))
    entry = queue.record_failure(
        source="events",
        first_day=DAY,
        last_day=DAY,
        kind="source down",
        error="refused",
        traceback="",
        run_id="r1",
    )
    assert queue.open_entries() == [entry]
    queue.resolve_covered("events", DAY, DAY, "r2")
    assert queue.open_entries() == []
    marks = WatermarkStore(lake.ops_table("watermarks"))
    marks.commit("events", datetime(2026, 1, 5, 10, tzinfo=UTC), rows=3, run_id="r1")
    marks.commit("events", datetime(2026, 1, 4, tzinfo=UTC), rows=1, run_id="r2")  # never backwards
    assert marks.get("events").value == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert lake.ops_table("watermarks").uri.endswith("/lake/_ops/watermarks")


def race(moto: MotoServer, uri: str, *writers: tuple[str, str]) -> list[str]:
    """Start one process per (day, value), all committing at the same instant."""
    start_at = str(time.time() + 4)  # both processes have imported deltalake and opened the table by then
    env = {**os.environ, **moto.environ()}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.infra.concurrent_writer", uri, day, value, start_at],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for day, value in writers
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    return [out.strip() for out, _ in outputs]


def test_two_concurrent_writers_never_lose_a_commit(moto: MotoServer) -> None:
    """delta-rs commits with put-if-absent: different days both land (the loser retries on its
    own); the same day makes one fail cleanly, and redoing it lands with nothing lost."""
    bucket = moto.bucket()
    uri = f"s3://{bucket}/lake/race"
    location = TableLocation(uri, connection(moto))
    assert race(moto, uri, ("2026-01-01", "seed")) == ["committed"]
    assert sorted(race(moto, uri, ("2026-01-02", "a"), ("2026-01-03", "b"))) == ["committed", "committed"]
    same = race(moto, uri, ("2026-01-01", "x"), ("2026-01-01", "y"))
    assert sorted(o.split(":")[0] for o in same) == ["committed", "conflict"]
    loser = "xy"[same.index(next(o for o in same if o.startswith("conflict")))]
    assert race(moto, uri, ("2026-01-01", loser)) == ["committed"]  # redo: re-open and rewrite
    table = location.open()
    versions = sorted(
        int(o["Key"].rsplit("/", 1)[1].split(".")[0])
        for o in moto.client().list_objects_v2(Bucket=bucket, Prefix="lake/race/_delta_log/")["Contents"]
        if o["Key"].endswith(".json")
    )
    assert versions == list(range(table.version() + 1))  # contiguous: no commit overwritten
    held = rows(
        location, "SELECT CAST(day AS VARCHAR) AS day, value, count(*) AS n FROM t GROUP BY ALL ORDER BY 1"
    )
    assert held == [
        {"day": "2026-01-01", "value": loser, "n": 3},
        {"day": "2026-01-02", "value": "a", "n": 3},
        {"day": "2026-01-03", "value": "b", "n": 3},
    ]
    assert pa.table(table.get_add_actions(flatten=True)).num_rows == 3
