"""The columns of bronze and silver tables and where each comes from, for the UI.

Both are known from the contract alone, so they are definition metadata, built when Dagster loads
the definitions: ``dagster/column_schema`` (every column the table has, with its type, the
platform's own columns included) and ``dagster/column_lineage`` (each column's source columns
one layer up: the landing file's fields for bronze, bronze's columns for silver). Without
pyarrow: the platform columns are plain data (``contracts/platform_columns.py``), and a unit test
holds them equal to the Arrow schemas every write casts to (``contracts/schema.py``).

Types are the contract's words (``string``, ``int64``, ``decimal(12,2)``, ``timestamp`` is a
UTC instant); ``list<string>`` is silver's ``dq_flags``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

from lakehouse.assets.naming import bronze_key, landing_key
from lakehouse.contracts.expectations import EXPECTATIONS
from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.platform_columns import (
    BRONZE_PLATFORM_COLUMNS,
    EVENT_DATE,
    SILVER_KEY,
    PlatformColumn,
    silver_platform_columns,
)


def _column(
    name: str, type_: str, nullable: bool, description: str | None, tags: dict[str, str]
) -> dg.TableColumn:
    return dg.TableColumn(
        name=name,
        type=type_,
        description=description,
        constraints=dg.TableColumnConstraints(nullable=nullable),
        tags=tags,
    )


_PII_TAGS = {"tokenize": {"pii": "tokenized"}, "hash": {"pii": "hashed"}}


def _contract_columns(contract: SourceContract) -> list[dg.TableColumn]:
    return [
        _column(c.name, c.column_type.name, c.nullable, c.description, _PII_TAGS.get(c.pii or "", {}))
        for c in contract.stored_columns
    ]


def _platform(columns: Iterable[PlatformColumn]) -> list[dg.TableColumn]:
    return [_column(c.name, c.type, c.nullable, c.description, {"platform": "lakehouse"}) for c in columns]


def bronze_column_schema(contract: SourceContract) -> dg.TableSchema:
    return dg.TableSchema(columns=[*_contract_columns(contract), *_platform(BRONZE_PLATFORM_COLUMNS)])


def silver_column_schema(contract: SourceContract) -> dg.TableSchema:
    leading, trailing = silver_platform_columns(contract)
    return dg.TableSchema(columns=[*_platform(leading), *_contract_columns(contract), *_platform(trailing)])


def _deps(key: dg.AssetKey, columns: Sequence[str]) -> list[dg.TableColumnDep]:
    return [dg.TableColumnDep(asset_key=key, column_name=c) for c in dict.fromkeys(columns)]


def bronze_column_lineage(contract: SourceContract) -> dg.TableColumnLineage:
    """Each declared column is its landing field (typed, PII tokenised); the event date is read
    from the event time; the row hash is of the whole record. File, position and delivery time
    come from the file itself, and rescued data from fields no column declares."""
    landing = landing_key(contract)
    names = [c.name for c in contract.stored_columns]
    deps = {name: _deps(landing, [name]) for name in names}
    deps[EVENT_DATE] = _deps(landing, [contract.partitions.event_time])
    deps["_row_hash"] = _deps(landing, names)  # dropped fields are not even hashed
    return dg.TableColumnLineage(deps_by_column=deps)


def silver_column_lineage(contract: SourceContract) -> dg.TableColumnLineage:
    """Declared columns are bronze's (normalised); the surrogate key hashes the primary key;
    ``dq_valid``/``dq_flags`` read the columns of the row rules; the audit columns are bronze's
    own. SCD2 versions start at the ``valid_from`` column's value."""
    bronze = bronze_key(contract)
    deps = {c.name: _deps(bronze, [c.name]) for c in contract.stored_columns}
    deps[SILVER_KEY.name] = _deps(bronze, contract.primary_key)
    if contract.silver.mode == "scd2":
        # A snapshot dated by arrival starts its versions at its file's arrival day.
        valid_from = [contract.valid_from_column or "_arrival_date"]
        deps["valid_from"] = _deps(bronze, valid_from)
        deps["valid_to"] = _deps(bronze, [*contract.primary_key, *valid_from])
        deps["is_current"] = _deps(bronze, [*contract.primary_key, *valid_from])
        deps["_version_sk"] = _deps(bronze, [*contract.primary_key, *valid_from])
    rule_columns = [
        rule.column
        for rule in contract.quality
        if rule.column and EXPECTATIONS[rule.expect].row_predicate is not None
    ]
    deps["dq_flags"] = deps["dq_valid"] = _deps(bronze, rule_columns)
    for audit in (EVENT_DATE, "_source_file", "_row_number", "_ingested_at", "_row_hash"):
        deps[audit] = _deps(bronze, [audit])
    return dg.TableColumnLineage(deps_by_column=deps)


PII_COLUMNS = "lakehouse/pii_columns"
_PII_SCHEMA = [
    ("column", "the table's column"),
    ("protection", "how its values are held"),
    ("source_column", "where they come from"),
]


def pii_columns_table(rows: Sequence[tuple[str, str, str]]) -> dict[str, dg.MetadataValue]:
    """``lakehouse/pii_columns``: the table's personal columns, how each is protected
    (``tokenize``: an HMAC token; "derived from ..." for a value computed from tokens), and its
    source column; nothing for a table without any."""
    if not rows:
        return {}
    return {
        PII_COLUMNS: dg.MetadataValue.table(
            records=[
                dg.TableRecord(dict(zip([n for n, _ in _PII_SCHEMA], row, strict=True))) for row in rows
            ],
            schema=dg.TableSchema(
                columns=[dg.TableColumn(n, "string", description=d) for n, d in _PII_SCHEMA]
            ),
        )
    }


def contract_pii_columns(contract: SourceContract, upstream: dg.AssetKey) -> dict[str, dg.MetadataValue]:
    """Bronze's and silver's: each personal column as the contract protects it, from the same
    column one layer up."""
    return pii_columns_table(
        [(c.name, str(c.pii), f"{upstream.to_user_string()}.{c.name}") for c in contract.columns if c.pii]
    )
