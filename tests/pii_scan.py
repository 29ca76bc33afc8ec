"""Scanning every file a run wrote for personal values: raw bytes, and decoded content.

Raw bytes alone prove nothing for compressed files: a Parquet page (snappy, zstd, dictionary
encoded), a gzip'd log or a DuckDB block (FSST, dictionary compression) can hold a value no byte
search finds. So each file is searched as bytes, and also as what it decodes to: every Parquet
file's rows (pyarrow), every gzip stream decompressed, every DuckDB database's text columns, every
SQLite database's text cells.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Hit:
    file: Path
    how: str  # "bytes", "parquet", "gzip", "duckdb", "sqlite"
    needle: str

    def __str__(self) -> str:
        return f"{self.file} ({self.how}): {self.needle!r}"


def files_under(*roots: Path, skip: Iterable[Path] = ()) -> Iterator[Path]:
    skipped = [s.resolve() for s in skip]
    for root in roots:
        if not root.exists():
            continue
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            resolved = path.resolve()
            if path.is_file() and not any(resolved.is_relative_to(s) for s in skipped):
                yield path


def _decoded(path: Path, head: bytes) -> Iterator[tuple[str, str]]:
    """(how, text) of what the file decodes to, beyond its bytes."""
    if head.startswith(b"PAR1"):
        import pyarrow.parquet as pq

        yield "parquet", json.dumps(pq.read_table(path).to_pylist(), default=str)
    elif head.startswith(b"\x1f\x8b"):
        yield "gzip", gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    elif head[8:12] == b"DUCK":
        yield "duckdb", _duckdb_text(path)
    elif head.startswith(b"SQLite format 3"):
        yield "sqlite", _sqlite_text(path)


def _duckdb_text(path: Path) -> str:
    import duckdb

    with tempfile.TemporaryDirectory() as scratch:  # a copy: the original may be locked or in use
        copy = Path(scratch) / "copy.duckdb"
        shutil.copy(path, copy)
        con = duckdb.connect(str(copy), read_only=True)
        try:
            parts = []
            tables = con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
            for schema, table in tables:
                rows = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
                parts.append(json.dumps(rows, default=str))
            views = con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
            parts += [str(sql) for (sql,) in views]
            return "\n".join(parts)
        finally:
            con.close()


def _sqlite_text(path: Path) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "copy.db"
        shutil.copy(path, copy)
        con = sqlite3.connect(copy)
        try:
            parts = []
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    parts.append(
                        " ".join(
                            v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
                        )
                    )
            return "\n".join(parts)
        finally:
            con.close()


def scan(files: Iterable[Path], needles: Iterable[str]) -> tuple[list[Hit], int]:
    """Every place a needle appears (as bytes, or in a file's decoded content); and how many
    files were scanned."""
    wanted = sorted(set(needles))
    encoded = [(n, n.encode()) for n in wanted]
    hits, count = [], 0
    for path in files:
        count += 1
        data = path.read_bytes()
        hits += [Hit(path, "bytes", n) for n, b in encoded if b in data]
        for how, text in _decoded(path, data[:16]):
            hits += [Hit(path, how, n) for n in wanted if n in text]
    return hits, count


def landing_values(landing_root: Path, columns: dict[str, list[str]]) -> set[str]:
    """The clear values of ``columns`` (``source folder -> column names``) in the landing files:
    what the generator wrote, read back from its JSON lines and CSV files."""
    import csv

    found: set[str] = set()
    for folder, names in columns.items():
        for path in sorted((landing_root / folder).rglob("*")):
            if path.suffix == ".jsonl":
                for line in path.read_text().splitlines():
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict):
                        found.update(str(record[n]) for n in names if record.get(n))
            elif path.suffix == ".csv":
                with open(path, newline="") as handle:
                    for record in csv.DictReader(handle):
                        found.update(str(record[n]) for n in names if record.get(n))
    return found
