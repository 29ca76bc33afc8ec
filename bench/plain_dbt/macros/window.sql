{#- The days a build rewrites and the landing files it reads (see dbt_project.yml). -#}

{% macro window_start() -%}
    {{- (modules.datetime.date.fromisoformat(var('start_date') | string)
         - modules.datetime.timedelta(days=var('lookback_days') | int)).isoformat() -}}
{%- endmacro %}

{% macro window_end() -%}
    {{- (var('end_date') | string) -}}
{%- endmacro %}

{#- Files of arrival days window_start - 1 .. window_end + lookback_days can hold the window's rows
    (a file may hold rows of the next day's first minutes, and rows arrive up to lookback_days
    late). The day is the file's folder; DuckDB prunes the other files before reading them. -#}
{% macro arrival_day_filter(filename_column='filename') -%}
    {{ arrival_date(filename_column) }} between
        date '{{ window_start() }}' - interval 1 day
        and date '{{ window_end() }}' + interval {{ var('lookback_days') | int }} day
{%- endmacro %}

{% macro arrival_date(filename_column='filename') -%}
    cast(regexp_extract({{ filename_column }}, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) as date)
{%- endmacro %}

{% macro in_window(column) -%}
    {{ column }} between date '{{ window_start() }}' and date '{{ window_end() }}'
{%- endmacro %}

{#- PII: SHA-256 of a secret key and the value (the platform uses HMAC-SHA256: same cost class). -#}
{% macro tokenize(column) -%}
    sha256('{{ env_var("PLAIN_DBT_PII_KEY") }}' || {{ column }})
{%- endmacro %}
