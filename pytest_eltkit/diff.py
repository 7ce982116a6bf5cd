"""A per-row, per-column diff of table rows against expected rows, with types.

pytest's default list diff prints two long reprs and an index; a person then
hunts for the one cell that differs, and cannot see that ``'12.0'`` is a string
and ``12.0`` a float. This names the row, the column, both values and both
types, and which rows are missing or unexpected (syrupy's habit: the diff goes
through ``pytest_assertrepr_compare``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pytest_eltkit.tables import Rows, Table, rows_equal, values_equal

MAX_ROWS_SHOWN = 20


def explain(op: str, left: Any, right: Any) -> list[str] | None:
    """The lines pytest shows for ``assert table == rows`` (either side), else None."""
    if op != "==":
        return None
    if isinstance(right, Table | Rows) and not isinstance(left, Table | Rows):
        left, right = right, left
    if isinstance(left, Table):
        left = left.compared if left.compared is not None else left.rows()
    if not isinstance(left, Rows) or not isinstance(right, list):
        return None
    return diff_rows(left, right)


def diff_rows(actual: Rows, expected: Sequence[Any]) -> list[str]:
    if not all(isinstance(row, Mapping) for row in expected):
        return [f"{actual.label}: expected rows must be dicts of column to value"]
    mode = "in this order" if actual.ordered else "in any order (no order_by)"
    lines = [f"{actual.label}: {len(actual)} row(s) in the table, {len(expected)} expected, "
             f"compared {mode}"]
    expected_columns: list[str] = []
    for row in expected:
        expected_columns += [c for c in row if c not in expected_columns]
    only_table = [c for c in actual.columns if c not in expected_columns]
    only_expected = [c for c in expected_columns if c not in actual.columns]
    if only_table:
        lines.append(f"columns only in the table: {', '.join(only_table)}")
    if only_expected:
        lines.append(f"columns only in the expected rows: {', '.join(only_expected)}")
    if actual.ordered:
        pairs = _pairs_in_order(list(actual), list(expected))
    else:
        pairs = _pairs_any_order(list(actual), list(expected))
    shown = 0
    for label, got, want in pairs:
        if shown >= MAX_ROWS_SHOWN:
            lines.append(f"... and {len(pairs) - shown} more differing row(s)")
            break
        shown += 1
        if got is None:
            lines.append(f"{label}: missing from the table: {_row(want)}")
        elif want is None:
            lines.append(f"{label}: unexpected in the table: {_row(got)}")
        else:
            lines.append(f"{label}:")
            for column in [*actual.columns, *[c for c in want if c not in actual.columns]]:
                in_got, in_want = column in got, column in want
                if in_got and in_want and values_equal(got[column], want[column]):
                    continue
                table_side = (_value(got[column], actual.types.get(column)) if in_got
                              else "(no such column)")
                want_side = _value(want[column], None) if in_want else "(not expected)"
                lines.append(f"    {column}: table {table_side} != expected {want_side}")
    if len(lines) == 1 + bool(only_table) + bool(only_expected):
        lines.append("every row matches; the row counts differ")
    return lines


def _pairs_in_order(actual: list[dict[str, Any]], expected: list[Mapping[str, Any]]
                    ) -> list[tuple[str, Any, Any]]:
    pairs = []
    for index in range(max(len(actual), len(expected))):
        got = actual[index] if index < len(actual) else None
        want = expected[index] if index < len(expected) else None
        if got is not None and want is not None and rows_equal(got, want):
            continue
        pairs.append((f"row {index}", got, want))
    return pairs


def _pairs_any_order(actual: list[dict[str, Any]], expected: list[Mapping[str, Any]]
                     ) -> list[tuple[str, Any, Any]]:
    """Drop rows that match exactly, then pair each expected row with the table row
    sharing the most values, so the diff shows the cells that differ."""
    got_left = list(actual)
    want_left: list[Mapping[str, Any]] = []
    for row in expected:
        for index, candidate in enumerate(got_left):
            if rows_equal(candidate, row):
                del got_left[index]
                break
        else:
            want_left.append(row)
    pairs: list[tuple[str, Any, Any]] = []
    for want in want_left:
        best, best_score = None, 0
        for index, got in enumerate(got_left):
            score = sum(1 for c in want if c in got and values_equal(got[c], want[c]))
            if score > best_score:
                best, best_score = index, score
        number = expected.index(want)
        if best is None:
            pairs.append((f"expected row {number}", None, want))
        else:
            pairs.append((f"expected row {number}", got_left.pop(best), want))
    for got in got_left:
        pairs.append((f"table row {actual.index(got)}", got, None))
    return pairs


def _value(value: Any, duckdb_type: str | None) -> str:
    kind = type(value).__name__ if value is not None else "NULL"
    if duckdb_type:
        kind = f"{kind}, {duckdb_type}"
    return f"{value!r} ({kind})"


def _row(row: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in row.items()) + "}"
