"""Erasing a customer of the demo: afterwards neither the value nor its token is in any file of
the lake, the warehouse or the vault (raw bytes and decoded Parquet, DuckDB and gzip content);
only the receipt remains, and it names the subject by a keyed hash. The vault resolved the token
before and does not after; the pipeline still runs; a second erasure finds nothing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from lakehouse.bronze.pii import token
from lakehouse.cli import main
from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.location import TableLocation
from tests.helpers import PII_KEY, make_settings, rows
from tests.pii_scan import files_under, landing_values, scan

pytestmark = pytest.mark.slow

START, END = date(2026, 6, 1), date(2026, 6, 2)


def test_an_erased_customer_is_gone_from_every_file_and_only_the_receipt_remains(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    generate(settings.landing_root, START, END, orders_per_day=12, seed=5)
    home = tmp_path / "home"
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        assert materialize_range(build_definitions(settings), START, END, instance=instance).success

    customers = rows(TableLocation(f"{settings.lake_root}/silver/customers"), "SELECT * FROM t")
    orders = rows(TableLocation(f"{settings.lake_root}/silver/orders"), "SELECT * FROM t")
    ordering = {o["customer_email"] for o in orders}
    emails = sorted(landing_values(Path(settings.landing_root), {"customers": ["email"]}))
    email = next(e for e in emails if token(PII_KEY, e) in ordering)  # a customer with orders
    subject = token(PII_KEY, email)
    names = {c["full_name"] for c in customers if c["email"] == subject}
    env = {**settings.as_environ(), "DAGSTER_HOME": str(home)}

    resolved = CliRunner().invoke(main, ["pii", "resolve", subject], env=env)
    assert resolved.exit_code == 0 and f"customers.email: {email}" in resolved.output, resolved.output

    erased = CliRunner().invoke(main, ["erase", "--subject", email], env=env)
    assert erased.exit_code == 0, erased.output
    assert email not in erased.output and subject not in erased.output
    receipts = sorted(Path(settings.lake_root, "_ops", "erasures").glob("*.json"))
    assert len(receipts) == 1
    receipt = json.loads(receipts[0].read_text())
    deleted = {t["table"]: t["rows_deleted"] for t in receipt["tables"]}
    assert deleted["silver/customers"] >= 1 and deleted["bronze/customers"] >= 1
    assert deleted["silver/orders"] == sum(1 for o in orders if o["customer_email"] == subject) > 0
    assert receipt["vault_entries_deleted"] >= 2  # customers.email and orders.customer_email
    assert receipt["warehouse_rewritten"] is True

    # A second customer, through the Dagster job (the UI's launchpad): its config is the token.
    other = next(e for e in emails if e != email and token(PII_KEY, e) in ordering)
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        job = build_definitions(settings).get_job_def("erase_subject")
        run = job.execute_in_process(
            run_config={"ops": {"erase": {"config": {"token": token(PII_KEY, other)}}}},
            instance=instance,
        )
        assert run.success
    assert len(list(Path(settings.lake_root, "_ops", "erasures").glob("*.json"))) == 2

    lake, warehouse, vault = (
        Path(settings.lake_root),
        Path(settings.warehouse_path),
        Path(settings.vault_root),
    )
    scanned = list(files_under(lake, warehouse, vault))
    hits, count = scan(scanned, [email, subject, other, token(PII_KEY, other)])
    assert count > 20 and not hits, "\n".join(map(str, hits))
    assert names  # full_name's token goes with the rows (another customer may share the name)

    unresolved = CliRunner().invoke(main, ["pii", "resolve", subject], env=env)
    assert unresolved.exit_code == 1
    assert rows(TableLocation(f"{settings.lake_root}/silver/customers"), "SELECT count(*) AS n FROM t")[0][
        "n"
    ] == (len(customers) - sum(1 for c in customers if c["email"] in (subject, token(PII_KEY, other))))

    before = {p.name for p in Path(settings.lake_root, "_ops", "erasures").glob("*.json")}
    again = CliRunner().invoke(main, ["erase", "--subject", email], env=env)
    assert again.exit_code == 0 and "Nothing found" in again.output, again.output
    (new,) = [p for p in Path(settings.lake_root, "_ops", "erasures").glob("*.json") if p.name not in before]
    second = json.loads(new.read_text())
    assert second["rows_deleted"] == 0 and second["vault_entries_deleted"] == 0
    assert second["subject"] == receipt["subject"]

    with dg.DagsterInstance.local_temp(str(home)) as instance:  # the pipeline runs on after it
        assert materialize_range(build_definitions(settings), END, END, instance=instance).success
