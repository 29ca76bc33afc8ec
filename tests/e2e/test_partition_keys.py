"""Bad partition keys and ranges: a day outside the calendar, a malformed one, a reversed range.

The platform's own paths (``lakehouse`` commands, ``lakehouse.runs.materialize_range``) refuse
them in one line naming the key and the calendar's bounds before any run starts (the commands are
tested in ``test_pii_key.py``). Dagster's CLI parses its own arguments: it refuses a key outside
the calendar itself, naming the key; a reversed range starts a run, whose first step stops in one
line before reading or writing anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from lakehouse.days import PartitionKeyError
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from tests.helpers import make_settings

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def test_materialize_range_refuses_a_bad_range_in_one_line(tmp_path: Path) -> None:
    defs = build_definitions(make_settings(tmp_path))
    with pytest.raises(
        PartitionKeyError,
        match=r"^partition key 1999-01-01 is outside the calendar: the calendar runs from 2026-01-01 to ",
    ):
        materialize_range(defs, date(1999, 1, 1), date(2026, 1, 2))
    with pytest.raises(PartitionKeyError, match=r"^partition range 2026-02-05...2026-02-01 is reversed"):
        materialize_range(defs, date(2026, 2, 5), date(2026, 2, 1))


def _dg(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    settings = make_settings(tmp_path)
    (tmp_path / "home").mkdir(exist_ok=True)
    env = {**os.environ, **settings.as_environ(), "DAGSTER_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [str(BIN / "dg"), "launch", "--assets", "bronze/orders", *args],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_dg_cli_names_a_reversed_range_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    done = _dg(tmp_path, "--partition-range", "2026-02-05...2026-02-01")
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert (
        "Failure: partition range 2026-02-05...2026-02-01 is reversed: its start is after its end "
        "(write it as 2026-02-01...2026-02-05); nothing was read or written" in output
    )
    assert not (Path(make_settings(tmp_path).lake_root) / "bronze" / "orders").exists()


def test_the_dg_cli_refuses_a_key_outside_the_calendar_naming_it(tmp_path: Path) -> None:
    done = _dg(tmp_path, "--partition", "1999-01-01")
    assert done.returncode != 0
    assert "partition key `1999-01-01`" in done.stdout + done.stderr  # Dagster's own message
