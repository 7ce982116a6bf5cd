{#- Money is stored in integer cents upstream; marts report it as a double in dollars. -#}
{% macro cents_to_dollars(column_name, precision=2) -%}
    round(cast({{ column_name }} as double) / 100.0, {{ precision }})
{%- endmacro %}
