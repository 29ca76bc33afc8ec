-- The baseline: the same bronze → silver → gold work for one daily run, written by hand in DuckDB:
-- like the platform's run for {day}, it restates the lookback days {window_start}..{day} in every
-- layer.
-- It reads the same landing files, types them, tokenises PII (plain SHA-256 of key||value:
-- same cost class as HMAC), drops nothing it can read, writes bronze and silver as Parquet and
-- the gold marts as DuckDB tables. What it does not do is what the platform adds: Delta
-- transactions, quarantine with reasons, rescued data, per-row audit columns, Dagster, dbt.
--
-- Parameters (replaced by bench/pipeline.py): {orders_files}, {customers_files} (SQL lists),
-- {day}, {window_start}, {out} (a directory), {key}.

SET TimeZone = 'UTC';

-- bronze: orders of the window from every file that can hold them
CREATE OR REPLACE TABLE bronze_orders AS
SELECT TRY_CAST(ordered_at AS TIMESTAMPTZ)::DATE AS order_date,
       order_id, customer_id, sha256('{key}' || customer_email) AS customer_email, status, channel,
       TRY_CAST(quantity AS INTEGER) AS quantity, TRY_CAST(amount AS DECIMAL(12, 2)) AS amount, currency,
       TRY_CAST(ordered_at AS TIMESTAMPTZ) AS ordered_at, filename AS source_file,
       sha256(concat_ws(',', order_id, customer_id, customer_email, status, channel, quantity, amount,
                        currency, ordered_at, coupon_code)) AS row_hash
FROM read_csv({orders_files}, header = true, all_varchar = true, filename = true, ignore_errors = true)
WHERE TRY_CAST(ordered_at AS TIMESTAMPTZ)::DATE BETWEEN DATE '{window_start}' AND DATE '{day}'
  AND TRY_CAST(amount AS DECIMAL(12, 2)) IS NOT NULL AND TRY_CAST(quantity AS INTEGER) IS NOT NULL;
COPY bronze_orders TO '{out}/bronze_orders' (FORMAT parquet, PARTITION_BY (order_date), OVERWRITE_OR_IGNORE);

CREATE OR REPLACE TABLE bronze_customers AS
SELECT snapshot_at::DATE AS snapshot_date, customer_id, sha256('{key}' || email) AS email, sha256('{key}' || full_name) AS full_name,
       segment, city, country, signup_at, updated_at, snapshot_at, filename AS source_file
FROM read_json({customers_files}, format = 'newline_delimited', ignore_errors = true, filename = true,
               columns = {{customer_id: 'VARCHAR', email: 'VARCHAR', full_name: 'VARCHAR', segment: 'VARCHAR',
                          city: 'VARCHAR', country: 'VARCHAR', signup_at: 'TIMESTAMPTZ',
                          updated_at: 'TIMESTAMPTZ', snapshot_at: 'TIMESTAMPTZ'}})
WHERE snapshot_at::DATE BETWEEN DATE '{window_start}' AND DATE '{day}';
COPY bronze_customers TO '{out}/bronze_customers' (FORMAT parquet, PARTITION_BY (snapshot_date), OVERWRITE_OR_IGNORE);

-- silver orders: the window's bronze, latest row per key, quality flags, window rewritten
CREATE OR REPLACE TABLE silver_orders AS
SELECT sha256(order_id) AS sk, order_id, customer_id, customer_email, lower(trim(status)) AS status,
       lower(trim(channel)) AS channel, quantity, amount, upper(trim(currency)) AS currency, ordered_at,
       list_filter([CASE WHEN amount NOT BETWEEN 0 AND 100000 THEN 'amount' END,
                    CASE WHEN quantity NOT BETWEEN 1 AND 1000 THEN 'quantity' END,
                    CASE WHEN lower(trim(status)) NOT IN ('placed', 'paid', 'shipped', 'cancelled', 'refunded')
                         THEN 'status' END], lambda f: f IS NOT NULL) AS dq_flags
FROM read_parquet('{out}/bronze_orders/*/*.parquet', hive_partitioning = true)
WHERE order_date BETWEEN DATE '{window_start}' AND DATE '{day}'
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY ordered_at DESC, source_file DESC) = 1;
COPY silver_orders TO '{out}/silver_orders.parquet' (FORMAT parquet);

-- silver customers: SCD2 versions from the window's snapshots and the versions already kept
CREATE OR REPLACE TABLE silver_customers AS
WITH observations AS (
    SELECT customer_id, email, full_name, lower(trim(segment)) AS segment, city, upper(trim(country)) AS country,
           updated_at AS valid_from
    FROM read_parquet('{out}/bronze_customers/*/*.parquet', hive_partitioning = true)
    WHERE snapshot_date BETWEEN DATE '{window_start}' AND DATE '{day}'
),
changes AS (
    SELECT DISTINCT ON (customer_id, valid_from) * FROM observations ORDER BY customer_id, valid_from
)
SELECT *, lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) AS valid_to
FROM changes;
COPY silver_customers TO '{out}/silver_customers.parquet' (FORMAT parquet);

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
