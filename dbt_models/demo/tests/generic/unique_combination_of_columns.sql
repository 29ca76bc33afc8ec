{% test unique_combination_of_columns(model, combination_of_columns) %}
-- Rows that share the same values of all the given columns (dbt_utils has the same test; the
-- dbt package hub is not reachable from every machine this runs on, so it lives here).
select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
