"""The DuckDB warehouse file where dbt builds the gold marts, and the lock its users share.

DuckDB lets one process at a time hold a database file open for writing, and a second process
does not wait: it fails at once ("Could not set lock on file"). dbt (gold), the quality ledger's
sensor and the commands all open the warehouse from their own processes, so every one of them
takes ``warehouse_lock`` first: gold waits its turn, a sensor tick skips and retries.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import duckdb

# How long a run waits for another user of the warehouse (a dbt build takes seconds to minutes).
GOLD_WAIT_SECONDS = 30 * 60
# How long a command waits (the ledger's sync takes well under a second).
COMMAND_WAIT_SECONDS = 120


class WarehouseBusy(Exception):
    """Another process holds the warehouse and did not let go in time."""


@contextmanager
def warehouse_lock(
    path: str, *, wait_seconds: float, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse's lock (``<file>.lock``, an advisory ``flock``) for the block.

    ``wait_seconds=0`` tries once. ``on_wait`` is called once if the lock is taken, so a run can
    say why it pauses. Released when the block ends or the process dies (the kernel drops it).
    """
    lock_path = Path(f"{path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    with open(lock_path, "a") as handle:
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"warehouse {path} is in use by another process (lock {lock_path})"
                    ) from None
                if on_wait and not waited:
                    on_wait()
                waited = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class DuckDBWarehouse(dg.ConfigurableResource):
    path: str

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        """Read-only by default: dbt is the warehouse's only writer of tables. Callers hold the lock."""
        import duckdb

        if read_only and not Path(self.path).exists():
            raise FileNotFoundError(
                f"warehouse {self.path} does not exist yet: materialize a gold asset first"
            )
        return duckdb.connect(self.path, read_only=read_only)
