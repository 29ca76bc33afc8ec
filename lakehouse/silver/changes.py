"""What a merge actually has to do: the new or changed rows, and the rows to delete.

Silver re-merges a whole lookback window on every run, and almost all of it is unchanged, so the
diff is taken first in DuckDB against the window's current rows (read with partition pruning):
only the days it touches are rewritten (merge mode) and only its versions merged (scd2), usually
one day's new rows and a few late ones.
"""

from __future__ import annotations

from lakehouse.tables.sql import ident


def _differs(columns: list[str], left: str, right: str) -> str:
    return " OR ".join(f"{left}.{ident(c)} IS DISTINCT FROM {right}.{ident(c)}" for c in columns)


def keyed_changes_sql(columns: list[str], *, key: str, moved_by: str, new: str, existing: str) -> str:
    """Rows of ``new`` to upsert (absent or different in ``existing``), and rows of ``existing``
    to delete because their key now lives under another ``moved_by`` value (a key whose event
    date changed within the window), each with an ``_op``."""
    values = [c for c in columns if c != key]
    cols = ", ".join(ident(c) for c in columns)
    n_cols = ", ".join(f"n.{ident(c)}" for c in columns)
    e_cols = ", ".join(f"e.{ident(c)}" for c in columns)
    return f"""
        SELECT {n_cols}, 'upsert' AS _op
        FROM {new} n LEFT JOIN (SELECT {cols} FROM {existing}) e ON n.{ident(key)} = e.{ident(key)}
        WHERE e.{ident(key)} IS NULL OR {_differs(values, "n", "e")}
        UNION ALL
        SELECT {e_cols}, 'delete' AS _op
        FROM (SELECT {cols} FROM {existing}) e JOIN {new} n ON n.{ident(key)} = e.{ident(key)}
        WHERE n.{ident(moved_by)} IS DISTINCT FROM e.{ident(moved_by)}
    """


def version_changes_sql(columns: list[str], *, key: str, versions: str, existing: str) -> str:
    """SCD2: the versions to write, minus those already stored exactly so; deletes pass through."""
    values = [c for c in columns if c != key]
    cols = ", ".join(ident(c) for c in columns)
    v_cols = ", ".join(f"v.{ident(c)}" for c in columns)
    return f"""
        SELECT {v_cols}, v._op
        FROM {versions} v LEFT JOIN (SELECT {cols} FROM {existing}) e ON v.{ident(key)} = e.{ident(key)}
        WHERE v._op = 'delete' OR e.{ident(key)} IS NULL OR {_differs(values, "v", "e")}
    """
