"""Dagster resources: where the lake lives, the DuckDB warehouse, the PII key, dbt."""

from lakehouse.resources.pii import PiiTokenizer
from lakehouse.resources.storage import LakeStorage
from lakehouse.resources.warehouse import DuckDBWarehouse

__all__ = ["DuckDBWarehouse", "LakeStorage", "PiiTokenizer"]
