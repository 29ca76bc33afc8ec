-- The platform's mart (dbt_models/demo/models/marts/customer_segment_daily_sales.sql), for the
-- build's days: each order counts toward the segment its customer had when the order was placed.

with

orders as (

    select * from {{ ref('orders') }}
    where dq_valid and {{ in_window('order_date') }}

),

customer_versions as (

    select * from {{ ref('customers_scd2') }}

),

orders_with_segment as (

    select
        orders.order_date,
        orders.currency,
        orders.customer_id,
        orders.amount,
        coalesce(customer_versions.segment, 'unknown') as segment

    from orders
    left join customer_versions
        on
            orders.customer_id = customer_versions.customer_id
            and orders.ordered_at >= customer_versions.valid_from
            and (orders.ordered_at < customer_versions.valid_to or customer_versions.valid_to is null)

),

by_segment as (

    select
        order_date,
        segment,
        currency,
        count(*) as orders,
        count(distinct customer_id) as customers,
        sum(amount) as gross_revenue

    from orders_with_segment
    group by order_date, segment, currency

)

select * from by_segment
