{{ config(unique_key=['customer_id', 'valid_from']) }}

-- Every version of a customer the snapshots showed, one row per (customer, updated_at): the
-- snapshots are full exports, so a version is the state that started at its updated_at. Kept
-- incrementally (the build's snapshots replace the versions they show); customers_scd2 gives
-- them their end.

with

snapshots as (

    select * from {{ ref('stg_landing__customers') }}

),

versions as (

    select *
    from snapshots
    qualify row_number() over (
        partition by customer_id, updated_at order by snapshot_at desc, source_file desc
    ) = 1

)

select
    customer_id,
    email_token,
    full_name_token,
    segment,
    city,
    country,
    signup_at,
    updated_at as valid_from,
    snapshot_at as observed_at

from versions
