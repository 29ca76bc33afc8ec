-- Orders straight from the landing CSV files of the build's arrival days: typed, normalised,
-- PII tokenised. A row that cannot be read or typed is dropped (the platform quarantines it with
-- its reason), and so is a row outside the build's days.

with

source as (

    select
        *,
        {{ arrival_date() }} as arrival_date

    from read_csv(
        '{{ var("landing_root") }}/orders/*/*.csv',
        header = true, all_varchar = true, filename = true, ignore_errors = true
    )
    where {{ arrival_day_filter() }}

),

typed as (

    select
        order_id,
        customer_id,
        {{ tokenize('customer_email') }} as customer_email_token,
        lower(trim(status)) as status,
        lower(trim(channel)) as channel,
        try_cast(quantity as integer) as quantity,
        try_cast(amount as decimal(12, 2)) as amount,
        upper(trim(currency)) as currency,
        try_cast(ordered_at as timestamptz) as ordered_at,
        arrival_date,
        filename as source_file

    from source

)

select
    *,
    cast(ordered_at as date) as order_date

from typed
where
    order_id is not null
    and customer_id is not null
    and status is not null
    and quantity is not null
    and amount is not null
    and ordered_at is not null
    and {{ in_window('cast(ordered_at as date)') }}
