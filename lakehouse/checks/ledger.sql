-- The quality ledger: every check evaluation, one row per day. Keyed by run and event, so
-- appending the same evaluations again changes nothing.
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_evaluations (
    run_id VARCHAR NOT NULL,
    event_id BIGINT NOT NULL,          -- the event's id within its run's log
    asset VARCHAR NOT NULL,
    day VARCHAR,                       -- the partition; null for checks of a whole run (dbt tests) and freshness
    run_partitions VARCHAR,            -- the run's partition or range, for context
    check_name VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    passed BOOLEAN NOT NULL,
    evaluated_rows BIGINT,
    failing_rows BIGINT,
    contract_version VARCHAR,
    description VARCHAR,
    evaluated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, event_id)
);
