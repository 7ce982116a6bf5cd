"""Comparing rows and explaining differences, without dbt: the rules the diff relies on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pytest_eltkit.diff import diff_rows
from pytest_eltkit.tables import Rows


def rows(data: list[dict[str, object]], *, ordered: bool,
         types: list[str] | None = None) -> Rows:
    columns = list(data[0]) if data else ["order_id", "amount"]
    return Rows(data, label="fct_orders", columns=columns,
                types=types or ["INTEGER", "DOUBLE"], ordered=ordered)


def test_without_order_by_row_order_is_ignored_with_it_it_counts() -> None:
    table = [{"order_id": 1, "amount": 12.0}, {"order_id": 2, "amount": 5.0}]
    expected = list(reversed(table))
    assert rows(table, ordered=False) == expected
    assert rows(table, ordered=True) != expected


def test_numbers_compare_with_float_tolerance_other_types_exactly() -> None:
    assert rows([{"order_id": 1, "amount": Decimal("19.99")}], ordered=True) == [
        {"order_id": 1, "amount": 19.99}]
    assert rows([{"order_id": 1, "amount": 12.0}], ordered=True) == [
        {"order_id": 1, "amount": 12}]
    assert rows([{"order_id": 1, "amount": dt.date(2026, 11, 1)}], ordered=True) != [
        {"order_id": 1, "amount": "2026-11-01"}]
    # Duplicates count: two equal table rows do not match one expected row twice.
    assert rows([{"order_id": 1, "amount": 1.0}] * 2, ordered=False) != [
        {"order_id": 1, "amount": 1.0}, {"order_id": 2, "amount": 1.0}]


def test_diff_in_any_order_pairs_the_closest_rows() -> None:
    table = rows([{"order_id": 1, "amount": 12.0}, {"order_id": 3, "amount": 7.0}],
                 ordered=False)
    lines = diff_rows(table, [{"order_id": 3, "amount": 7.0}, {"order_id": 1, "amount": "12.0"},
                              {"order_id": 4, "amount": 1.0}])
    assert lines == [
        "fct_orders: 2 row(s) in the table, 3 expected, compared in any order (no order_by)",
        "expected row 1:",
        "    amount: table 12.0 (float, DOUBLE) != expected '12.0' (str)",
        "expected row 2: missing from the table: {order_id: 4, amount: 1.0}",
    ]


def test_diff_names_columns_on_one_side_only() -> None:
    table = rows([{"order_id": 1, "amount": 12.0}], ordered=True)
    lines = diff_rows(table, [{"order_id": 1, "total": 12.0}])
    assert lines == [
        "fct_orders: 1 row(s) in the table, 1 expected, compared in this order",
        "columns only in the table: amount",
        "columns only in the expected rows: total",
        "row 0:",
        "    amount: table 12.0 (float, DOUBLE) != expected (not expected)",
        "    total: table (no such column) != expected 12.0 (float)",
    ]
