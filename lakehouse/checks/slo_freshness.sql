-- One source's freshness judgements ($2 is the check's name, on its bronze asset $1) for the
-- partition days $3..$4: the latest judgement of each day, and whether it passed.
SELECT
    day,
    arg_max(passed, evaluated_at) AS passed
FROM quality.check_evaluations
WHERE
    asset = $1
    AND check_name = $2
    AND day BETWEEN $3 AND $4
GROUP BY day
