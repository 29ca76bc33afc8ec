"""SQL that turns bronze rows into silver rows: surrogate key, normalisation, quality flags.

Quality rules never drop a row. Each row-level rule of the contract becomes a predicate; the ids
of the rules a row fails are listed in ``dq_flags`` and ``dq_valid`` is true when the list is
empty, so analysts choose what to include and the failure breakdown stays queryable.
"""

from __future__ import annotations

from lakehouse.contracts.expectations import EXPECTATIONS
from lakehouse.contracts.model import Column, QualityRule, SourceContract
from lakehouse.contracts.schema import EVENT_DATE
from lakehouse.tables.sql import ident, literal, normalized

BRONZE_VIEW = "bronze_window"


def surrogate_key(columns: list[str]) -> str:
    """SHA-256 of the key values joined by the unit separator (reproducible in any engine)."""
    parts = ", ".join(f"CAST({ident(c)} AS VARCHAR)" for c in columns)
    return f"sha256(concat_ws(chr(31), {parts}))"


def _literal_for(column: Column):
    """Render a rule argument as a literal of the column's type."""
    duck = column.column_type.duckdb

    def render(value: object) -> str:
        if column.column_type.is_temporal and isinstance(value, str):
            return f"CAST({literal(value)} AS {duck})"
        return literal(value)

    return render


def rule_predicate(rule: QualityRule, contract: SourceContract) -> str | None:
    """SQL that is TRUE when a row passes ``rule``, or None for rules that are not row-level."""
    spec = EXPECTATIONS[rule.expect]
    if spec.row_predicate is None or rule.column is None:
        return None
    column = contract.column_map[rule.column]
    return spec.row_predicate(ident(rule.column), rule.arguments, _literal_for(column))


def row_rules(contract: SourceContract) -> list[tuple[QualityRule, str]]:
    return [(rule, pred) for rule in contract.quality if (pred := rule_predicate(rule, contract))]


def dq_flags_expression(contract: SourceContract) -> str:
    checks = [
        f"CASE WHEN NOT coalesce({pred}, FALSE) THEN {literal(rule.rule_id)} END"
        for rule, pred in row_rules(contract)
    ]
    if not checks:
        return "CAST([] AS VARCHAR[])"
    return f"list_filter([{', '.join(checks)}], lambda f: f IS NOT NULL)"


def _normalized(column: Column) -> str:
    if column.pii:  # already normalised, then tokenised, in bronze
        return ident(column.name)
    return normalized(ident(column.name), column.normalize)


def prepared_rows_sql(contract: SourceContract, where: str) -> str:
    """Bronze rows in the window with silver's derived columns (no dedup yet).

    The key is hashed from the normalised values: ``' AB1 '`` and ``'ab1'`` under ``[trim, upper]``
    are one entity, as silver shows them."""
    columns = ", ".join(f"{_normalized(c)} AS {ident(c.name)}" for c in contract.stored_columns)
    return f"""
        WITH normalized AS (
            SELECT {columns},
                   {EVENT_DATE}, _arrival_date, _source_file, _row_number, _ingested_at, _row_hash
            FROM {BRONZE_VIEW} WHERE {where}
        ),
        keyed AS (SELECT {surrogate_key(contract.primary_key)} AS _sk, * FROM normalized),
        flagged AS (SELECT *, {dq_flags_expression(contract)} AS dq_flags FROM keyed)
        SELECT *, len(dq_flags) = 0 AS dq_valid FROM flagged
    """


def latest_per_key_sql(contract: SourceContract, rows_sql: str) -> str:
    """Dedup within the batch: the latest row by event time wins; between rows with the same
    event time, the one delivered last (arrival day, then delivery time), then the later file, then
    the later row of the file."""
    event = ident(contract.event_order_column)
    return f"""
        SELECT * FROM ({rows_sql})
        QUALIFY row_number() OVER (
            PARTITION BY _sk ORDER BY {event} DESC, _arrival_date DESC, _ingested_at DESC,
                                      _source_file DESC, _row_number DESC
        ) = 1
    """
