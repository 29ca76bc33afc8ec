-- The baseline: the same bronze → silver → gold work for one daily run, written by hand in DuckDB
-- for these two sources only. Like the platform's run for {day}, it restates the lookback days
-- {window_start}..{day} in every layer, from the same landing files.
--
-- It does what the platform must do, as a competent engineer would write it by hand, so that the
-- ratio measures the platform's cost and not missing features:
--   bronze: every field read as text and typed; the row's day from its event time, or its file's
--     arrival day when the event time is unreadable, late (more than lookback_days) or early; a
--     reason for every row that cannot be typed, is missing a required value, would be rounded,
--     or is outside its day, and those rows kept in quarantine with their raw record (PII
--     tokenised), never dropped; PII tokenised by HMAC-SHA256 (the platform's key, its pads set
--     as variables by bench/pipeline.py); audit columns (arrival day, file, row number in the
--     file, delivery time, keyed row hash); the undeclared field rescued as JSON, tokenised; the
--     distinct (token, value) pairs a token vault must learn;
--   silver: the window's latest row per key with normalised values and quality flags, merged with
--     the rows silver already holds for the window (a key absent from the batch stays: flag,
--     don't drop); customers as SCD2 versions;
--   checks: per day, read = written + quarantined, the quality rules' failing rows, row counts.
-- Intermediate tables are temporary (in memory, as the platform's staging is); the marts persist.
-- What it leaves out: Delta transactions (it overwrites Parquet files), the vault's encryption,
-- Dagster, dbt, and the platform's generality (these SQL statements know the two sources).
--
-- Parameters (replaced by bench/pipeline.py): {orders_files}, {customers_files} (SQL lists),
-- {day}, {window_start}, {out} (a directory), {silver_orders_window} (silver's files of the window,
-- or no rows on the first run). Variables: inner_pad, outer_pad (BLOBs).

SET TimeZone = 'UTC';
CREATE OR REPLACE TEMP MACRO hmac(v) AS CASE WHEN v IS NULL THEN NULL ELSE
    sha256(getvariable('outer_pad') || unhex(sha256(getvariable('inner_pad') || encode(v)))) END;
CREATE OR REPLACE TEMP MACRO arrival(f) AS CAST(regexp_extract(f, '(\d{{4}}-\d{{2}}-\d{{2}})/[^/]*$', 1) AS DATE);

-- bronze orders: the files' rows as text, numbered within each file
CREATE OR REPLACE TEMP TABLE orders_raw AS
SELECT row_number() OVER () AS _n, *
FROM read_csv({orders_files}, header = true, all_varchar = true, filename = true, auto_detect = false,
              columns = {{order_id: 'VARCHAR', customer_id: 'VARCHAR', customer_email: 'VARCHAR',
                         status: 'VARCHAR', channel: 'VARCHAR', quantity: 'VARCHAR', amount: 'VARCHAR',
                         currency: 'VARCHAR', ordered_at: 'VARCHAR', coupon_code: 'VARCHAR'}},
              strict_mode = true, store_rejects = true);

CREATE OR REPLACE TEMP TABLE orders_staged AS
WITH firsts AS (SELECT filename, min(_n) AS first_n, arrival(filename) AS _arrival_date FROM orders_raw GROUP BY 1),
dated AS (
    SELECT r.*, _n - first_n + 1 AS _row_number, _arrival_date,
           CAST(TRY_CAST(ordered_at AS TIMESTAMPTZ) AS DATE) AS _event_date
    FROM orders_raw r JOIN firsts USING (filename)
),
attributed AS (
    SELECT *, CASE WHEN _event_date BETWEEN greatest(_arrival_date - 2, DATE '2026-01-01') AND _arrival_date + 1
                   THEN _event_date ELSE _arrival_date END AS _partition_date
    FROM dated
),
typed AS (
    SELECT *, TRY_CAST(quantity AS INTEGER) AS q, TRY_CAST(amount AS DECIMAL(12, 2)) AS a,
           TRY_CAST(ordered_at AS TIMESTAMPTZ) AS t
    FROM attributed WHERE _partition_date BETWEEN DATE '{window_start}' AND DATE '{day}'
)
SELECT order_id, customer_id, hmac(customer_email) AS customer_email, customer_email AS clear_email,
       status, channel, q AS quantity, a AS amount, currency, t AS ordered_at, _event_date, _partition_date,
       _arrival_date, filename AS _source_file, _row_number, now() AS _ingested_at,
       hmac(to_json(struct_pack(order_id, customer_id, customer_email, status, channel, quantity, amount,
                                currency, ordered_at, coupon_code))) AS _row_hash,
       CASE WHEN coupon_code IS NOT NULL THEN json_object('coupon_code', hmac(coupon_code))::VARCHAR END AS _rescued_data,
       NULLIF(concat_ws('; ',
           CASE WHEN order_id IS NULL THEN 'order_id: missing value' END,
           CASE WHEN customer_id IS NULL THEN 'customer_id: missing value' END,
           CASE WHEN status IS NULL THEN 'status: missing value' END,
           CASE WHEN quantity IS NULL THEN 'quantity: missing value'
                WHEN q IS NULL THEN 'quantity: cannot read ' || left(quantity, 40) || ' as int32'
                WHEN TRY_CAST(quantity AS DECIMAL(38, 18)) <> q THEN 'quantity: ' || left(quantity, 40) || ' is not a whole number' END,
           CASE WHEN amount IS NULL THEN 'amount: missing value'
                WHEN a IS NULL THEN 'amount: cannot read ' || left(amount, 40) || ' as decimal(12,2)'
                WHEN TRY_CAST(amount AS DECIMAL(38, 18)) <> a THEN 'amount: ' || left(amount, 40) || ' has more decimal places' END,
           CASE WHEN ordered_at IS NULL THEN 'ordered_at: missing value'
                WHEN t IS NULL THEN 'ordered_at: cannot read ' || left(ordered_at, 40) || ' as timestamp' END,
           CASE WHEN _event_date < _arrival_date - 2 THEN 'late: event date ' || _event_date
                WHEN _event_date > _arrival_date + 1 THEN 'early: event date ' || _event_date END), '') AS _error,
       to_json(struct_pack(order_id, customer_id, customer_email := hmac(customer_email), status, channel, quantity,
                           amount, currency, ordered_at, coupon_code := hmac(coupon_code))) AS _raw
FROM typed;

COPY (SELECT * EXCLUDE (clear_email, _error, _raw, _partition_date) FROM orders_staged WHERE _error IS NULL)
  TO '{out}/bronze_orders' (FORMAT parquet, PARTITION_BY (_event_date), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'data_{{i}}');
COPY (SELECT _partition_date, _source_file, _row_number, _error AS _reason, _raw, _row_hash FROM orders_staged
      WHERE _error IS NOT NULL
      UNION ALL
      SELECT arrival(s.file_path), s.file_path, e.line, 'malformed CSV row: ' || e.error_type, NULL, hmac(e.csv_line)
      FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id))
  TO '{out}/quarantine_orders.parquet' (FORMAT parquet);
CREATE OR REPLACE TEMP TABLE vault_orders AS
SELECT DISTINCT customer_email AS token, clear_email AS value FROM orders_staged WHERE customer_email IS NOT NULL;

-- bronze customers (JSON lines)
CREATE OR REPLACE TEMP TABLE customers_staged AS
WITH files AS (SELECT filename, string_split(content, chr(10)) AS lines FROM read_text({customers_files})),
numbered AS (SELECT filename, arrival(filename) AS _arrival_date, unnest(lines) AS line,
                    generate_subscripts(lines, 1) AS _n FROM files),
parsed AS (
    SELECT filename, _arrival_date, line, _n, json_valid(line) AS ok,
           CASE WHEN json_valid(line) THEN line END AS j
    FROM numbered WHERE trim(line) <> ''
),
typed AS (
    SELECT *, j->>'$.customer_id' AS customer_id, j->>'$.email' AS email, j->>'$.full_name' AS full_name,
           j->>'$.segment' AS segment, j->>'$.city' AS city, j->>'$.country' AS country,
           TRY_CAST(j->>'$.signup_at' AS TIMESTAMPTZ) AS signup_at,
           TRY_CAST(j->>'$.updated_at' AS TIMESTAMPTZ) AS updated_at,
           TRY_CAST(j->>'$.snapshot_at' AS TIMESTAMPTZ) AS snapshot_at
    FROM parsed
),
attributed AS (
    SELECT *, CAST(snapshot_at AS DATE) AS _event_date,
           CASE WHEN CAST(snapshot_at AS DATE) BETWEEN _arrival_date - 2 AND _arrival_date + 1
                THEN CAST(snapshot_at AS DATE) ELSE _arrival_date END AS _partition_date
    FROM typed
)
SELECT customer_id, hmac(email) AS email, hmac(full_name) AS full_name, email AS clear_email,
       full_name AS clear_name, segment, city, country, signup_at, updated_at, snapshot_at, _event_date,
       _partition_date, _arrival_date, filename AS _source_file, _n AS _row_number, now() AS _ingested_at,
       hmac(line) AS _row_hash,
       CASE WHEN NOT ok THEN 'invalid JSON' WHEN customer_id IS NULL THEN 'customer_id: missing value'
            WHEN segment IS NULL THEN 'segment: missing value' WHEN updated_at IS NULL THEN 'updated_at: missing value'
            WHEN snapshot_at IS NULL THEN 'snapshot_at: missing value' END AS _error
FROM attributed
WHERE _partition_date BETWEEN DATE '{window_start}' AND DATE '{day}';

COPY (SELECT * EXCLUDE (clear_email, clear_name, _error, _partition_date) FROM customers_staged WHERE _error IS NULL)
  TO '{out}/bronze_customers' (FORMAT parquet, PARTITION_BY (_event_date), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'data_{{i}}');
CREATE OR REPLACE TEMP TABLE vault_customers AS
SELECT DISTINCT token, value FROM (
    SELECT email AS token, clear_email AS value FROM customers_staged
    UNION ALL SELECT full_name, clear_name FROM customers_staged) WHERE token IS NOT NULL;

-- silver orders: the window's latest row per key, normalised and flagged, plus the rows silver
-- already holds for keys the batch does not bring
CREATE OR REPLACE TEMP TABLE silver_batch AS
SELECT sha256(order_id) AS _sk, order_id, customer_id, customer_email, lower(trim(status)) AS status,
       lower(trim(channel)) AS channel, quantity, amount, upper(trim(currency)) AS currency, ordered_at,
       list_filter([CASE WHEN NOT coalesce(order_id IS NOT NULL, FALSE) THEN 'order_id' END,
                    CASE WHEN NOT coalesce(amount BETWEEN 0 AND 100000, FALSE) THEN 'amount' END,
                    CASE WHEN NOT coalesce(quantity BETWEEN 1 AND 1000, FALSE) THEN 'quantity' END,
                    CASE WHEN NOT coalesce(lower(trim(status)) IN ('placed', 'paid', 'shipped', 'cancelled', 'refunded'), FALSE)
                         THEN 'status' END], lambda f: f IS NOT NULL) AS dq_flags,
       _event_date, _source_file, _row_number, _ingested_at, _row_hash
FROM read_parquet('{out}/bronze_orders/*/*.parquet', hive_partitioning = true)
WHERE _event_date BETWEEN DATE '{window_start}' AND DATE '{day}'
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY ordered_at DESC, _source_file DESC, _row_number DESC) = 1;

CREATE OR REPLACE TEMP TABLE silver_orders AS
SELECT * FROM silver_batch
UNION ALL BY NAME
SELECT * FROM {silver_orders_window}
WHERE _event_date BETWEEN DATE '{window_start}' AND DATE '{day}' AND _sk NOT IN (SELECT _sk FROM silver_batch);
COPY silver_orders TO '{out}/silver_orders' (FORMAT parquet, PARTITION_BY (_event_date), OVERWRITE_OR_IGNORE, FILENAME_PATTERN 'data_{{i}}');

-- silver customers: SCD2 versions from the window's snapshots
CREATE OR REPLACE TEMP TABLE silver_customers AS
WITH observations AS (
    SELECT customer_id, email, full_name, lower(trim(segment)) AS segment, city, upper(trim(country)) AS country,
           updated_at AS valid_from
    FROM read_parquet('{out}/bronze_customers/*/*.parquet', hive_partitioning = true)
    WHERE _event_date BETWEEN DATE '{window_start}' AND DATE '{day}'
),
changes AS (
    SELECT DISTINCT ON (customer_id, valid_from) * FROM observations ORDER BY customer_id, valid_from
)
SELECT *, lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) AS valid_to
FROM changes;
COPY silver_customers TO '{out}/silver_customers.parquet' (FORMAT parquet);

-- checks, per day: reconciliation, the quality rules' failing rows, volume
CREATE OR REPLACE TEMP TABLE checks AS
SELECT 'orders' AS source, _partition_date AS day, count(*) AS read, count(*) FILTER (WHERE _error IS NULL) AS written,
       count(*) FILTER (WHERE _error IS NOT NULL) AS quarantined
FROM orders_staged GROUP BY ALL
UNION ALL
SELECT 'customers', _partition_date, count(*), count(*) FILTER (WHERE _error IS NULL), count(*) FILTER (WHERE _error IS NOT NULL)
FROM customers_staged GROUP BY ALL;
CREATE OR REPLACE TEMP TABLE rule_failures AS
SELECT _event_date AS day, count(*) AS rows, count(*) FILTER (WHERE order_id IS NULL) AS order_id_null,
       count(*) FILTER (WHERE NOT amount BETWEEN 0 AND 100000) AS amount_out_of_range,
       count(*) FILTER (WHERE NOT quantity BETWEEN 1 AND 1000) AS quantity_out_of_range,
       count(*) FILTER (WHERE status NOT IN ('placed', 'paid', 'shipped', 'cancelled', 'refunded')) AS status_not_in_set
FROM silver_orders GROUP BY 1;

-- gold: the two marts for the window's days
CREATE OR REPLACE TABLE fct_daily_sales AS
SELECT ordered_at::DATE AS order_date, currency,
       count(*) FILTER (WHERE len(dq_flags) = 0) AS orders,
       count(*) FILTER (WHERE len(dq_flags) > 0) AS flagged_orders,
       count(DISTINCT customer_id) FILTER (WHERE len(dq_flags) = 0) AS customers,
       coalesce(sum(quantity) FILTER (WHERE len(dq_flags) = 0), 0) AS items,
       coalesce(sum(amount) FILTER (WHERE len(dq_flags) = 0), 0) AS gross_revenue
FROM silver_orders GROUP BY ALL;

CREATE OR REPLACE TABLE customer_segment_daily_sales AS
SELECT o.ordered_at::DATE AS order_date, coalesce(c.segment, 'unknown') AS segment, o.currency,
       count(*) AS orders, count(DISTINCT o.customer_id) AS customers, sum(o.amount) AS gross_revenue
FROM silver_orders o
LEFT JOIN silver_customers c
  ON o.customer_id = c.customer_id AND o.ordered_at >= c.valid_from
 AND (o.ordered_at < c.valid_to OR c.valid_to IS NULL)
WHERE len(o.dq_flags) = 0
GROUP BY ALL;
