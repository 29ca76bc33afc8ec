-- Customer snapshots straight from the landing JSON-lines files of the build's arrival days:
-- typed, normalised, PII tokenised. Unreadable lines and rows without their required fields are
-- dropped (the platform quarantines them), and so are snapshots outside the build's days.

with

source as (

    select
        *,
        {{ arrival_date() }} as arrival_date

    from read_json(
        '{{ var("landing_root") }}/customers/*/*.jsonl',
        format = 'newline_delimited', ignore_errors = true, filename = true,
        columns = {
            customer_id: 'VARCHAR', email: 'VARCHAR', full_name: 'VARCHAR', segment: 'VARCHAR',
            city: 'VARCHAR', country: 'VARCHAR', signup_at: 'VARCHAR', updated_at: 'VARCHAR',
            snapshot_at: 'VARCHAR'
        }
    )
    where {{ arrival_day_filter() }}

),

typed as (

    select
        customer_id,
        {{ tokenize('email') }} as email_token,
        {{ tokenize('full_name') }} as full_name_token,
        lower(trim(segment)) as segment,
        city,
        upper(trim(country)) as country,
        try_cast(signup_at as timestamptz) as signup_at,
        try_cast(updated_at as timestamptz) as updated_at,
        try_cast(snapshot_at as timestamptz) as snapshot_at,
        arrival_date,
        filename as source_file

    from source

)

select *
from typed
where
    customer_id is not null
    and segment is not null
    and updated_at is not null
    and snapshot_at is not null
    and {{ in_window('cast(snapshot_at as date)') }}
