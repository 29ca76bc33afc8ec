"""Benchmark: definitions load as the number of sources grows, against ``import dagster, dagster_dbt``.

    .venv/bin/python bench/defs_load.py [--sources 1,10,100,300] [--repeat 3]

For each count, a sources folder is filled with that many copies of the demo's ``orders``
contract (each its own name and landing path) and a fresh interpreter loads the code location
(``lakehouse.definitions.defs()``, the same call ``dg``, ``dagster dev`` and every run worker
make) and resolves the asset graph, as the webserver does. The floor is a fresh interpreter that
only imports ``dagster`` and ``dagster_dbt``, measured in the same run. What dominates is read
from a ``cProfile`` of the largest count (cumulative time of the platform's own functions).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

LOAD_CALL = "import lakehouse.definitions as location; graph = location.defs().resolve_asset_graph()"
LOAD = f"{LOAD_CALL}; print(len(graph.get_all_asset_keys()))"
FLOOR = "import dagster, dagster_dbt"


def write_sources(folder: Path, count: int) -> None:
    """``count`` sources: the demo's orders, its customers from two on (so gold resolves), then
    copies of the orders contract, each its own name and landing path."""
    orders = (REPO / "sources" / "orders.yaml").read_text()
    (folder / "orders.yaml").write_text(orders)
    if count > 1:
        (folder / "customers.yaml").write_text((REPO / "sources" / "customers.yaml").read_text())
    for i in range(1, count - 1):
        name = f"orders_{i:03d}"
        text = re.sub(r"^name: orders$", f"name: {name}", orders, flags=re.M)
        text = text.replace("path: orders/{date}/*.csv", f"path: {name}/{{date}}/*.csv")
        (folder / f"{name}.yaml").write_text(text)


def seconds(code: str, env: dict[str, str], repeat: int) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(repeat):
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, text=True
        )
        best = min(best, time.perf_counter() - began)
        out = done.stdout.strip()
    return best, out


def top_costs(env: dict[str, str], limit: int = 8) -> list[tuple[str, float]]:
    """The platform's functions with the most cumulative time in one load."""
    code = (
        "import cProfile, pstats, io\n"
        "p = cProfile.Profile(); p.enable()\n"
        f"{LOAD_CALL}\n"
        "p.disable()\n"
        "s = pstats.Stats(p)\n"
        "rows = [(f'{k[0].split(\"site-packages/\")[-1]}:{k[2]}', v[3]) for k, v in s.stats.items()]\n"
        "rows = [r for r in rows if '/lakehouse/' in r[0] or r[0].startswith('lakehouse/')]\n"
        "for name, cum in sorted(rows, key=lambda r: -r[1])[:40]: print(f'{cum:.3f}\\t{name}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    rows = []
    for line in done.stdout.splitlines():
        cum, _, name = line.partition("\t")
        rows.append((name.replace(str(REPO) + "/", ""), float(cum)))
    return rows[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", default="1,10,100,300")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    counts = [int(c) for c in args.sources.split(",")]

    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "machine": os.uname().machine}
    with tempfile.TemporaryDirectory() as scratch:
        base = {
            **os.environ,
            "LAKEHOUSE_DATA_DIR": str(Path(scratch) / "data"),
            "LAKEHOUSE_PII_KEY": "bench-key",
            "LAKEHOUSE_STRICT_CONTRACTS": "1",
            "DAGSTER_HOME": scratch,
        }
        seconds(FLOOR, base, 1)  # warms the file cache, so the first count is not charged for it
        curve = []
        for count in counts:
            folder = Path(scratch) / f"sources_{count}"
            folder.mkdir()
            write_sources(folder, count)
            env = {**base, "LAKEHOUSE_SOURCES_DIR": str(folder)}
            # The floor is measured beside each count: the machine's load drifts within a run.
            floor, _ = seconds(FLOOR, base, args.repeat)
            load, assets = seconds(LOAD, env, args.repeat)
            curve.append({"sources": count, "assets": int(assets), "load_s": load, "floor_s": floor})
            print(
                f"  {count:4d} sources, {assets:>5} assets: {load:6.2f} s, floor {floor:6.2f} s", flush=True
            )
        largest = Path(scratch) / f"sources_{counts[-1]}"
        costs = top_costs({**base, "LAKEHOUSE_SOURCES_DIR": str(largest)})
    results.update({"curve": curve, "top_costs_at_largest": costs})
    first = curve[0]["load_s"] / curve[0]["floor_s"]
    print("definitions load against the floor (import dagster, dagster_dbt) measured beside it:")
    for point in curve:
        ratio = point["load_s"] / point["floor_s"]
        print(f"  {point['sources']:4d} sources: {ratio:5.2f}x floor, {ratio / first:5.2f}x the smallest")
    print(f"where the time goes at {curve[-1]['sources']} sources (cumulative):")
    for name, cum in costs:
        print(f"  {cum:6.2f} s  {name}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"defs_load-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
