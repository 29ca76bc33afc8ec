"""The columns the platform adds to bronze and silver tables, as plain data.

Free of Dagster and pyarrow, so that the asset metadata (``assets/columns.py``) and the command
line (``lakehouse lineage``) share one list; a unit test holds it equal to the Arrow schemas every
write casts to (``contracts/schema.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def silver_platform_columns(contract: SourceContract) -> tuple[list[PlatformColumn], list[PlatformColumn]]:
    """The platform columns before and after the contract's, in the table's order."""
    leading = [SILVER_KEY]
    if contract.silver.mode == "scd2":
        return leading, [*SCD2_COLUMNS, *SILVER_TRAILING_COLUMNS]
    return leading, SILVER_TRAILING_COLUMNS
