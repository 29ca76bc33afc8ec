"""``lakehouse contract draft``: a contract inferred from a sample of each format validates as it
is, marks its guesses, and loads a day into bronze and silver.

The samples are the demo generator's files (orders as CSV, customers as JSON lines, with their
malformed lines, late and re-sent rows) and a Parquet file of the same orders (DuckDB's typed
read of the CSV).
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from lakehouse.cli import main
from lakehouse.contracts.loader import load_contract
from lakehouse.demo.generate import generate
from tests.helpers import Lake, rows

DAY = date(2026, 4, 10)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("samples")
    generate(root, DAY, DAY, orders_per_day=300, seed=5)
    orders = next((root / "orders" / DAY.isoformat()).glob("*.csv"))
    parquet = root / "orders_export.parquet"
    duckdb.execute(
        f"COPY (SELECT * FROM read_csv('{orders}', ignore_errors = true)) TO '{parquet}' (FORMAT parquet)"
    )
    os.utime(parquet, (orders.stat().st_mtime, orders.stat().st_mtime))
    return {
        "csv": orders,
        "jsonl": next((root / "customers" / DAY.isoformat()).glob("*.jsonl")),
        "parquet": parquet,
    }


def draft(*args: str) -> str:
    done = CliRunner().invoke(main, ["contract", "draft", *args])
    assert done.exit_code == 0, done.output
    return done.output


@pytest.mark.parametrize(
    ("fmt", "name", "key", "event_time", "pii"),
    [
        ("csv", "orders", "order_id", "ordered_at", "customer_email"),
        ("jsonl", "customers", "customer_id", "snapshot_at", "email"),
        ("parquet", "orders", "order_id", "ordered_at", "customer_email"),
    ],
)
def test_a_draft_validates_marks_its_guesses_and_loads_a_day(
    samples: dict[str, Path], tmp_path: Path, fmt: str, name: str, key: str, event_time: str, pii: str
) -> None:
    out = tmp_path / "sources" / f"{name}.yaml"
    assert "lakehouse contract validate" in draft(str(samples[fmt]), "--out", str(out))
    text = out.read_text()
    contract = load_contract(out).contract  # valid as drafted
    assert contract.name == name and contract.extract.format == fmt
    assert contract.primary_key == [key] and contract.partitions.event_time == event_time
    assert contract.pii_columns == [pii]
    assert contract.column_map[event_time].type == "timestamp"
    for line in text.splitlines():  # every inference says it is one
        if line.lstrip().startswith(("- {name:", "primary_key:", "event_time:", "start:", "owner:")):
            assert "# guessed: " in line, line
    assert all(column.name == column.name.lower() for column in contract.columns)
    if fmt == "csv":  # amounts with two decimals are exact
        assert contract.column_map["amount"].type == "decimal(18,2)"

    lake = Lake(tmp_path, text)
    landing = contract.extract.path.replace("{date}", DAY.isoformat()).replace("*", samples[fmt].stem)
    target = lake.landing / landing
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(samples[fmt], target)
    bronze, silver = lake.daily(DAY)
    assert bronze.rows_written > 0 and silver is not None
    assert bronze.rows_read == bronze.rows_written + bronze.rows_quarantined
    tokens = rows(lake.bronze, f"SELECT {pii} AS v FROM t WHERE {pii} IS NOT NULL")
    assert tokens and not any("@" in r["v"] for r in tokens)  # PII tokenised past bronze
    (landed,) = rows(lake.silver, f"SELECT count(*) AS n, count(DISTINCT {key}) AS k FROM t")
    assert landed["n"] == landed["k"] > 0


def test_names_and_paths_are_options_and_bad_samples_are_refused_by_name(
    samples: dict[str, Path], tmp_path: Path
) -> None:
    text = draft(
        str(samples["parquet"]), "--name", "web_orders", "--landing-path", "shop/{date}/orders-*.parquet"
    )
    assert text.startswith("# Draft contract for web_orders")
    assert 'path: "shop/{date}/orders-*.parquet"' in text

    odd = tmp_path / "export.xlsx"
    odd.write_text("x")
    refused = CliRunner().invoke(main, ["contract", "draft", str(odd)])
    assert refused.exit_code == 1 and f"{odd}: cannot tell the format" in refused.output

    no_date = CliRunner().invoke(
        main, ["contract", "draft", str(samples["csv"]), "--landing-path", "orders/*.csv"]
    )
    assert no_date.exit_code == 1 and "extract" in no_date.output and "{date}" in no_date.output

    existing = tmp_path / "orders.yaml"
    existing.write_text("keep me")
    kept = CliRunner().invoke(main, ["contract", "draft", str(samples["csv"]), "--out", str(existing)])
    assert kept.exit_code == 1 and "exists" in kept.output and existing.read_text() == "keep me"


def test_text_fields_get_the_type_every_value_has_never_a_rounded_one(tmp_path: Path) -> None:
    """DuckDB casts '1.5' to the integer 2 and a timestamp's text to its date; bronze refuses
    both, so a draft types a field only by what its values look like."""
    import random

    rng = random.Random(11)
    lines = ["Reading ID,count,ratio,day,measured_at,ok"]
    for i in range(200):
        day = date(2026, 4, 8 + rng.randrange(3))  # a daily delivery, with late rows
        lines.append(
            f"r{i},{rng.randrange(1000)},{rng.random() * 10:.3f},{day},{day}T{rng.randrange(24):02d}:00:00Z,"
            f"{rng.choice(['true', 'false'])}"
        )
    lines[7] = lines[7].replace(",", ",12.5,", 1).rsplit(",", 1)[0]  # a rounded-looking count...
    sample = tmp_path / "readings.csv"
    sample.write_text("\n".join(lines) + "\n")
    contract = load_contract_text(draft(str(sample)))
    types = {c.name: c.type for c in contract.columns}
    assert types == {
        "count": "int64",  # ...is one of the 5 % that would be quarantined, not a reason for float
        "ratio": "float64",  # three decimals: not an amount
        "day": "date",
        "measured_at": "timestamp",
        "ok": "bool",
    }
    assert contract.partitions.event_time == "measured_at"


def load_contract_text(text: str):
    from lakehouse.contracts.loader import parse_contract

    assert (
        "# not declared: 'Reading ID' is not a valid column name (the export could call it reading_id)"
        in text
    )
    return parse_contract(text)
