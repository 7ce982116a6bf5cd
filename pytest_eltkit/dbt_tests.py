"""dbt data tests and unit tests as pytest items (``--eltkit-dbt-tests``).

Each test becomes an item whose node id is the YAML (or SQL) file that declares
it and the test's name, ``models/marts/_marts.yml::unique_fct_orders_order_id``,
so ``-k``, ``--lf``, ``-n`` and JUnit XML treat dbt tests like any other test.

Running one dbt invocation per item would pay dbt's start-up per test, so the
first item a process runs builds what the selected tests read (tasks, models,
snapshots; seeds are in the template) and runs every selected dbt test in one
``dbt test``; each item then reports its own test's result. Under xdist each
worker does that for the items it was given plus the rest of the selection, so
no item's result depends on another worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from pytest_eltkit.state import session_for

FAILING_ROWS_SHOWN = 5


class DbtTestFailed(Exception):
    """A dbt test's result was error or fail; the message says why."""


def collect(session: pytest.Session) -> list[pytest.Item]:
    """One item per dbt test of the root project, grouped by the file declaring it."""
    pipeline = session_for(session.config)
    graph = pipeline.project.graph
    dbt_root = pipeline.source_root / _relative_dbt_dir(pipeline)
    by_file: dict[str, list[Any]] = {}
    for node in graph.nodes.values():
        if node.is_test and node.package_name == pipeline.project.name:
            by_file.setdefault(node.original_file_path, []).append(node)
    items: list[pytest.Item] = []
    for relative in sorted(by_file):
        collector = DbtTestFile.from_parent(session, path=dbt_root / relative)
        found: list[pytest.Item | pytest.Collector] = [
            DbtTestItem.from_parent(collector, name=node.name, unique_id=node.unique_id)
            for node in sorted(by_file[relative], key=lambda n: n.name)]
        # Report them as collected, so "collected N items" and plugins counting
        # collection reports see them like items found in a test file.
        session.ihook.pytest_collectreport(
            report=pytest.CollectReport(collector.nodeid, "passed", None, found))
        items += [item for item in found if isinstance(item, pytest.Item)]
    return items


def _relative_dbt_dir(pipeline: Any) -> Path:
    project = pipeline.project
    return Path(project.dbt_project_dir.resolve().relative_to(project.root.resolve()))


class DbtTestFile(pytest.File):
    """The YAML or SQL file that declares dbt tests (never collected by itself)."""

    def collect(self) -> Iterable[pytest.Item]:
        return []


class DbtTestItem(pytest.Item):
    def __init__(self, *, unique_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unique_id = unique_id
        kind = "unit test" if unique_id.startswith("unit_test.") else "data test"
        self.add_marker(pytest.mark.eltkit_dbt_test)
        self.kind = kind

    def runtest(self) -> None:
        runner = _runner(self.config)
        outcome = runner.result_for(self)
        if outcome["status"] not in ("success", "warn"):
            raise DbtTestFailed(outcome["text"])

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, DbtTestFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"dbt {self.kind} {self.name}"


_RUNNER = pytest.StashKey["_BatchRunner"]()


def _runner(config: pytest.Config) -> _BatchRunner:
    if _RUNNER not in config.stash:
        config.stash[_RUNNER] = _BatchRunner(config)
    return config.stash[_RUNNER]


class _BatchRunner:
    """Builds once and runs the selected dbt tests in one invocation per process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: dict[str, dict[str, Any]] = {}
        self.workspace: Any = None
        self.upstream_summary: str | None = None

    def result_for(self, item: DbtTestItem) -> dict[str, Any]:
        if item.unique_id not in self.results:
            batch = [i.unique_id for i in item.session.items
                     if isinstance(i, DbtTestItem) and i.unique_id not in self.results]
            if item.unique_id not in batch:
                batch.append(item.unique_id)
            self._run(batch)
        return self.results[item.unique_id]

    def _run(self, tests: list[str]) -> None:
        from pytest_eltkit.harness import Pipeline

        session = session_for(self.config)
        graph = session.project.graph
        if self.workspace is None:
            self.workspace = session.new_workspace("dbt-tests")
        pipeline = Pipeline(session, self.workspace)
        upstream = graph.upstream_of(set(tests)) - set(tests)
        to_build = sorted(uid for uid in upstream
                          if graph.nodes[uid].resource_type in ("task", "model", "snapshot"))
        if to_build:
            built = session.execute(self.workspace, "build", to_build,
                                    selection={"dbt_tests": "upstream"})
            if not built.ok:
                failed = [f"{n.name}: {n.message}" for n in built.nodes
                          if n.status not in ("success", "warn")]
                self.upstream_summary = "building what the tests read failed: " + "; ".join(
                    failed)
        outcome = session.execute(self.workspace, "test", tests, selection={"dbt_tests": "all"})
        records = {record.unique_id: record for record in outcome.nodes}
        for uid in tests:
            record = records.get(uid)
            status = record.status if record is not None else "error"
            message = (record.message if record is not None else None) or ""
            self.results[uid] = {"status": status,
                                 "text": self._explain(pipeline, graph.nodes[uid], status,
                                                       message)}

    def _explain(self, pipeline: Any, node: Any, status: str, message: str) -> str:
        if status in ("success", "warn"):
            return ""
        from pytest_eltkit.results import compiled_sql_path

        lines = [f"dbt {node.resource_type.replace('_', ' ')} {node.name} {status}: "
                 f"{message or 'no message'}"]
        compiled = compiled_sql_path(self.workspace.target_path, node)
        if compiled is not None:
            lines.append(f"compiled SQL: {compiled}")
            if node.resource_type == "test":
                lines += _failing_rows(pipeline, compiled)
        if self.upstream_summary:
            lines.append(self.upstream_summary)
        return "\n".join(lines)


def _failing_rows(pipeline: Any, compiled: Path) -> list[str]:
    """The first rows the test's query returned: what a person looks at next."""
    from sqlglot import exp

    sql = compiled.read_text(encoding="utf-8").strip().rstrip(";")
    query = exp.select("*").from_(exp.paren(exp.maybe_parse(sql, dialect="duckdb"))
                                  .as_("failures")).limit(FAILING_ROWS_SHOWN)
    try:
        rows = pipeline.sql(query.sql("duckdb"))
    except Exception:  # noqa: BLE001 - the failing rows are a courtesy, never a new error
        return []
    if not rows:
        return []
    return [f"first failing rows (up to {FAILING_ROWS_SHOWN}):"] + [f"  {dict(row)}"
                                                                     for row in rows]
