"""Lakehouse: YAML source contracts to partitioned bronze, silver and gold assets on Dagster."""

__version__ = "0.1.0"
