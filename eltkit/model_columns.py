"""After a run: record the columns of what it built, read from DuckDB's catalog.

``eltkit health`` reports schema changes (columns added, removed, retyped)
between runs, which needs each relation's columns as the warehouse saw them
after every run. The run already holds the warehouse (DuckDB has one writer
process), so the run itself reads ``information_schema.columns`` once for all
the relations it built. dbt-duckdb does not report rows affected for table
models, so the same pass fills them in from the catalog's row counts.
Targets other than a DuckDB file are skipped: their catalog is the adapter's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from eltkit.graph.nodes import BUILDABLE_TYPES
from eltkit.run.executor import NodeState
from eltkit.run.plan import Plan
from eltkit.state.health import fill_rows_affected, record_model_columns
from eltkit.state.store import HistoryStore
from eltkit.warehouse import Target, open_duckdb

_PASSED = frozenset({"success", "warn"})
Relation = tuple[str, str, str]


def built_relations(plan: Plan, states: Mapping[str, NodeState],
                    default_database: str) -> dict[Relation, str]:
    """``(database, schema, identifier)`` (case-folded, as DuckDB matches names) of each
    model, seed and snapshot the run built successfully, to its unique id."""
    found: dict[Relation, str] = {}
    for uid in plan.nodes:
        node = plan.node(uid)
        if node.resource_type not in BUILDABLE_TYPES or states[uid].status not in _PASSED:
            continue
        raw = node.raw or {}
        schema = raw.get("schema")
        if not schema:
            continue
        identifier = raw.get("alias") or raw.get("identifier") or node.name
        database = raw.get("database") or default_database
        found[(str(database).casefold(), str(schema).casefold(), str(identifier).casefold())] = uid
    return found


def read_catalog(connection: Any, relations: Mapping[Relation, str]) -> tuple[
        dict[str, list[list[str]]], dict[str, int]]:
    """Columns of each relation, and the row count of each table, in two catalog queries."""
    schemas = sorted({schema for _db, schema, _name in relations})
    marks = ", ".join("?" for _ in schemas)
    columns: dict[str, list[list[str]]] = {}
    for database, schema, name, column, kind in connection.execute(
            "SELECT table_catalog, table_schema, table_name, column_name, data_type"
            " FROM information_schema.columns"
            f" WHERE lower(table_schema) IN ({marks})"
            " ORDER BY table_catalog, table_schema, table_name, ordinal_position",
            schemas).fetchall():
        uid = relations.get((database.casefold(), schema.casefold(), name.casefold()))
        if uid is not None:
            columns.setdefault(uid, []).append([column, kind])
    rows: dict[str, int] = {}
    for database, schema, name, size in connection.execute(
            "SELECT database_name, schema_name, table_name, estimated_size FROM duckdb_tables()"
            f" WHERE lower(schema_name) IN ({marks})", schemas).fetchall():
        uid = relations.get((database.casefold(), schema.casefold(), name.casefold()))
        if uid is not None and size is not None:
            rows[uid] = int(size)
    return columns, rows


def record_built_columns(plan: Plan, states: Mapping[str, NodeState], store: HistoryStore,
                         run_id: str, target: Target, connection: Any = None) -> None:
    """Record the run's built columns (and table models' row counts) in the history.

    Never fails the run: the run's results are already recorded, and a catalog
    read that fails only costs the health figures this one run.
    """
    if not target.is_duckdb_file or target.duckdb_path is None:
        return
    default_database = target.duckdb_path.replace("\\", "/").rsplit("/", 1)[-1]
    default_database = default_database.split(".", 1)[0]
    relations = built_relations(plan, states, default_database)
    if not relations:
        return
    opened = None
    try:
        if connection is None:
            connection = opened = open_duckdb(target)
        columns, counts = read_catalog(connection, relations)
        record_model_columns(store, run_id, columns)
        tables = {uid: count for uid, count in counts.items()
                  if plan.node(uid).materialized in ("table", "seed")}
        fill_rows_affected(store, run_id, tables)
    except Exception as exc:
        logging.getLogger("eltkit").warning("recording built columns failed", exc_info=True)
        store.log(run_id, None, "warning",
                  f"could not record the built models' columns for `eltkit health`: {exc}")
    finally:
        if opened is not None:
            opened.close()
