"""Lakehouse: YAML source contracts to partitioned bronze, silver and gold Dagster assets.

``lakehouse.LakehouseComponent`` is the platform as a Dagster Component. It is imported on first
use, so that ``import lakehouse`` (the command line, the contract loader) stays free of Dagster.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["LakehouseComponent"]


def __getattr__(name: str) -> Any:
    if name == "LakehouseComponent":
        from lakehouse.component import LakehouseComponent

        return LakehouseComponent
    raise AttributeError(f"module 'lakehouse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
