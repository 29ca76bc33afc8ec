"""dbt-duckdb plugins the gold layer's profile loads into the dbt process (``profiles.yml``).

They run inside dbt, not in Dagster: whatever they import, dbt imports, so they stay free of
Dagster and import the engines (deltalake, pyarrow) only when dbt opens the warehouse.
"""
