{{ config(materialized='table') }}

-- SCD type 2: each version is valid from its start until the next one starts (join on
-- valid_from <= t < valid_to for "as of t"). Rebuilt whole: one row per version.

select
    *,
    lead(valid_from) over (partition by customer_id order by valid_from) as valid_to,
    lead(valid_from) over (partition by customer_id order by valid_from) is null as is_current

from {{ ref('customer_versions') }}
