"""Everything that touches dbt-core lives here; nothing else imports dbt."""
