-- One source's checks for the partition days $4..$5 (ISO strings, as the ledger's day column):
-- every check but freshness ($1) on its bronze and silver assets ($2, $3), the latest evaluation
-- of each check and day (a day rerun counts once, as it is now); how many, and how many passed.
WITH latest AS (
    SELECT
        asset,
        check_name,
        day,
        arg_max(passed, evaluated_at) AS passed
    FROM quality.check_evaluations
    WHERE
        asset IN ($2, $3)
        AND check_name <> $1
        AND day BETWEEN $4 AND $5
    GROUP BY asset, check_name, day
)

SELECT
    count(*) AS check_days,
    count(*) FILTER (WHERE passed) AS check_days_passed
FROM latest
