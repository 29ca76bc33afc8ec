"""The explicit Arrow schemas a contract produces for its bronze, quarantine and silver tables.

Every write casts to one of these schemas, so a table's types come from the contract and never
from whatever the data happened to look like.
"""

from __future__ import annotations

import pyarrow as pa

from lakehouse.contracts.model import SourceContract

EVENT_DATE = "_event_date"  # partition column of bronze and silver: the event's local date

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

# Columns bronze adds to every row.
BRONZE_AUDIT_FIELDS = [
    pa.field(EVENT_DATE, pa.date32(), nullable=False),
    pa.field("_arrival_date", pa.date32(), nullable=False),  # the landing day the file came in
    pa.field("_source_file", pa.string(), nullable=False),  # relative to the landing root
    pa.field("_row_number", pa.int64(), nullable=False),  # the record's position in its file
    # When the file was delivered to the landing zone (its last-modified time). Deterministic, so a
    # rerun writes identical rows; when each run wrote is in the Delta log's commit metadata.
    pa.field("_ingested_at", UTC_TIMESTAMP, nullable=False),
    # SHA-256 of the raw record: the line for JSON lines, the fields as a JSON object in file order
    # for CSV and Parquet. Keyed (HMAC) for sources with PII, so it cannot confirm guesses.
    pa.field("_row_hash", pa.string(), nullable=False),
    pa.field("_rescued_data", pa.string()),  # JSON object of fields the contract does not declare
]

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("_partition_date", pa.date32(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_line", pa.int64()),  # physical line, when known (JSON lines, malformed CSV lines)
        pa.field("_row_number", pa.int64()),  # position among the file's records, when it was parsed
        pa.field("_reason", pa.string(), nullable=False),
        # The raw record with personal data tokenised; null for a malformed line of a source with
        # PII (it cannot be redacted; file and line still point at it).
        pa.field("_raw", pa.string()),
        pa.field("_row_hash", pa.string(), nullable=False),
        pa.field("_run_id", pa.string(), nullable=False),
    ]
)


def contract_fields(contract: SourceContract) -> list[pa.Field]:
    return [pa.field(c.name, c.column_type.arrow, nullable=c.nullable) for c in contract.stored_columns]


def bronze_schema(contract: SourceContract) -> pa.Schema:
    return pa.schema([*contract_fields(contract), *BRONZE_AUDIT_FIELDS])


def silver_schema(contract: SourceContract) -> pa.Schema:
    fields = [
        pa.field("_sk", pa.string(), nullable=False),
        *contract_fields(contract),
    ]
    if contract.silver.mode == "scd2":
        fields += [
            pa.field("_version_sk", pa.string(), nullable=False),
            pa.field("valid_from", UTC_TIMESTAMP, nullable=False),
            pa.field("valid_to", UTC_TIMESTAMP),
            pa.field("is_current", pa.bool_(), nullable=False),
        ]
    fields += [
        pa.field("dq_valid", pa.bool_(), nullable=False),
        pa.field("dq_flags", pa.list_(pa.string()), nullable=False),
        pa.field(EVENT_DATE, pa.date32(), nullable=False),
        pa.field("_source_file", pa.string(), nullable=False),  # with _row_number: the source record
        pa.field("_row_number", pa.int64(), nullable=False),
        pa.field("_ingested_at", UTC_TIMESTAMP, nullable=False),
        pa.field("_row_hash", pa.string(), nullable=False),
    ]
    return pa.schema(fields)
