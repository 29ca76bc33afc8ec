"""Benchmark: silver's daily merge as the table grows, with a fixed one-day batch.

    .venv/bin/python bench/merge_growth.py [--days 10,100,300,1000] [--rows-per-day 5000]

The daily run of a merge-mode source restates its lookback window (three days for the demo's
orders) and merges it into silver: it rewrites the days its diff touches, in one commit. Its cost
must follow that window, not the table: the scan opens only the window's files, and the write
replaces only the touched days' partitions.

For each size the silver table is given that many days of history before the window (rows of
silver's own schema, one Delta file per day, written directly: what matters is the table's
size, not how it was filled), the window's first two days are merged untimed, and the third
day, new rows as in a daily run, is timed through the platform's own ``build_range``. The
ratio is each size's time over the smallest size's, measured in the same run; flat is the goal.
The step's own counts say how many of the table's files the write rewrote and how many it left.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

DAY = date(2026, 3, 10)
LOOKBACK = 2


def history_sql(first: date, days: int, rows_per_day: int) -> str:
    """``days`` days of silver rows for ``orders`` ending the day before ``first``."""
    return f"""
        SELECT
            md5('h' || d || '-' || i) AS _sk,
            'H' || d || '-' || i AS order_id,
            'C' || (i % 5000) AS customer_id,
            'tok_' || md5('e' || (i % 5000)) AS customer_email,
            'paid' AS status, 'web' AS channel,
            (1 + i % 5)::INTEGER AS quantity, (10 + i % 90)::DECIMAL(12, 2) AS amount, 'EUR' AS currency,
            (DATE '{first}' - INTERVAL (d + 1) DAY + INTERVAL (i % 86400) SECOND)::TIMESTAMPTZ AS ordered_at,
            true AS dq_valid, []::VARCHAR[] AS dq_flags,
            (DATE '{first}' - INTERVAL (d + 1) DAY)::DATE AS _event_date,
            'orders/history.csv' AS _source_file, i::BIGINT AS _row_number,
            TIMESTAMPTZ '2026-01-01 00:00:00+00' AS _ingested_at, md5('r' || d || '-' || i) AS _row_hash
        FROM range({days}) t(d), range({rows_per_day}) r(i)
    """


def fill_history(silver: Path, contract, days: int, rows_per_day: int) -> None:
    import duckdb
    from deltalake import write_deltalake

    from lakehouse.contracts.schema import EVENT_DATE, silver_schema

    schema = silver_schema(contract)
    first = DAY - timedelta(days=LOOKBACK)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        chunk = 50  # days per write: bounded memory whatever the size
        for offset in range(0, days, chunk):
            n = min(chunk, days - offset)
            rows = con.sql(history_sql(first - timedelta(days=offset), n, rows_per_day)).to_arrow_table()
            write_deltalake(
                str(silver), rows.select(schema.names).cast(schema), partition_by=[EVENT_DATE], mode="append"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", default="10,100,300,1000")
    parser.add_argument("--rows-per-day", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    sizes = [int(d) for d in args.days.split(",")]

    from lakehouse.bronze.ingest import ingest_range
    from lakehouse.contracts.loader import load_contract
    from lakehouse.demo.generate import generate
    from lakehouse.privacy.vault import TokenVault, vault_location
    from lakehouse.silver.build import build_range
    from lakehouse.tables.location import TableLocation

    contract = load_contract(REPO / "sources" / "orders.yaml").contract
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "machine": os.uname().machine}
    curve = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        landing, bronze, quarantine = work / "landing", work / "bronze", work / "quarantine"
        window_start = DAY - timedelta(days=LOOKBACK)
        generate(landing, window_start, DAY + timedelta(days=LOOKBACK), orders_per_day=args.rows_per_day)
        ingest_range(
            contract,
            start=window_start,
            end=DAY,
            landing_root=str(landing),
            bronze=TableLocation(str(bronze)),
            quarantine=TableLocation(str(quarantine)),
            pii_key="bench-key",
            run_id="bench",
            vault=TokenVault(vault_location(str(work / "vault")), "bench-vault-key"),
        )
        silver = work / "silver"
        for size in sizes:
            template = work / f"silver_{size}"
            fill_history(template, contract, size, args.rows_per_day)

            def build(start: date, end: date):
                return build_range(
                    contract,
                    start=start,
                    end=end,
                    bronze=TableLocation(str(bronze)),
                    silver=TableLocation(str(silver)),
                    quarantine=TableLocation(str(quarantine)),
                    run_id="bench",
                )

            times, written = [], None
            for _ in range(args.repeat):
                if silver.exists():
                    shutil.rmtree(silver)
                shutil.copytree(template, silver)
                build(window_start, DAY - timedelta(days=1))  # the days before, as yesterday's run
                began = time.perf_counter()
                written = build(DAY, DAY).written
                times.append(time.perf_counter() - began)
            shutil.rmtree(template)
            point = {
                "history_days": size,
                "table_rows": size * args.rows_per_day,
                "merge_s": min(times),
                "inserted": written.inserted,
                "files_rewritten": written.files_rewritten,
                "files_untouched": written.files_untouched,
            }
            curve.append(point)
            print(
                f"  {size:5d} days ({point['table_rows']:>10,} rows): {point['merge_s']:6.2f} s, "
                f"files rewritten {written.files_rewritten}, untouched {written.files_untouched}",
                flush=True,
            )
    results["curve"] = curve
    smallest = curve[0]["merge_s"]
    print(f"one day's merge ({args.rows_per_day:,} rows, window {LOOKBACK + 1} days) as the table grows:")
    for point in curve:
        print(f"  {point['history_days']:5d} days: {point['merge_s'] / smallest:5.2f}x the smallest table")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"merge_growth-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
