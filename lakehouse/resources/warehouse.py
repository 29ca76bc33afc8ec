"""The DuckDB warehouse file where dbt builds the gold marts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import duckdb


class DuckDBWarehouse(dg.ConfigurableResource):
    path: str

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        """Read-only by default: dbt is the warehouse's only writer."""
        import duckdb

        if read_only and not Path(self.path).exists():
            raise FileNotFoundError(
                f"warehouse {self.path} does not exist yet: materialize a gold asset first"
            )
        return duckdb.connect(self.path, read_only=read_only)
