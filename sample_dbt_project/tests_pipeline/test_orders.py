"""Pipeline tests of the sample project, written with eltkit's pytest plugin.

Run them with ``pytest sample_dbt_project/tests_pipeline`` (add ``-n 2`` for two
workers). No conftest is needed: installing eltkit registers the plugin, which
finds the project from the test path and never touches target/jaffle.duckdb.
"""

from __future__ import annotations

import pytest


def test_completed_orders_only(eltkit):
    eltkit.given_source("jaffle", "raw_orders", rows=[
        {"id": 1, "customer_id": 7, "status": "completed", "amount_cents": 1200,
         "_loaded_at": "2026-11-01 06:00"},
        {"id": 2, "customer_id": 7, "status": "returned", "amount_cents": 500,
         "_loaded_at": "2026-11-01 06:00"},
    ])
    result = eltkit.build(select="+fct_orders")  # extract_orders is not run: its output is given
    assert result.ok, result.summary()
    assert "extract_orders" not in result
    assert eltkit.table("fct_orders", order_by="order_id") == [
        {"order_id": 1, "customer_id": 7, "amount": 12.0},
    ]


def test_order_status_daily_counts_each_status(eltkit):
    eltkit.given_source("jaffle.raw_orders", rows=[
        {"id": 1, "customer_id": 1, "order_date": "2026-11-01", "status": "completed",
         "amount_cents": 1000},
        {"id": 2, "customer_id": 2, "order_date": "2026-11-01", "status": "completed",
         "amount_cents": 250},
        {"id": 3, "customer_id": 2, "order_date": "2026-11-02", "status": "placed",
         "amount_cents": 700},
    ])
    eltkit.given_source("jaffle.raw_payments", rows=[])  # an empty table, no extract run
    result = eltkit.run(select="+order_status_daily")
    assert result.ok, result.summary()
    daily = eltkit.table("order_status_daily", where="status = 'completed'")
    assert daily.count() == 1
    assert eltkit.sql("select sum(order_count) as orders from order_status_daily") == [
        {"orders": 3}]


def test_given_seed_replaces_the_status_labels(eltkit):
    eltkit.given_seed("order_status_labels", rows=[
        {"status": "completed", "status_label": "Done", "is_final": True, "is_revenue": True,
         "sort_order": 1},
    ])
    result = eltkit.run(select="stg_order_status_labels")
    assert result.ok, result.summary()
    assert eltkit.table("stg_order_status_labels", columns=["status", "status_label"]) == [
        {"status": "completed", "status_label": "Done"}]


@pytest.mark.eltkit(select="+fct_customers")
def test_marts_from_the_extract_tasks(eltkit):
    # The marker ran the extract tasks (seeded, deterministic data) and the models.
    customers = eltkit.table("fct_customers")
    assert customers.count() > 0
    assert customers.where("completed_orders = 0").count() == 0
