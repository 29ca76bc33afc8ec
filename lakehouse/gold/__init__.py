"""Silver → gold: the dbt project built by dbt-duckdb into the warehouse, one window of days."""
