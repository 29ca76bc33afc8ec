{{ config(event_time='order_date') }}

with

source as (

    select * from {{ source('silver', 'orders') }}

),

renamed as (

    select
        order_id,
        customer_id,
        customer_email as customer_email_token,
        status,
        channel,
        quantity,
        amount,
        currency,
        ordered_at,
        _event_date as order_date,
        dq_valid,
        dq_flags

    from source

)

select * from renamed
