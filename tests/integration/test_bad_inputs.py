"""Bad inputs that used to slip through, on the demo's generated orders and customers:
over-long lines, a failed second commit, unreadable paths, files with no rows, NUL bytes.

Everything is real: files on disk, Delta tables, DuckDB. A commit is made to fail by a directory
planted where the table's next log entry must go (delta-rs then cannot commit, as in a lost
conflict); unreadable paths are read as an unprivileged user where the tests run as root.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.bronze.ingest import PairWriteError
from lakehouse.bronze.preflight import plan_bronze
from lakehouse.checks.preconditions import circuit_breaker, schema_contract
from lakehouse.demo.generate import generate
from lakehouse.tables.location import TableLocation
from tests.helpers import REPO, Lake, data_file_digests, orders_lake, rows, string_values, unprivileged

D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
KEY = dg.AssetKey(["bronze", "orders"])


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    lake = orders_lake(tmp_path)
    generate(lake.landing, D1, D3, orders_per_day=80, seed=21)
    return lake


def orders_file(lake: Lake, day: date) -> Path:
    return lake.landing / "orders" / day.isoformat() / f"orders_{day.isoformat()}.csv"


def edit_csv(path: Path, change) -> None:
    """Rewrite a landing CSV through ``change(header, rows) -> rows``, keeping its delivery time."""
    stat = path.stat()
    lines = list(csv.reader(io.StringIO(path.read_text())))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([lines[0], *change(lines[0], lines[1:])])
    path.write_text(out.getvalue())
    os.utime(path, (stat.st_atime, stat.st_mtime))


def plan(lake: Lake, start: date, end: date, **options):
    return plan_bronze(
        lake.contract,
        start=start,
        end=end,
        landing_root=str(lake.landing),
        bronze=lake.bronze,
        quarantine=lake.quarantine,
        **options,
    )


def table_state(location: TableLocation) -> list[dict]:
    return rows(location, "SELECT * FROM t ORDER BY ALL")


def block_next_commit(location: TableLocation, ahead: int = 1) -> Path:
    """Make the table's next commit (``ahead`` versions on) impossible: a directory where its log
    entry must be written. delta-rs reads the table as before, and fails to commit."""
    table = location.open()
    assert table is not None
    path = Path(location.uri) / "_delta_log" / f"{table.version() + ahead:020d}.json"
    path.mkdir()
    return path


# --- item 13: over-long lines, and bronze and quarantine as a pair ------------------------------


def test_a_line_over_duckdbs_limit_is_quarantined_with_file_line_and_reason(lake: Lake) -> None:
    def giant(header, body):
        body[3][header.index("coupon_code")] = "X" * 2_500_000  # one line of ~2.5 MB
        return body

    edit_csv(orders_file(lake, D2), giant)
    result = lake.ingest(D2, D2)
    (long,) = [r for r in rows(lake.quarantine) if "line size" in r["_reason"]]
    assert long["_source_file"] == "orders/2026-03-02/orders_2026-03-02.csv"
    assert long["_line"] == 5  # header, three rows, then the long one
    assert long["_reason"].startswith("malformed CSV row: line size over maximum (Maximum line size")
    assert long["_raw"] is None  # a source with PII keeps only the line's keyed hash
    assert result.rows_read == result.rows_written + result.rows_quarantined
    assert result.days[D2].written > 0


def test_a_failed_quarantine_commit_leaves_bronze_as_it_was(lake: Lake) -> None:
    lake.ingest(D1, D2, run_id="first")
    bronze_before, quarantine_before = table_state(lake.bronze), table_state(lake.quarantine)
    digests = data_file_digests(lake.bronze)
    edit_csv(orders_file(lake, D2), lambda header, body: [r[:3] for r in body[:5]] + body)  # new bad rows

    blocker = block_next_commit(lake.quarantine)
    with pytest.raises(PairWriteError, match=r"quarantine commit failed.*restored to version"):
        lake.ingest(D2, D2, run_id="failing")
    assert table_state(lake.bronze) == bronze_before
    assert data_file_digests(lake.bronze) == digests
    assert table_state(lake.quarantine) == quarantine_before

    blocker.rmdir()
    result = lake.ingest(D2, D2, run_id="rerun")
    assert result.days[D2].quarantined == len(
        [r for r in table_state(lake.quarantine) if r["_partition_date"] == D2]
    )
    assert {r["_run_id"] for r in table_state(lake.quarantine) if r["_partition_date"] == D2} == {"rerun"}


def test_a_run_killed_between_the_two_commits_is_undone_by_the_next(lake: Lake, tmp_path: Path) -> None:
    lake.ingest(D1, D2, run_id="first")
    before = table_state(lake.bronze)
    edit_csv(orders_file(lake, D2), lambda header, body: body[: len(body) // 2])
    # Quarantine cannot commit, and neither can bronze's restore: what a kill between the
    # commits leaves behind, bronze with a write that quarantine never got.
    blockers = [block_next_commit(lake.quarantine), block_next_commit(lake.bronze, ahead=2)]
    with pytest.raises(PairWriteError, match="the next run restores it"):
        lake.ingest(D2, D2, run_id="killed")
    for blocker in blockers:
        blocker.rmdir()
    assert table_state(lake.bronze) != before
    stopped = plan(lake, D2, D2)
    assert [p.kind for p in stopped.problems] == ["interrupted write"]
    assert "interrupted between its two commits" in stopped.problems[0].message

    lake.ingest(D2, D2, run_id="next")  # restores bronze first, then loads D2 whole
    clean = orders_lake(tmp_path / "clean")
    shutil.copytree(lake.landing, clean.landing, dirs_exist_ok=True)
    clean.ingest(D1, D2, run_id="first")
    clean.ingest(D2, D2, run_id="next")
    assert table_state(lake.bronze) == table_state(clean.bronze)
    assert table_state(lake.quarantine) == table_state(clean.quarantine)


# --- item 15: unreadable paths ---------------------------------------------------------------

PLAN_AS_NOBODY = """
import json, sys
from datetime import date
from lakehouse.bronze.preflight import plan_bronze
from lakehouse.contracts import load_contract
from lakehouse.tables.location import TableLocation
root, day = sys.argv[1], date.fromisoformat(sys.argv[2])
plan = plan_bronze(load_contract("sources/orders.yaml").contract, start=day, end=day,
                   landing_root=root + "/landing", bronze=TableLocation(root + "/lake/bronze/orders"),
                   quarantine=TableLocation(root + "/lake/quarantine/orders"))
print(json.dumps([[p.kind, p.message] for p in plan.problems]))
"""


@pytest.fixture
def open_lake() -> Iterator[Lake]:
    """A lake in a folder an unprivileged user can reach (pytest's folders are private)."""
    folder = Path(tempfile.mkdtemp(prefix="lakehouse-unreadable-"))
    folder.chmod(0o755)
    try:
        lake = Lake(folder, (REPO / "sources" / "orders.yaml").read_text())
        generate(lake.landing, D1, D3, orders_per_day=80, seed=21)
        lake.ingest(D1, D3)
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        yield lake
    finally:
        shutil.rmtree(folder)


def test_an_unreadable_day_folder_is_named_unreadable_never_missing(open_lake: Lake) -> None:
    folder = open_lake.landing / "orders" / D2.isoformat()
    folder.chmod(0o000)
    problems = json.loads(unprivileged(PLAN_AS_NOBODY, str(open_lake.root), D2.isoformat()))
    kinds = [kind for kind, _ in problems]
    assert kinds == ["unreadable"], problems
    message = problems[0][1]
    assert "orders/2026-03-02: [Errno 13] Permission denied" in message
    assert "allow_missing_files" not in message and "allow_empty_days" not in message


def test_an_unreadable_file_is_named_with_the_os_error(open_lake: Lake) -> None:
    orders_file(open_lake, D2).chmod(0o000)
    problems = json.loads(unprivileged(PLAN_AS_NOBODY, str(open_lake.root), D2.isoformat()))
    assert [kind for kind, _ in problems] == ["unreadable"], problems
    assert "orders/2026-03-02/orders_2026-03-02.csv: [Errno 13] Permission denied" in problems[0][1]


def test_broken_links_and_looping_folders_trip_the_breaker_as_unreadable(lake: Lake) -> None:
    lake.ingest(D1, D3)
    target = orders_file(lake, D2)
    target.rename(target.with_suffix(".moved"))
    target.symlink_to("/nonexistent/orders.csv")
    day3 = lake.landing / "orders" / D3.isoformat()
    shutil.rmtree(day3)
    day3.symlink_to(day3)  # a link to itself: ELOOP
    stopped = plan(lake, D2, D3, allow_missing_files=True)
    breaker = circuit_breaker(stopped, KEY)
    assert not breaker.passed
    assert {p.kind for p in stopped.problems} == {"unreadable"}
    text = " ".join(p.message for p in stopped.problems)
    assert "orders/2026-03-02/orders_2026-03-02.csv: broken symbolic link to /nonexistent/orders.csv" in text
    assert "orders/2026-03-03: broken symbolic link" in text and "Too many levels of symbolic links" in text
    assert not stopped.withdrawn  # not a "gone" file whose rows may be dropped


# --- item 17: files with no rows, NUL bytes, directories that look like files ------------------


def test_empty_and_header_only_files_are_warnings_naming_the_file(lake: Lake) -> None:
    folder = orders_file(lake, D2).parent
    (folder / "empty.csv").write_text("")
    header = orders_file(lake, D2).read_text().splitlines()[0]
    (folder / "header_only.csv").write_text(header + "\n")
    planned = plan(lake, D2, D2)
    assert not planned.problems
    warned = schema_contract(planned, KEY).days[-1]
    assert (warned.passed, warned.severity) == (False, "warn")
    assert "orders/2026-03-02/empty.csv: empty file (0 bytes), no rows" in warned.summary
    assert "orders/2026-03-02/header_only.csv: header only, no rows" in warned.summary


def test_a_directory_named_like_a_file_is_reported_not_skipped(lake: Lake) -> None:
    folder = orders_file(lake, D2).parent
    (folder / "extra.csv").mkdir()
    warned = schema_contract(plan(lake, D2, D2), KEY).days[-1]
    assert "orders/2026-03-02/extra.csv: matches orders/{date}/*.csv but is a directory" in warned.summary
    orders_file(lake, D3).unlink()
    (orders_file(lake, D3).parent / "orders.csv").mkdir()
    stopped = plan(lake, D3, D3)
    (no_files,) = [p for p in stopped.problems if p.kind == "no files"]
    assert "orders/2026-03-03/orders.csv is a directory" in no_files.message


def test_a_nul_byte_makes_a_row_malformed_and_never_reaches_a_token(lake: Lake) -> None:
    def nul(header, body):
        body[0][header.index("customer_email")] = "ann\x00@example.com"
        body[1][header.index("coupon_code")] = "WELCOME\x0010"
        return body

    edit_csv(orders_file(lake, D2), nul)
    lake.ingest(D2, D2)
    reasons = {r["_reason"] for r in rows(lake.quarantine)}
    assert "malformed row: NUL byte in field customer_email" in reasons
    assert "malformed row: NUL byte in field coupon_code" in reasons
    assert not any("\x00" in v for v in string_values(lake.bronze, lake.quarantine))


def test_an_escaped_nul_in_json_lines_is_a_malformed_row(tmp_path: Path) -> None:
    lake = Lake(tmp_path, (REPO / "sources" / "customers.yaml").read_text())
    generate(lake.landing, D1, D1, orders_per_day=40, seed=2)
    path = next((lake.landing / "customers").rglob("*.jsonl"))
    lines = path.read_text().splitlines()
    record = json.loads(lines[3])
    record["city"] = "Ma\x00drid"
    lines[3] = json.dumps(record)  # written as "Ma\u0000drid"
    stat = path.stat()
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (stat.st_atime, stat.st_mtime))
    lake.ingest(D1, D1)
    (bad,) = [r for r in rows(lake.quarantine) if "NUL" in r["_reason"]]
    assert (bad["_line"], bad["_reason"]) == (4, "malformed row: NUL byte in a value (escaped as \\u0000)")
