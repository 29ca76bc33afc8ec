"""Publishes the lake's silver tables as views in the warehouse when dbt opens it.

dbt's ``silver`` sources are then plain relations (``warehouse.silver.<entity>``): models of
every materialisation, source tests and views read them, and they stay readable after dbt exits
(``lakehouse/gold/delta_views.py`` says why these are DuckDB Parquet views and not Arrow
datasets). Published once per dbt process, before its first model: every model of a run reads
the same version of each table, even if silver commits while dbt runs.

In ``profiles.yml``::

    plugins:
      - module: lakehouse.gold.dbt_plugins.silver_views
        config: {silver_root: "{{ env_var('LAKEHOUSE_LAKE_ROOT') }}/silver", schema: silver}
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        try:
            self._root = str(plugin_config["silver_root"])
        except KeyError:
            raise ValueError("the silver_views plugin needs config: {silver_root: <folder>}") from None
        self._schema = str(plugin_config.get("schema", "silver"))
        self._published = False

    def configure_connection(self, conn: Any) -> None:
        from lakehouse.tables.s3 import connection_from_environ, is_s3_uri

        if is_s3_uri(self._root):  # every connection reads the views' s3:// files
            from lakehouse.tables.duckdb_s3 import register_s3

            register_s3(conn, connection_from_environ())
        if self._published:
            return
        from lakehouse.gold.delta_views import publish

        publish(conn, self._schema, self._root)
        self._published = True
