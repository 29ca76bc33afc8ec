-- Silver reconciliation, merge mode: per day of the window [$1, $2], the rows silver holds for
-- the batch's keys, and the stale rows it holds for keys the batch no longer has. A join, not
-- IN / NOT IN: DuckDB spills a join's hash table, and a window may hold tens of millions of keys.
SELECT
    s._event_date,
    count(m._sk) AS held,
    count(*) - count(m._sk) AS stale
FROM silver_after AS s
LEFT JOIN merged AS m ON s._sk = m._sk
WHERE s._event_date BETWEEN $1 AND $2
GROUP BY s._event_date
