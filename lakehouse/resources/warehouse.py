"""The DuckDB warehouse file where dbt builds the gold marts.

Every process that opens it takes the warehouse's lock first (``lakehouse/warehouse_lock.py``,
re-exported here): DuckDB lets one process hold the file, and a second one fails at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from lakehouse.warehouse_lock import (
    COMMAND_WAIT_SECONDS,
    GOLD_WAIT_SECONDS,
    WarehouseBusy,
    warehouse_lock,
)

if TYPE_CHECKING:
    import duckdb

__all__ = ["COMMAND_WAIT_SECONDS", "GOLD_WAIT_SECONDS", "DuckDBWarehouse", "WarehouseBusy", "warehouse_lock"]


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
