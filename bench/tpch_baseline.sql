-- The TPC-H baseline: the bronze → silver work of the platform for lineitem and orders, written
-- by hand in DuckDB. Like the platform's run for {window_start}..{day} ({window_start} is the
-- run's first day minus lookback_days), it rewrites those days of bronze and silver from every
-- landing file that can hold their rows (the platform's arrival days: one day before the window
-- to lookback_days after it; bench/tpch.py lists them).
--
-- bronze: every column cast to the contract's type (Parquet read typed, CSV read as text and
-- cast), rows that cannot be typed or miss a required value left out, and the platform's audit
-- columns: _event_date, _arrival_date (from the path), _source_file, _row_number,
-- _ingested_at (the file's modification time), _row_hash (SHA-256 of the record).
-- silver: the window's bronze, latest row per key (the platform's order: event time, arrival
-- day, delivery time, file, row), a SHA-256 surrogate key, the contract's rules as dq_flags and
-- dq_valid, and per-day row and flag counts (what the platform's checks report).
-- Both layers are Parquet partitioned by _event_date; each window day's file is overwritten.
-- What it does not do is what the platform adds: Delta transactions and MERGE, quarantine with
-- reasons, rescued data, the circuit breaker, great-expectations, Dagster.
--
-- Parameters (replaced by bench/tpch.py): {lineitem_files}, {orders_files} (SQL lists),
-- {window_start}, {day}, {out} (a directory).

SET TimeZone = 'UTC';

-- bronze lineitem: Parquet, read typed (file_row_number is the record's position in its file)
CREATE OR REPLACE TEMP TABLE bronze_lineitem AS
WITH landed AS (
    SELECT l.*, f.last_modified AS _ingested_at
    FROM read_parquet({lineitem_files}, filename = true, file_row_number = true) l
    JOIN read_blob({lineitem_files}) f ON f.filename = l.filename
)
SELECT CAST(l_orderkey AS BIGINT) AS l_orderkey, CAST(l_partkey AS BIGINT) AS l_partkey,
       CAST(l_suppkey AS BIGINT) AS l_suppkey, CAST(l_linenumber AS INTEGER) AS l_linenumber,
       CAST(l_quantity AS DECIMAL(15, 2)) AS l_quantity,
       CAST(l_extendedprice AS DECIMAL(15, 2)) AS l_extendedprice,
       CAST(l_discount AS DECIMAL(15, 2)) AS l_discount, CAST(l_tax AS DECIMAL(15, 2)) AS l_tax,
       CAST(l_returnflag AS VARCHAR) AS l_returnflag, CAST(l_linestatus AS VARCHAR) AS l_linestatus,
       CAST(l_shipdate AS DATE) AS l_shipdate, CAST(l_commitdate AS DATE) AS l_commitdate,
       CAST(l_receiptdate AS DATE) AS l_receiptdate, CAST(l_shipinstruct AS VARCHAR) AS l_shipinstruct,
       CAST(l_shipmode AS VARCHAR) AS l_shipmode, CAST(l_comment AS VARCHAR) AS l_comment,
       CAST(l_shipdate AS DATE) AS _event_date,
       CAST(regexp_extract(filename, '/(\d{{4}}-\d{{2}}-\d{{2}})/', 1) AS DATE) AS _arrival_date,
       filename AS _source_file, file_row_number + 1 AS _row_number, _ingested_at,
       sha256(concat_ws(chr(31), l_orderkey, l_partkey, l_suppkey, l_linenumber, l_quantity,
                        l_extendedprice, l_discount, l_tax, l_returnflag, l_linestatus, l_shipdate,
                        l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment)) AS _row_hash
FROM landed
WHERE CAST(l_shipdate AS DATE) BETWEEN DATE '{window_start}' AND DATE '{day}'
  AND l_orderkey IS NOT NULL AND l_linenumber IS NOT NULL AND l_quantity IS NOT NULL
  AND l_extendedprice IS NOT NULL AND l_discount IS NOT NULL AND l_tax IS NOT NULL
  AND l_returnflag IS NOT NULL AND l_linestatus IS NOT NULL AND l_commitdate IS NOT NULL
  AND l_receiptdate IS NOT NULL AND l_shipinstruct IS NOT NULL AND l_shipmode IS NOT NULL
  AND l_comment IS NOT NULL AND l_partkey IS NOT NULL AND l_suppkey IS NOT NULL;
COPY bronze_lineitem TO '{out}/bronze_lineitem'
    (FORMAT parquet, PARTITION_BY (_event_date), OVERWRITE_OR_IGNORE);

-- bronze orders: CSV, every field read as text, then cast; a row that does not cast is left out.
-- Staged first: the staging table keeps the files' order (rowid), which numbers each file's rows.
CREATE OR REPLACE TEMP TABLE orders_landed AS
SELECT * FROM read_csv({orders_files}, header = true, all_varchar = true, filename = true);
CREATE OR REPLACE TEMP TABLE bronze_orders AS
WITH landed AS (
    SELECT o.*, f.last_modified AS _ingested_at,
           o.rowid - min(o.rowid) OVER (PARTITION BY o.filename) + 1 AS _row_number
    FROM orders_landed o
    JOIN read_blob({orders_files}) f ON f.filename = o.filename
),
typed AS (
    SELECT TRY_CAST(o_orderkey AS BIGINT) AS o_orderkey, TRY_CAST(o_custkey AS BIGINT) AS o_custkey,
           o_orderstatus, TRY_CAST(o_totalprice AS DECIMAL(15, 2)) AS o_totalprice,
           TRY_CAST(o_orderdate AS DATE) AS o_orderdate, o_orderpriority, o_clerk,
           TRY_CAST(o_shippriority AS INTEGER) AS o_shippriority, o_comment,
           TRY_CAST(o_orderdate AS DATE) AS _event_date,
           CAST(regexp_extract(filename, '/(\d{{4}}-\d{{2}}-\d{{2}})/', 1) AS DATE) AS _arrival_date,
           filename AS _source_file, _row_number, _ingested_at,
           sha256(concat_ws(chr(31), o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate,
                            o_orderpriority, o_clerk, o_shippriority, o_comment)) AS _row_hash
    FROM landed
)
SELECT * FROM typed
WHERE _event_date BETWEEN DATE '{window_start}' AND DATE '{day}'
  AND o_orderkey IS NOT NULL AND o_custkey IS NOT NULL AND o_orderstatus IS NOT NULL
  AND o_totalprice IS NOT NULL AND o_orderpriority IS NOT NULL AND o_clerk IS NOT NULL
  AND o_shippriority IS NOT NULL AND o_comment IS NOT NULL;
COPY bronze_orders TO '{out}/bronze_orders'
    (FORMAT parquet, PARTITION_BY (_event_date), OVERWRITE_OR_IGNORE);

-- silver lineitem: the window's bronze, latest row per key, the contract's rules as flags
CREATE OR REPLACE TEMP TABLE silver_lineitem AS
WITH keyed AS (
    SELECT sha256(concat_ws(chr(31), CAST(l_orderkey AS VARCHAR), CAST(l_linenumber AS VARCHAR))) AS _sk, *,
           list_filter([CASE WHEN l_quantity NOT BETWEEN 1 AND 50 THEN 'l_quantity' END,
                        CASE WHEN l_discount NOT BETWEEN 0 AND 0.10 THEN 'l_discount' END,
                        CASE WHEN l_returnflag NOT IN ('A', 'N', 'R') THEN 'l_returnflag' END,
                        CASE WHEN l_shipmode NOT IN ('AIR', 'FOB', 'MAIL', 'RAIL', 'REG AIR', 'SHIP', 'TRUCK')
                             THEN 'l_shipmode' END], lambda f: f IS NOT NULL) AS dq_flags
    FROM read_parquet('{out}/bronze_lineitem/*/*.parquet', hive_partitioning = true)
    WHERE _event_date BETWEEN DATE '{window_start}' AND DATE '{day}'
)
SELECT * EXCLUDE (_arrival_date), len(dq_flags) = 0 AS dq_valid FROM keyed
QUALIFY row_number() OVER (PARTITION BY _sk ORDER BY l_shipdate DESC, _arrival_date DESC, _ingested_at DESC,
                                                     _source_file DESC, _row_number DESC) = 1;
COPY silver_lineitem TO '{out}/silver_lineitem'
    (FORMAT parquet, PARTITION_BY (_event_date), OVERWRITE_OR_IGNORE);

-- silver orders
CREATE OR REPLACE TEMP TABLE silver_orders AS
WITH keyed AS (
    SELECT sha256(concat_ws(chr(31), CAST(o_orderkey AS VARCHAR))) AS _sk, *,
           list_filter([CASE WHEN o_orderstatus NOT IN ('F', 'O', 'P') THEN 'o_orderstatus' END,
                        CASE WHEN NOT o_totalprice > 0 THEN 'o_totalprice' END,
                        CASE WHEN o_orderpriority NOT IN ('1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW')
                             THEN 'o_orderpriority' END], lambda f: f IS NOT NULL) AS dq_flags
    FROM read_parquet('{out}/bronze_orders/*/*.parquet', hive_partitioning = true)
    WHERE _event_date BETWEEN DATE '{window_start}' AND DATE '{day}'
)
SELECT * EXCLUDE (_arrival_date), len(dq_flags) = 0 AS dq_valid FROM keyed
QUALIFY row_number() OVER (PARTITION BY _sk ORDER BY o_orderdate DESC, _arrival_date DESC, _ingested_at DESC,
                                                     _source_file DESC, _row_number DESC) = 1;
COPY silver_orders TO '{out}/silver_orders'
    (FORMAT parquet, PARTITION_BY (_event_date), OVERWRITE_OR_IGNORE);

-- the checks' figures: rows and flagged rows per day, and per rule, as the platform reports them
CREATE OR REPLACE TABLE day_checks_lineitem AS
SELECT _event_date, count(*) AS rows, count(*) FILTER (WHERE NOT dq_valid) AS flagged,
       count(*) FILTER (WHERE list_contains(dq_flags, 'l_quantity')) AS l_quantity,
       count(*) FILTER (WHERE list_contains(dq_flags, 'l_discount')) AS l_discount,
       count(*) FILTER (WHERE list_contains(dq_flags, 'l_returnflag')) AS l_returnflag,
       count(*) FILTER (WHERE list_contains(dq_flags, 'l_shipmode')) AS l_shipmode
FROM silver_lineitem GROUP BY ALL;

CREATE OR REPLACE TABLE day_checks_orders AS
SELECT _event_date, count(*) AS rows, count(*) FILTER (WHERE NOT dq_valid) AS flagged,
       count(*) FILTER (WHERE list_contains(dq_flags, 'o_orderstatus')) AS o_orderstatus,
       count(*) FILTER (WHERE list_contains(dq_flags, 'o_totalprice')) AS o_totalprice,
       count(*) FILTER (WHERE list_contains(dq_flags, 'o_orderpriority')) AS o_orderpriority
FROM silver_orders GROUP BY ALL;
