-- One source's check evaluations in the quality ledger since $4: freshness evaluations and
-- passes ($1 is the freshness check's name), then every other check's evaluations and passes,
-- on its bronze and silver assets ($2, $3).
SELECT
    count(*) FILTER (WHERE check_name = $1) AS freshness_evaluations,
    count(*) FILTER (WHERE check_name = $1 AND passed) AS freshness_passed,
    count(*) FILTER (WHERE check_name <> $1) AS check_evaluations,
    count(*) FILTER (WHERE check_name <> $1 AND passed) AS checks_passed
FROM quality.check_evaluations
WHERE asset IN ($2, $3) AND evaluated_at >= $4
