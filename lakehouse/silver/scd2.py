"""SCD type 2: the version history of each key, recomputed for the keys a batch touches.

Observations (bronze snapshot rows) and the versions silver already holds for the same keys are
put on one timeline per key, ordered by ``valid_from``; consecutive observations with the same
tracked attributes collapse into one version; each version is valid until the next one starts.
Because existing versions are themselves observations, the result does not depend on the order
in which snapshots arrive (a late snapshot slots into the history) and rerunning a batch
changes nothing.
"""

from __future__ import annotations

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.schema import EVENT_DATE, silver_schema
from lakehouse.tables.sql import ident, literal

EXISTING_VIEW = "silver_existing"
TIMELINE_TIE_BREAK = "_ingested_at, _source_file, _row_number"


def attr_hash(contract: SourceContract) -> str:
    """SQL for a hash of a row's tracked columns: equal hashes, same version."""
    fields = ", ".join(f"{ident(c)} := {ident(c)}" for c in contract.tracked_columns)
    return f"sha256(to_json(struct_pack({fields})))"


def valid_from_sql(contract: SourceContract) -> str:
    """SQL for when an observed version starts: the ``valid_from`` column, else the event time,
    else (a snapshot dated by arrival) midnight of the row's day in the source's timezone."""
    column = contract.valid_from_column
    if column is None:
        return f"timezone({literal(contract.partitions.timezone)}, CAST({EVENT_DATE} AS TIMESTAMP))"
    return f"CAST({ident(column)} AS TIMESTAMPTZ)"


def versions_sql(contract: SourceContract, observations_sql: str) -> str:
    """Rows to merge, with ``_op``: every version of the touched keys ('upsert'), and the
    existing versions that no longer exist ('delete')."""
    data_columns = [
        f.name
        for f in silver_schema(contract)
        if f.name not in ("_version_sk", "valid_from", "valid_to", "is_current")
    ]
    cols = ", ".join(ident(c) for c in data_columns)
    event = ident(contract.event_order_column)
    valid_from = valid_from_sql(contract)
    output = ", ".join(ident(f.name) for f in silver_schema(contract))
    return f"""
        WITH observations AS (SELECT {cols}, {valid_from} AS valid_from FROM ({observations_sql})),
        existing AS (SELECT * FROM {EXISTING_VIEW} WHERE _sk IN (SELECT _sk FROM observations)),
        -- _fresh: a row of this batch (1) or one silver holds (0). The same record read again
        -- (the same file and row) may type differently now (a new PII key, a new normalisation):
        -- between equal observations the batch's is the newer reading.
        timeline AS (
            SELECT {cols}, valid_from, {attr_hash(contract)} AS _attr_hash, 1 AS _fresh FROM observations
            UNION ALL
            SELECT {cols}, valid_from, {attr_hash(contract)} AS _attr_hash, 0 AS _fresh FROM existing
        ),
        -- Same key and start: the newest observation decides the attributes (a correction)...
        winning AS (
            SELECT _sk, valid_from,
                   arg_max(_attr_hash, ({event}, {TIMELINE_TIE_BREAK}, _fresh)) AS _attr_hash
            FROM timeline GROUP BY _sk, valid_from
        ),
        -- ...and the first observation with those attributes is kept, so re-observing a version
        -- in every later snapshot does not rewrite it.
        observed AS (
            SELECT t.* FROM timeline t JOIN winning w USING (_sk, valid_from, _attr_hash)
            QUALIFY row_number() OVER (
                PARTITION BY _sk, valid_from ORDER BY {event}, {TIMELINE_TIE_BREAK}) = 1
        ),
        changes AS (
            SELECT *, lag(_attr_hash) OVER (PARTITION BY _sk ORDER BY valid_from) AS _previous_hash
            FROM observed
        ),
        versions AS (
            SELECT *, lead(valid_from) OVER (PARTITION BY _sk ORDER BY valid_from) AS valid_to
            FROM changes WHERE _previous_hash IS DISTINCT FROM _attr_hash
        ),
        final AS (
            SELECT *, valid_to IS NULL AS is_current,
                   sha256(_sk || '|' || strftime(valid_from AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f')) AS _version_sk
            FROM versions
        )
        SELECT {output}, 'upsert' AS _op FROM final
        UNION ALL
        SELECT {output}, 'delete' AS _op
        FROM existing WHERE _version_sk NOT IN (SELECT _version_sk FROM final)
    """
