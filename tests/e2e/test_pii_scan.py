"""The scan that proves no personal data is stored in clear: the demo, run as users run it (the
command, a Dagster instance of its own, the quality ledger synced), then every file it wrote (the
lake with quarantine and dead letters, the warehouse, the Dagster home with its SQLite event log,
run and compute logs, the ledger, dbt's target folder) is searched for every PII value the
generator put in the landing files: as raw bytes and as decoded content (Parquet rows, gzip
streams, DuckDB and SQLite tables). The landing zone holds the values by definition; the vault
holds them encrypted and is scanned too (its bytes must not show them either)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO, make_settings
from tests.pii_scan import files_under, landing_values, scan

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PII = {"customers": ["email", "full_name"], "orders": ["customer_email"]}


def test_the_demo_stores_no_personal_value_in_clear_anywhere(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    home = tmp_path / "home"
    env = {
        **os.environ,
        **settings.as_environ(),
        "DAGSTER_HOME": str(home),
        "LAKEHOUSE_PROJECT_DIR": str(tmp_path),  # the demo keeps its .env beside the project
        "LAKEHOUSE_SOURCES_DIR": str(REPO / "sources"),
        "LAKEHOUSE_DBT_PROJECT_DIR": str(REPO / "dbt_models"),
    }
    env.pop("LAKEHOUSE_STRICT_CONTRACTS", None)
    began = time.time()
    for command in (
        ["demo", "--days", "2", "--end", "2026-05-02", "--orders-per-day", "20"],
        ["checks", "slo", "--start", "2026-05-01", "--end", "2026-05-02"],  # syncs the ledger
    ):
        done = subprocess.run(
            [str(BIN / "lakehouse"), *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    values = landing_values(Path(settings.landing_root), PII)
    assert len(values) >= 10  # e-mails and names of the customers, the orders' e-mails
    data = Path(settings.data_dir)
    dbt_target = REPO / "dbt_models" / "target"
    written = [
        *files_under(data, home, tmp_path / ".env", skip=[Path(settings.landing_root)]),
        *(p for p in files_under(dbt_target) if p.stat().st_mtime >= began),  # what this run wrote
    ]
    kinds = {p.suffix for p in written}
    assert {".parquet", ".json", ".duckdb", ".db"} <= kinds, kinds  # Delta, log, warehouse, instance
    assert any(Path(settings.vault_root) in p.parents for p in written)
    control, _ = scan(files_under(Path(settings.landing_root)), values)  # the scan does find them
    assert {hit.needle for hit in control} == values
    hits, count = scan(written, values)
    # Delta files and logs, the vault, the warehouse, the instance, the dbt artefacts this run
    # wrote (a successful gold step removes its own run folder, so fewer of those than before)
    assert count > 30 and not hits, "\n".join(map(str, hits[:20]))
