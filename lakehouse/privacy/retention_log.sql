-- Retention's record beside the quality ledger: what each retention run deleted and vacuumed,
-- one row per table. Keyed by run and table, so recording a run again replaces its rows.
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.retention_runs (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,       -- bronze/orders, landing/orders, ...
    keeps_from DATE,                   -- days before it were expired; null: no window
    days_deleted VARCHAR,              -- the days deleted, folded into ranges
    rows_deleted BIGINT NOT NULL,      -- scd2 silver: versions
    files_removed BIGINT NOT NULL,     -- data files the deletes took out, or landing files deleted
    files_vacuumed BIGINT NOT NULL,
    bytes_freed BIGINT NOT NULL,
    version_before BIGINT,
    version_after BIGINT,
    purpose VARCHAR,
    legal_basis VARCHAR,
    ran_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, table_name)
);
