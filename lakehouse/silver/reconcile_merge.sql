-- Silver reconciliation, merge mode: per day of the window [$1, $2], the rows silver holds for
-- the batch's keys, and the stale rows it holds for keys the batch no longer has.
SELECT
    _event_date,
    count(*) FILTER (WHERE _sk IN (SELECT _sk FROM merged)) AS held,
    count(*) FILTER (WHERE _sk NOT IN (SELECT _sk FROM merged)) AS stale
FROM silver_after
WHERE _event_date BETWEEN $1 AND $2
GROUP BY _event_date
