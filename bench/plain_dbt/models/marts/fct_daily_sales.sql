-- The platform's mart (dbt_models/demo/models/marts/fct_daily_sales.sql), for the build's days.

with

orders as (

    select * from {{ ref('orders') }}
    where {{ in_window('order_date') }}

),

daily as (

    select
        order_date,
        currency,
        count(*) filter (where dq_valid) as orders,
        count(*) filter (where not dq_valid) as flagged_orders,
        count(distinct customer_id) filter (where dq_valid) as customers,
        coalesce(sum(quantity) filter (where dq_valid), 0) as items,
        coalesce(sum(amount) filter (where dq_valid), 0) as gross_revenue,
        coalesce(
            sum(amount) filter (where dq_valid and status not in ('cancelled', 'refunded')), 0
        ) as net_revenue

    from orders
    group by order_date, currency

)

select * from daily
