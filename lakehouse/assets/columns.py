"""The columns of bronze and silver tables and where each comes from, for the UI.

Both are known from the contract alone, so they are definition metadata, built when Dagster loads
the definitions: ``dagster/column_schema`` (every column the table has, with its type, the
platform's own columns included) and ``dagster/column_lineage`` (each column's source columns
one layer up: the landing file's fields for bronze, bronze's columns for silver). Without
pyarrow: the platform columns are listed here as plain data, and a unit test holds them equal
to the Arrow schemas every write casts to (``contracts/schema.py``).

Types are the contract's words (``string``, ``int64``, ``decimal(12,2)``, ``timestamp`` is a
UTC instant); ``list<string>`` is silver's ``dq_flags``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg

from lakehouse.assets.naming import bronze_key, landing_key
from lakehouse.contracts.expectations import EXPECTATIONS
from lakehouse.contracts.model import SourceContract

EVENT_DATE = "_event_date"  # as in contracts/schema.py, which needs pyarrow


@dataclass(frozen=True)
class PlatformColumn:
    name: str
    type: str
    nullable: bool
    description: str


_EVENT_DATE = PlatformColumn(
    EVENT_DATE, "date", False, "The event's date in the source's timezone (the partition)"
)
_FILE = PlatformColumn(
    "_source_file", "string", False, "The landing file the row came from, relative to the landing root"
)
_ROW = PlatformColumn("_row_number", "int64", False, "The record's position in its file")
_INGESTED = PlatformColumn(
    "_ingested_at", "timestamp", False, "When the file was delivered (its last-modified time)"
)
_HASH = PlatformColumn(
    "_row_hash", "string", False, "SHA-256 of the raw record (an HMAC for sources with PII)"
)

BRONZE_PLATFORM_COLUMNS = [
    _EVENT_DATE,
    PlatformColumn("_arrival_date", "date", False, "The landing day the file arrived on"),
    _FILE,
    _ROW,
    _INGESTED,
    _HASH,
    PlatformColumn(
        "_rescued_data", "string", True, "JSON object of the fields the contract does not declare"
    ),
]

SILVER_KEY = PlatformColumn("_sk", "string", False, "Surrogate key: SHA-256 of the normalised primary key")
SCD2_COLUMNS = [
    PlatformColumn("_version_sk", "string", False, "Key of this version: SHA-256 of _sk and valid_from"),
    PlatformColumn("valid_from", "timestamp", False, "When this version began"),
    PlatformColumn("valid_to", "timestamp", True, "When the next version began (null: still current)"),
    PlatformColumn("is_current", "bool", False, "Whether this is the key's current version"),
]
SILVER_TRAILING_COLUMNS = [
    PlatformColumn("dq_valid", "bool", False, "True when the row fails none of the contract's row rules"),
    PlatformColumn("dq_flags", "list<string>", False, "The rules the row fails"),
    _EVENT_DATE,
    _FILE,
    _ROW,
    _INGESTED,
    _HASH,
]


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


def silver_platform_columns(contract: SourceContract) -> tuple[list[PlatformColumn], list[PlatformColumn]]:
    """The platform columns before and after the contract's, in the table's order."""
    leading = [SILVER_KEY]
    if contract.silver.mode == "scd2":
        return leading, [*SCD2_COLUMNS, *SILVER_TRAILING_COLUMNS]
    return leading, SILVER_TRAILING_COLUMNS


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
