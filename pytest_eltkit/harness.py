"""The object a pipeline test talks to: give input rows, run a slice, read tables.

Every harness owns one DuckDB file (a copy of the worker's seeded template), so
tests never see each other's rows and can run in any order or in parallel. The
harness opens a connection only for the moment it needs one and closes it
again, the way dbt-duckdb expects to find the file, so no lock outlives a call.
"""

from __future__ import annotations

import contextlib
import difflib
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from eltkit.errors import EltkitError
from eltkit.graph.nodes import SEED, SOURCE, TASK
from pytest_eltkit.loading import load as load_rows
from pytest_eltkit.loading import node_relation, read_data, source_relation
from pytest_eltkit.results import NodeResult, RunResult, compiled_sql_path
from pytest_eltkit.session import PipelineSession, Workspace
from pytest_eltkit.tables import Rows, Table

#: Relations a test can read by name.
_READABLE = frozenset({"model", "seed", "snapshot"})


class HarnessError(EltkitError):
    """A test asked for something the project does not have."""


class NothingSelectedError(HarnessError):
    """A selection matched no node the command runs."""


class Pipeline:
    """Input rows in, a slice of the pipeline run, output rows out, in one DuckDB file."""

    def __init__(self, session: PipelineSession, workspace: Workspace) -> None:
        self.session = session
        self.workspace = workspace
        #: Nodes whose relation the test gave: tasks producing them, and they, are not run.
        self._given: dict[str, str] = {}
        self.runs: list[RunResult] = []

    @property
    def database(self) -> Path:
        """This harness's DuckDB file (open it read-only to look around after a test)."""
        return self.workspace.database

    @property
    def target_path(self) -> Path:
        return self.workspace.target_path

    @property
    def project(self) -> Any:
        return self.session.project

    # -- inputs ---------------------------------------------------------------------------

    def given_source(self, source: str, table: str | None = None, rows: Any = None) -> int:
        """Replace a source table with ``rows`` (dicts, a CSV path or a DuckDB relation).

        ``given_source("jaffle", "raw_orders", rows)`` or ``given_source("jaffle.raw_orders",
        rows=rows)``. The Python tasks that produce this source are then not run.
        """
        __tracebackhide__ = True
        if table is None:
            source, _, table = source.partition(".")
        node = self._source_node(source, table)
        relation = source_relation(node)
        written = self._load(relation, rows)
        self._given[node.unique_id] = f"source {source}.{table}"
        return written

    def given_ref(self, name: str, rows: Any) -> int:
        """Replace a model's relation with ``rows``; the model is then not run."""
        __tracebackhide__ = True
        node = self._named_node(name, ("model", "snapshot"), "model")
        written = self._load(node_relation(node, None), rows)
        self._given[node.unique_id] = f"{node.resource_type} {node.name}"
        return written

    def given_seed(self, name: str, rows: Any) -> int:
        """Replace a seed's rows (every test starts from the CSV files otherwise)."""
        __tracebackhide__ = True
        node = self._named_node(name, (SEED,), "seed")
        raw = node.raw or {}
        schema = str(raw.get("schema") or "main")
        alias = str(raw.get("alias") or node.name)
        with self.connect() as connection:
            existing = connection.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, alias]).fetchall()
        written = self._load(node_relation(node, [(c, t) for c, t in existing]), rows)
        self._given[node.unique_id] = f"seed {node.name}"
        return written

    def _load(self, relation: Any, rows: Any) -> int:
        __tracebackhide__ = True
        if rows is None:
            raise HarnessError(f"{relation.what}: no rows given; pass rows=[{{...}}], a CSV "
                               "path or a DuckDB relation")
        with self.connect() as connection:
            data = read_data(rows, connection, relation.what)
            return load_rows(connection, relation, data)

    # -- running --------------------------------------------------------------------------

    def run(self, select: str | Sequence[str] | None = None,
            exclude: str | Sequence[str] | None = None, **options: Any) -> RunResult:
        """Run the tasks and models of a selection (``eltkit run``)."""
        __tracebackhide__ = True
        return self._execute("run", select, exclude, **options)

    def build(self, select: str | Sequence[str] | None = None,
              exclude: str | Sequence[str] | None = None, **options: Any) -> RunResult:
        """Tasks, models, snapshots and their tests, in order (``eltkit build``)."""
        __tracebackhide__ = True
        return self._execute("build", select, exclude, **options)

    def test(self, select: str | Sequence[str] | None = None,
             exclude: str | Sequence[str] | None = None, **options: Any) -> RunResult:
        """The data tests and unit tests of a selection (``eltkit test``)."""
        __tracebackhide__ = True
        return self._execute("test", select, exclude, **options)

    def _execute(self, command: str, select: str | Sequence[str] | None,
                 exclude: str | Sequence[str] | None, *, vars: dict[str, Any] | None = None,
                 indirect_selection: str = "buildable", fail_fast: bool = False) -> RunResult:
        __tracebackhide__ = True
        from eltkit.run.plan import COMMAND_TYPES

        selects, excludes = _as_list(select), _as_list(exclude)
        graph = self.project.graph
        selected = self.project.select(selects or None, excludes or None,
                                       indirect_selection=indirect_selection).selected
        described = " ".join(selects) or "(everything)"
        if not selected:
            raise NothingSelectedError(
                f"{command}(select={described!r}) matches no node of project "
                f"{self.project.name}; check the names (`eltkit ls --select {described}` "
                "lists what a selection matches)")
        kinds = COMMAND_TYPES[command]
        runnable = {uid for uid in selected if graph.nodes[uid].resource_type in kinds}
        if not runnable:
            found = sorted({graph.nodes[uid].resource_type for uid in selected})
            raise NothingSelectedError(
                f"{command}(select={described!r}) matches only {', '.join(found)} nodes, "
                f"none that {command} runs")
        skipped = self._given_and_producers(runnable)
        # Seeds are in the template already; given nodes were loaded by the test.
        planned = {uid for uid in runnable - set(skipped)
                   if graph.nodes[uid].resource_type != SEED}
        started = time.monotonic()
        selection = {"select": selects, "exclude": excludes}
        status, nodes, message = "success", [], None
        if planned:  # everything selected may have been given by the test
            outcome = self.session.execute(self.workspace, command, planned,
                                           selection=selection, vars=vars, fail_fast=fail_fast)
            status, message = outcome.run.status, outcome.run.message
            nodes = [self._node_result(record) for record in outcome.nodes]
        result = RunResult(
            command=command, selection=selection, status=status, nodes=nodes,
            duration_s=time.monotonic() - started, log_file=self.workspace.log_file,
            database=self.workspace.database, message=message,
            skipped_as_given=[skipped[uid] for uid in sorted(skipped)],
        )
        self.runs.append(result)
        return result

    def _given_and_producers(self, runnable: set[str]) -> dict[str, str]:
        """Given nodes in the plan, and tasks whose every produced source was given."""
        graph = self.project.graph
        skipped = {uid: f"{why} (given by the test)" for uid, why in self._given.items()
                   if uid in runnable}
        for uid in runnable:
            if graph.nodes[uid].resource_type != TASK:
                continue
            produced = [child for child in graph.children_of(uid)
                        if graph.nodes[child].resource_type == SOURCE]
            if produced and all(child in self._given for child in produced):
                given = ", ".join(self._given[child] for child in produced)
                skipped[uid] = f"task {graph.nodes[uid].name} ({given} given by the test)"
        return skipped

    def _node_result(self, record: Any) -> NodeResult:
        node = self.project.graph.nodes.get(record.unique_id)
        compiled = (compiled_sql_path(self.workspace.target_path, node)
                    if node is not None and node.resource_type != TASK else None)
        return NodeResult(
            unique_id=record.unique_id, name=record.name, resource_type=record.resource_type,
            status=record.status, duration_s=record.duration_s,
            rows_affected=record.rows_affected, message=record.message,
            compiled_sql=compiled)

    # -- outputs --------------------------------------------------------------------------

    def table(self, name: str, *, where: str | Mapping[str, Any] | None = None,
              order_by: str | Sequence[str] | None = None,
              columns: Sequence[str] | None = None) -> Table:
        """A model, seed, snapshot (by name) or source (``"jaffle.raw_orders"``), or any
        ``"schema.table"``; compare it to a list of dicts, or call ``count()``."""
        __tracebackhide__ = True
        label, schema, identifier = self._relation(name)
        table = Table(self._fetch, label, schema, identifier, columns=columns)
        if where is not None:
            table = table.where(where)
        if order_by is not None:
            table = table.order_by(*_as_list(order_by))
        return table

    def sql(self, query: str, params: Sequence[Any] | None = None) -> Rows:
        """Rows of any SQL query against this test's database."""
        columns, types, rows = self._fetch(query, list(params or []))
        return Rows([dict(zip(columns, row, strict=True)) for row in rows], label="query",
                    columns=columns, types=types, ordered=True)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A DuckDB connection to this test's database, closed when the block ends.

        Opened as dbt-duckdb opens it (read-write, default config), so it shares
        DuckDB's database instance with dbt if one is open in this process.
        """
        import duckdb

        connection = duckdb.connect(str(self.workspace.database), read_only=False, config={})
        try:
            yield connection
        finally:
            connection.close()

    def _fetch(self, query: str, params: list[Any]) -> tuple[list[str], list[str],
                                                               list[tuple[Any, ...]]]:
        __tracebackhide__ = True
        import duckdb

        with self.connect() as connection:
            try:
                cursor = connection.execute(query, params)
            except duckdb.CatalogException as exc:
                first = str(exc).splitlines()[0]
                raise HarnessError(f"{first}; build it first (eltkit.build(select=...)) "
                                   f"or give it (eltkit.given_ref/given_source)") from None
            except duckdb.Error as exc:
                first = " ".join(str(exc).splitlines()[0].split())
                raise HarnessError(f"query failed: {first}\n  {query}") from None
            description = cursor.description or []
            rows = cursor.fetchall()
        return ([d[0] for d in description], [str(d[1]) for d in description], rows)

    # -- resolving names ------------------------------------------------------------------

    def _source_node(self, source: str, table: str) -> Any:
        __tracebackhide__ = True
        graph = self.project.graph
        sources = {f"{node.source_name}.{node.name}": node for node in graph.nodes.values()
                   if node.resource_type == SOURCE}
        key = f"{source}.{table}"
        if key not in sources:
            close = difflib.get_close_matches(key, list(sources), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise HarnessError(
                f"project {self.project.name} has no source {key}{hint} (sources are: "
                f"{', '.join(sorted(sources)) or 'none'})")
        return sources[key]

    def _named_node(self, name: str, kinds: tuple[str, ...], noun: str) -> Any:
        __tracebackhide__ = True
        graph = self.project.graph
        matches = [node for node in graph.nodes.values()
                   if node.resource_type in kinds and name in (node.name, node.unique_id)]
        if len(matches) == 1:
            return matches[0]
        names = sorted({n.name for n in graph.nodes.values() if n.resource_type in kinds})
        if not matches:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise HarnessError(f"project {self.project.name} has no {noun} {name!r}{hint}")
        raise HarnessError(f"{name!r} names several {noun}s ("
                           f"{', '.join(n.unique_id for n in matches)}); use the unique id")

    def _relation(self, name: str) -> tuple[str, str, str]:
        __tracebackhide__ = True
        graph = self.project.graph
        for node in graph.nodes.values():
            if node.resource_type in _READABLE and name in (node.name, node.unique_id):
                raw = node.raw or {}
                return (node.name, str(raw.get("schema") or "main"),
                        str(raw.get("alias") or node.name))
        if "." in name:
            first, _, second = name.partition(".")
            for node in graph.nodes.values():
                if node.resource_type == SOURCE and (node.source_name, node.name) == (
                        first, second):
                    raw = node.raw or {}
                    return (name, str(raw.get("schema") or "main"),
                            str(raw.get("identifier") or node.name))
            return name, first, second
        names = sorted(n.name for n in graph.nodes.values() if n.resource_type in _READABLE)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise HarnessError(
            f"{name!r} is not a model, seed or snapshot of project {self.project.name}{hint}; "
            "for a source write 'source_name.table', for any relation 'schema.table'")


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [str(item) for item in value]
