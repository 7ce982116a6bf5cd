"""Rows of a relation, comparable to a list of dicts, as a test writes expectations.

``Table`` is a lazy query (``where``, ``order_by``, ``count``); comparing it runs
the query once and keeps the rows, so a failed assertion's diff shows exactly
the rows that were compared. Without ``order_by`` row order is ignored (SQL
promises none); with it, order counts. Numbers compare with a float tolerance,
so ``12.0`` from a DOUBLE equals ``12`` and a DECIMAL equals the float a test wrote.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from eltkit.errors import EltkitError

DIALECT = "duckdb"
#: (columns, DuckDB type names, rows) for a query and its bound parameters.
Fetch = Callable[[str, list[Any]], tuple[list[str], list[str], list[tuple[Any, ...]]]]


class TableQueryError(EltkitError):
    """A where or order_by a test wrote is not valid SQL."""


def values_equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    numbers = (int, float, decimal.Decimal)
    if (isinstance(left, float) or isinstance(right, float)) and isinstance(left, numbers) \
            and isinstance(right, numbers) and not isinstance(left, bool) \
            and not isinstance(right, bool):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-12)
    return bool(left == right)


def rows_equal(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    return set(left) == set(right) and all(values_equal(left[k], right[k]) for k in left)


class Rows(list[dict[str, Any]]):
    """Rows of a query: a list of dicts that also knows its columns and types."""

    def __init__(self, rows: Sequence[dict[str, Any]], *, label: str, columns: list[str],
                 types: list[str], ordered: bool) -> None:
        super().__init__(rows)
        self.label = label
        self.columns = columns
        self.types = dict(zip(columns, types, strict=False))
        self.ordered = ordered

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list):
            return NotImplemented
        expected = list(other)
        if len(expected) != len(self):
            return False
        if not all(isinstance(row, Mapping) for row in expected):
            return False
        if self.ordered:
            return all(rows_equal(a, e) for a, e in zip(self, expected, strict=True))
        remaining = list(self)
        for row in expected:
            for index, candidate in enumerate(remaining):
                if rows_equal(candidate, row):
                    del remaining[index]
                    break
            else:
                return False
        return True

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None


class Table:
    """A relation in the test's database; ``rows()``, ``count()``, or compare it to a list."""

    def __init__(self, fetch: Fetch, label: str, schema: str, name: str, *,
                 where: list[Any] | None = None,
                 params: list[Any] | None = None,
                 order: list[exp.Ordered] | None = None,
                 columns: Sequence[str] | None = None) -> None:
        self._fetch = fetch
        self.label = label
        self._schema = schema
        self._name = name
        self._where = list(where or [])
        self._params = list(params or [])
        self._order = list(order or [])
        self._columns = list(columns) if columns else None
        #: The rows of the last comparison (what a failed assertion's diff shows).
        self.compared: Rows | None = None

    # -- narrowing (each returns a new Table) ---------------------------------------------

    def where(self, condition: str | Mapping[str, Any] | None = None, /,
              **equals: Any) -> Table:
        """Only rows matching a SQL condition (``"amount > 10"``) or column=value pairs."""
        where, params = list(self._where), list(self._params)
        if isinstance(condition, str):
            try:
                where.append(sqlglot.condition(condition, dialect=DIALECT))
            except sqlglot.errors.ParseError as exc:
                raise TableQueryError(f"{self.label}: where {condition!r} is not a SQL "
                                      f"condition ({exc})") from exc
        elif condition is not None:
            equals = {**condition, **equals}
        for column, value in equals.items():
            column_ref = exp.column(column, quoted=True)
            if value is None:
                where.append(exp.Is(this=column_ref, expression=exp.Null()))
            else:
                where.append(exp.EQ(this=column_ref, expression=exp.Placeholder()))
                params.append(value)
        return self._with(where=where, params=params)

    def order_by(self, *columns: str) -> Table:
        """Rows in this order (``"order_id"``, ``"amount desc"``); order then counts."""
        order = []
        for item in columns:
            for part in item.split(","):
                words = part.split()
                if not words:
                    continue
                descending = len(words) > 1 and words[-1].lower() == "desc"
                if len(words) > 1 and words[-1].lower() in ("asc", "desc"):
                    words = words[:-1]
                ordered = exp.Ordered(this=exp.column(" ".join(words), quoted=True))
                if descending:
                    ordered.set("desc", True)
                order.append(ordered)
        return self._with(order=order)

    def select(self, *columns: str) -> Table:
        """Only these columns, to compare a few columns of a wide table."""
        return self._with(columns=list(columns))

    def _with(self, **changes: Any) -> Table:
        values: dict[str, Any] = {"where": self._where, "params": self._params,
                                  "order": self._order, "columns": self._columns}
        values.update(changes)
        return Table(self._fetch, self.label, self._schema, self._name, **values)

    # -- reading --------------------------------------------------------------------------

    def _query(self, projection: list[exp.Expression]) -> exp.Select:
        query = exp.select(*projection).from_(
            exp.table_(self._name, db=self._schema, quoted=True))
        for condition in self._where:
            query = query.where(condition)
        return query

    def rows(self) -> Rows:
        projection: list[exp.Expression] = (
            [exp.column(c, quoted=True) for c in self._columns] if self._columns
            else [exp.Star()])
        query = self._query(projection)
        if self._order:
            query = query.order_by(*self._order)
        columns, types, rows = self._fetch(query.sql(DIALECT), self._params)
        return Rows([dict(zip(columns, row, strict=True)) for row in rows], label=self._describe(),
                    columns=columns, types=types, ordered=bool(self._order))

    def count(self) -> int:
        query = self._query([exp.Count(this=exp.Star())])
        _, _, rows = self._fetch(query.sql(DIALECT), self._params)
        return int(rows[0][0])

    def _describe(self) -> str:
        parts = [self.label]
        if self._where:
            parts.append("where " + " and ".join(c.sql(DIALECT) for c in self._where))
        if self._order:
            parts.append("order by " + ", ".join(o.sql(DIALECT) for o in self._order))
        return " ".join(parts)

    # -- behaving like a list -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list | Rows):
            return NotImplemented
        self.compared = self.rows()
        return self.compared == other

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows()[index]

    def __repr__(self) -> str:
        return f"<eltkit table {self._describe()}>"
