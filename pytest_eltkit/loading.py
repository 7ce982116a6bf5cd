"""Load a test's given rows into a relation: the SQL is built by sqlglot, values are bound.

Rows come as a list of dicts, a CSV path, or a DuckDB relation. The table is
created with the columns the project declares for the relation (their declared
types when given), so a model selecting a column the test did not mention still
finds it (as NULL), and a column the relation does not have is an error naming
both, instead of a confusing failure deep inside the model's SQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from eltkit.errors import EltkitError

DIALECT = "duckdb"


class GivenRowsError(EltkitError):
    """Given rows do not fit the relation they are for."""


@dataclass(frozen=True)
class Relation:
    """Where given rows go, and what the project says about its columns."""

    what: str  # "source jaffle.raw_orders", for messages
    schema: str
    name: str
    #: Declared columns in order, with their declared type (None: not declared).
    columns: dict[str, str | None]
    #: When true, a column outside ``columns`` is an error.
    strict: bool
    declared_in: str | None = None


@dataclass(frozen=True)
class Data:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def read_data(data: Any, connection: Any, what: str) -> Data:
    """Rows as dicts, a CSV file, or a DuckDB relation, as columns and tuples."""
    __tracebackhide__ = True
    if isinstance(data, str | Path):
        path = Path(data)
        if not path.is_file():
            raise GivenRowsError(f"{what}: CSV file {path} does not exist")
        relation = connection.sql(
            exp.select("*").from_(
                exp.func("read_csv", exp.Literal.string(str(path)),
                         exp.EQ(this=exp.column("header"), expression=exp.true()))
            ).sql(DIALECT))
        return Data(list(relation.columns), list(relation.fetchall()))
    if hasattr(data, "columns") and hasattr(data, "fetchall") and not isinstance(data, list):
        return Data(list(data.columns), list(data.fetchall()))
    if isinstance(data, Mapping) or not isinstance(data, Sequence):
        raise GivenRowsError(
            f"{what}: rows must be a list of dicts, a CSV path or a DuckDB relation, "
            f"not {type(data).__name__}")
    columns: list[str] = []
    seen: set[str] = set()
    for index, row in enumerate(data):
        if not isinstance(row, Mapping):
            raise GivenRowsError(f"{what}: row {index} is a {type(row).__name__}, not a dict "
                                 "of column to value")
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(str(key))
    rows = [tuple(row.get(column) for column in columns) for row in data]
    return Data(columns, rows)


def load(connection: Any, relation: Relation, data: Data) -> int:
    """Replace ``relation`` with ``data``; returns the number of rows written."""
    __tracebackhide__ = True
    declared = {name.lower(): name for name in relation.columns}
    unknown = [column for column in data.columns if column.lower() not in declared]
    if unknown and relation.strict:
        where = f" (declared in {relation.declared_in})" if relation.declared_in else ""
        raise GivenRowsError(
            f"{relation.what} has no column {unknown[0]!r}; its columns are "
            f"{', '.join(relation.columns)}{where}; fix the rows or declare the column")
    given = {column.lower(): index for index, column in enumerate(data.columns)}
    names = list(relation.columns) + unknown
    types = []
    for name in names:
        declared_type = relation.columns.get(name)
        index = given.get(name.lower())
        values = [row[index] for row in data.rows] if index is not None else []
        types.append(_data_type(declared_type, values, relation.what, name))
    table = exp.table_(relation.name, db=relation.schema, quoted=True)
    create_schema = exp.Create(this=exp.to_identifier(relation.schema, quoted=True),
                               kind="SCHEMA", exists=True)
    create_table = exp.Create(
        this=exp.Schema(this=table.copy(), expressions=[
            exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=kind)
            for name, kind in zip(names, types, strict=True)]),
        kind="TABLE", replace=True)
    connection.execute(create_schema.sql(DIALECT))
    connection.execute(create_table.sql(DIALECT))
    if not data.rows:
        return 0
    target_columns = [declared.get(column.lower(), column) for column in data.columns]
    insert = exp.insert(
        exp.values([tuple(exp.Placeholder() for _ in data.columns)]), table.copy(),
        columns=[exp.to_identifier(name, quoted=True) for name in target_columns])
    try:
        connection.executemany(insert.sql(DIALECT), data.rows)
    except Exception as exc:  # any DuckDB error becomes one line
        message = " ".join(str(exc).split("\n")[0].split())
        raise GivenRowsError(f"{relation.what}: the given rows do not load: {message}") from exc
    return len(data.rows)


def _data_type(declared: str | None, values: list[Any], what: str, column: str) -> exp.DataType:
    __tracebackhide__ = True
    if declared:
        try:
            return exp.DataType.build(declared, dialect=DIALECT)
        except (sqlglot.errors.ParseError, ValueError) as exc:
            raise GivenRowsError(f"{what}: column {column!r} declares data_type {declared!r}, "
                                 f"which is not a DuckDB type ({exc})") from exc
    return exp.DataType.build(infer_type(values), dialect=DIALECT)


def infer_type(values: list[Any]) -> str:
    """A column type from Python values, for columns the project gives no type."""
    present = [value for value in values if value is not None]
    if not present:
        return "VARCHAR"
    kinds = {type(value) for value in present}
    if kinds <= {bool}:
        return "BOOLEAN"
    if kinds <= {int}:
        return "BIGINT"
    if kinds <= {int, float}:
        return "DOUBLE"
    if kinds <= {int, decimal.Decimal}:
        return "DECIMAL(38, 10)"
    if kinds <= {dt.datetime}:
        return "TIMESTAMP"
    if kinds <= {dt.date}:
        return "DATE"
    if kinds <= {dt.time}:
        return "TIME"
    if kinds <= {uuid.UUID}:
        return "UUID"
    if kinds <= {bytes}:
        return "BLOB"
    return "VARCHAR"


def source_relation(node: Any) -> Relation:
    """A source table: the columns its YAML declares are the contract given rows must meet."""
    raw = node.raw or {}
    columns = {name: (column or {}).get("data_type") or None
               for name, column in (raw.get("columns") or {}).items()}
    return Relation(
        what=f"source {node.source_name}.{node.name}",
        schema=str(raw.get("schema") or "main"),
        name=str(raw.get("identifier") or node.name),
        columns=columns, strict=bool(columns),
        declared_in=raw.get("original_file_path") or node.original_file_path,
    )


def node_relation(node: Any, existing: Sequence[tuple[str, str]] | None) -> Relation:
    """A model or seed replaced by given rows.

    A seed's columns are its table's columns (loaded in the template), so they
    are strict. A model's YAML often documents only some columns, so they are
    strict only when the model enforces a contract.
    """
    raw = node.raw or {}
    if existing:
        columns: dict[str, str | None] = dict(existing)
        strict = True
    else:
        columns = {name: (column or {}).get("data_type") or None
                   for name, column in (raw.get("columns") or {}).items()}
        contract = (raw.get("config") or {}).get("contract") or {}
        strict = bool(columns) and bool(contract.get("enforced"))
    return Relation(
        what=f"{node.resource_type} {node.name}",
        schema=str(raw.get("schema") or "main"),
        name=str(raw.get("alias") or node.name),
        columns=columns, strict=strict,
        declared_in=raw.get("patch_path") or node.original_file_path,
    )
