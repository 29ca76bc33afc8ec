{{ config(unique_key='order_date') }}

-- One row per order for the build's days, replacing those days (delete+insert by order_date):
-- the latest row of each order wins (a re-sent order, an update), between equal event times the
-- one delivered last. Quality rules flag, never drop (as the platform's silver does).

with

orders as (

    select * from {{ ref('stg_landing__orders') }}

),

latest as (

    select *
    from orders
    qualify row_number() over (
        partition by order_id order by ordered_at desc, arrival_date desc, source_file desc
    ) = 1

),

flagged as (

    select
        *,
        list_filter([
            case when not coalesce(amount between 0 and 100000, false) then 'amount_between' end,
            case when not coalesce(quantity between 1 and 1000, false) then 'quantity_between' end,
            case
                when not coalesce(status in ('placed', 'paid', 'shipped', 'cancelled', 'refunded'), false)
                    then 'status_in_set'
            end
        ], lambda f: f is not null) as dq_flags

    from latest

)

select
    order_id,
    customer_id,
    customer_email_token,
    status,
    channel,
    quantity,
    amount,
    currency,
    ordered_at,
    order_date,
    arrival_date,
    source_file,
    dq_flags,
    len(dq_flags) = 0 as dq_valid

from flagged
