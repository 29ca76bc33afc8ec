"""The warehouse's lock, taken by the dbt process itself before it opens the DuckDB file.

Held by the process that holds the file, for as long as it lives: when the Dagster process that
started dbt dies, an orphaned dbt keeps the lock until it exits, so the next run waits for it
instead of failing on DuckDB's own lock (or writing beside it). A lock taken by the parent and
released by its death would be free while the orphan still writes.

In ``profiles.yml``::

    plugins:
      - module: lakehouse.gold.dbt_plugins.warehouse_lock
        config: {wait_seconds: 1800}
"""

from __future__ import annotations

import os
import sys
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from lakehouse.warehouse_lock import GOLD_WAIT_SECONDS, acquire, lock_path


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._wait_seconds = float(plugin_config.get("wait_seconds", GOLD_WAIT_SECONDS))
        self._held: int | None = None

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        """Called just before dbt-duckdb opens the file (and again whenever it reopens it): take
        the lock once and keep it until the process ends.

        Kept as a bare descriptor, which nothing closes but the kernel at the process's end: a
        file object could be collected during the interpreter's shutdown, before DuckDB lets go.
        """
        if self._held is not None or creds.path in (":memory:", ""):
            return
        handle = acquire(
            creds.path,
            wait_seconds=self._wait_seconds,
            on_wait=lambda: print(
                f"lakehouse: waiting for another user of {creds.path} ({lock_path(creds.path)})",
                file=sys.stderr,
                flush=True,
            ),
        )
        self._held = os.dup(handle.fileno())  # same open file, so the same lock
        handle.close()
