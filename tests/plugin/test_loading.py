"""Given rows into DuckDB: dicts, a CSV file and a DuckDB relation, checked against the
declared columns (no dbt needed: the loader works on any DuckDB connection)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pytest_eltkit.loading import GivenRowsError, Relation, load, read_data

ORDERS = Relation(
    what="source jaffle.raw_orders", schema="raw", name="raw_orders",
    columns={"id": "integer", "status": "varchar", "_loaded_at": "timestamp"},
    strict=True, declared_in="models/staging/_sources.yml")


@pytest.fixture
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    yield con
    con.close()


def table(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute('select * from "raw"."raw_orders" order by id').fetchall()


def test_dicts_get_every_declared_column_with_its_type(
        connection: duckdb.DuckDBPyConnection) -> None:
    data = read_data([{"id": "2", "_loaded_at": "2026-11-01 06:00"}, {"id": 1}], connection,
                     ORDERS.what)
    assert load(connection, ORDERS, data) == 2
    assert table(connection) == [(1, None, None), (2, None, dt.datetime(2026, 11, 1, 6, 0))]
    types = connection.execute("select column_name, data_type from information_schema.columns "
                               "where table_name = 'raw_orders'").fetchall()
    assert types == [("id", "INTEGER"), ("status", "VARCHAR"), ("_loaded_at", "TIMESTAMP")]


def test_csv_file_and_duckdb_relation(connection: duckdb.DuckDBPyConnection,
                                      tmp_path: Path) -> None:
    csv = tmp_path / "orders.csv"
    csv.write_text("id,status\n1,completed\n2,returned\n")
    load(connection, ORDERS, read_data(csv, connection, ORDERS.what))
    assert table(connection) == [(1, "completed", None), (2, "returned", None)]

    relation = connection.sql("select 3 as id, 'placed' as status")
    load(connection, ORDERS, read_data(relation, connection, ORDERS.what))
    assert table(connection) == [(3, "placed", None)]


def test_a_column_the_source_does_not_have_is_named(
        connection: duckdb.DuckDBPyConnection) -> None:
    data = read_data([{"id": 1, "amount": 3}], connection, ORDERS.what)
    with pytest.raises(GivenRowsError, match=(
            r"^source jaffle.raw_orders has no column 'amount'; its columns are id, status, "
            r"_loaded_at \(declared in models/staging/_sources.yml\)")):
        load(connection, ORDERS, data)


def test_a_value_that_does_not_fit_its_type_names_the_relation(
        connection: duckdb.DuckDBPyConnection) -> None:
    data = read_data([{"id": "abc"}], connection, ORDERS.what)
    with pytest.raises(GivenRowsError, match=r"^source jaffle.raw_orders: the given rows do not "
                                             r"load: Conversion Error: .*'abc'"):
        load(connection, ORDERS, data)


def test_undeclared_columns_take_types_from_the_values(
        connection: duckdb.DuckDBPyConnection) -> None:
    loose = Relation(what="model stg_orders", schema="main", name="stg_orders", columns={},
                     strict=False)
    load(connection, loose, read_data([{"order_id": 1, "amount": 1.5, "day": dt.date(2026, 1, 2)}],
                                      connection, loose.what))
    assert [row[1] for row in connection.execute("describe stg_orders").fetchall()] == [
        "BIGINT", "DOUBLE", "DATE"]
