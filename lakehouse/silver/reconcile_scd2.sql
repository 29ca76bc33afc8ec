-- Silver reconciliation, scd2 mode: per day of the batch, the keys of the day's snapshot, and
-- those whose single current version agrees with the latest observation (or started later).
-- The placeholders in braces are expressions derived from the contract (valid_from column, order of
-- observations, hash of the tracked columns), filled in by build.py.
WITH latest AS (
    SELECT _sk, {valid_from} AS observed_from, {attr_hash} AS observed FROM batch
    QUALIFY row_number() OVER (PARTITION BY _sk ORDER BY {order}) = 1
),
current AS (
    SELECT _sk, count(*) AS n, any_value(valid_from) AS valid_from, any_value({attr_hash}) AS held
    FROM silver_after WHERE is_current GROUP BY _sk
),
consistent AS (
    SELECT latest._sk FROM latest JOIN current USING (_sk)
    WHERE current.n = 1 AND (current.held = latest.observed OR current.valid_from > latest.observed_from)
)
SELECT b.{event_date}, count(DISTINCT b._sk) AS expected,
       count(DISTINCT b._sk) FILTER (WHERE b._sk IN (SELECT _sk FROM consistent)) AS held
FROM batch b GROUP BY 1
