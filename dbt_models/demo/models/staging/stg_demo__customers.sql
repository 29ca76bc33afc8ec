with

source as (

    select * from {{ source('silver', 'customers') }}

),

renamed as (

    select
        customer_id,
        email as email_token,
        full_name as full_name_token,
        segment,
        city,
        country,
        signup_at,
        valid_from,
        valid_to,
        is_current,
        dq_valid

    from source

)

select * from renamed
