"""The warehouse's lock: one advisory ``flock`` on ``<warehouse>.lock`` that every user takes first.

DuckDB lets one process at a time hold a database file open for writing, and a second process
does not wait: it fails at once ("Could not set lock on file"). dbt (gold), the quality ledger's
sensor and the commands all open the warehouse from their own processes, so every one of them
takes this lock first: gold waits its turn, a sensor tick skips and retries.

The lock belongs to the process that opens the file. dbt takes it itself, inside its own process
(``lakehouse/gold/dbt_plugins/warehouse_lock.py``), so it is held exactly as long as that dbt
process lives, even when the Dagster process that started it dies. The kernel drops a ``flock``
when the last descriptor of its open file closes, that is when its process ends.

No Dagster import here: the dbt process imports this module.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# How long a run waits for another user of the warehouse (a dbt build takes seconds to minutes).
GOLD_WAIT_SECONDS = 30 * 60
# How long a command waits (the ledger's sync takes well under a second).
COMMAND_WAIT_SECONDS = 120


class WarehouseBusy(Exception):
    """Another process holds the warehouse and did not let go in time."""


def lock_path(warehouse_path: str) -> Path:
    return Path(f"{warehouse_path}.lock")


def acquire(
    warehouse_path: str, *, wait_seconds: float, on_wait: Callable[[], None] | None = None
) -> IO[str]:
    """Take the warehouse's lock and return the open lock file that holds it.

    The lock lasts until the file is closed or the process ends. ``wait_seconds=0`` tries once;
    ``on_wait`` is called once if the lock is taken, so a caller can say why it pauses.
    """
    path = lock_path(warehouse_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    handle = open(path, "a")  # noqa: SIM115 - the caller owns it: closing it releases the lock
    waited = False
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"warehouse {warehouse_path} is in use by another process (lock {path})"
                    ) from None
                if on_wait and not waited:
                    on_wait()
                waited = True
                time.sleep(0.2)
    except BaseException:
        handle.close()
        raise


@contextmanager
def warehouse_lock(
    warehouse_path: str, *, wait_seconds: float, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse's lock for the block (see ``acquire``)."""
    handle = acquire(warehouse_path, wait_seconds=wait_seconds, on_wait=on_wait)
    try:
        yield
    finally:
        handle.close()  # closing the last descriptor releases the flock


def wait_for_turn(
    warehouse_path: str, *, wait_seconds: float, on_wait: Callable[[], None] | None = None
) -> None:
    """Return once nobody holds the lock (taking and releasing it), for a caller that starts a
    process which takes the lock itself, so the caller can log the wait in its own words."""
    with warehouse_lock(warehouse_path, wait_seconds=wait_seconds, on_wait=on_wait):
        pass


def is_locked(warehouse_path: str) -> bool:
    """Whether another open file holds the lock right now (for tests and diagnostics)."""
    path = lock_path(warehouse_path)
    if not path.exists():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
