"""What the screens show, read from the history store and the project's DAG.

Nothing here touches Textual: every function is called from a thread worker
and returns plain dataclasses, which the screens turn into widgets. The
history file is written by other processes (runs, the scheduler, dev mode);
:meth:`History.poll` reads SQLite's ``data_version``, a counter that costs one
pragma, so the screens reload only when something was committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from eltkit.errors import EltkitError
from eltkit.state.store import HistoryError, HistoryStore, NodeRecord, RunRecord
from eltkit.tui.format import FAILED_NODE_STATUSES

if TYPE_CHECKING:
    from eltkit.graph.dag import Graph
    from eltkit.graph.nodes import Node
    from eltkit.lineage import ColumnLineageIndex
    from eltkit.project import Project

#: The TUI waits this long for another process's lock before it says the file is locked.
BUSY_TIMEOUT_SECONDS = 1.0
#: How often runs left `running` by a dead process are looked for.
INTERRUPTED_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class PollResult:
    """``version`` changes whenever the history changed; ``missing`` before the first run."""

    version: int
    missing: bool = False
    error: str | None = None


def history_file(project: Project) -> Path:
    """The project's history file, as every eltkit command finds it.

    The same rule as ``eltkit.run.runner.history_path`` (a test keeps them
    equal); repeated here because importing the runner costs `eltkit tui`
    about 40 ms of start-up for a two-line function.
    """
    if project.config.history is not None:
        return (project.root / project.config.history).resolve()
    return project.root / ".eltkit" / "history.db"


class History:
    """The history file, opened when it exists; safe to use from worker threads."""

    def __init__(self, path: Path, *, now: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.store: HistoryStore | None = None
        self._now = now
        self._lock = threading.Lock()
        self._counter: int | None = None
        self._version = 0
        self._checked_interrupted = -INTERRUPTED_CHECK_SECONDS

    def open(self) -> HistoryStore | None:
        """The store, or None while there is no history file yet. Raises HistoryError."""
        with self._lock:
            if self.store is None:
                if not self.path.exists():
                    return None
                try:
                    # Read-write so that runs whose process died get marked interrupted.
                    self.store = HistoryStore(self.path, busy_timeout_s=BUSY_TIMEOUT_SECONDS)
                except HistoryError as first:
                    if "locked" in first.message:
                        raise HistoryError(
                            f"{self.path}: the run history is locked by another program "
                            "(database is locked); eltkit tries again every few seconds"
                        ) from first
                    if "newer eltkit" in first.message or "not an eltkit" in first.message:
                        raise
                    try:  # a history we may read but not write (another user's, a read-only disk)
                        self.store = HistoryStore(self.path, readonly=True,
                                                  busy_timeout_s=BUSY_TIMEOUT_SECONDS)
                    except HistoryError:
                        raise first from None
            return self.store

    def poll(self) -> PollResult:
        """Cheap: one pragma, plus a look for dead runs every few seconds."""
        try:
            store = self.open()
        except HistoryError as exc:
            return PollResult(self._version, error=exc.message)
        if store is None:
            return PollResult(self._version, missing=True)
        try:
            counter = store.change_counter()
            if self._now() - self._checked_interrupted >= INTERRUPTED_CHECK_SECONDS:
                self._checked_interrupted = self._now()
                self._mark_interrupted(store)
        except Exception as exc:  # noqa: BLE001 - sqlite errors become a message on screen
            hint = ("locked by another program; eltkit tries again every few seconds"
                    if "locked" in str(exc) else "cannot read the run history")
            return PollResult(self._version, error=f"{self.path}: {hint} ({exc})")
        if counter != self._counter:
            self._counter = counter
            self._version += 1
        return PollResult(self._version)

    def _mark_interrupted(self, store: HistoryStore) -> None:
        try:
            marked = store.mark_interrupted_runs()
        except Exception:  # noqa: BLE001 - read-only or busy: the next eltkit command marks it
            return
        if marked:
            self._version += 1  # our own write does not move data_version

    def close(self) -> None:
        with self._lock:
            if self.store is not None:
                self.store.close()
                self.store = None


class Catalog:
    """The project's DAG and files, loaded once and only when a screen needs them.

    The graph comes from target/manifest.json as plain JSON (dbt is never
    imported here); a project without a manifest still shows its history,
    just without DAG order, SQL and relatives.
    """

    def __init__(self, project: Project | None = None, graph: Graph | None = None) -> None:
        self.project = project
        self._graph = graph
        self._error: str | None = None
        self._loaded = graph is not None
        self._lock = threading.Lock()
        self._lineage: ColumnLineageIndex | None = None

    @property
    def error(self) -> str | None:
        return self._error

    def graph(self) -> Graph | None:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                if self.project is None:
                    self._error = "no project: the DAG is not available"
                else:
                    try:
                        self._graph = self.project.graph
                    except EltkitError as exc:
                        self._error = exc.message
                    except Exception as exc:  # noqa: BLE001 - a broken task module, say
                        self._error = f"cannot load the DAG: {type(exc).__name__}: {exc}"
            return self._graph

    def column_lineage(self) -> ColumnLineageIndex | None:
        """Column lineage of the DAG's models, derived on demand and kept for the session."""
        graph = self.graph()
        if graph is None:
            return None
        with self._lock:
            if self._lineage is None:
                from eltkit.lineage import index_for

                manifest = None
                if self.project is not None:
                    try:
                        manifest = self.project.manifest  # read already for the graph
                    except EltkitError:
                        manifest = None
                self._lineage = index_for(
                    graph, manifest,
                    target_path=self.project.target_path if self.project else None,
                    project_dir=self.project.dbt_project_dir if self.project else None)
            return self._lineage

    def select(self, expression: str) -> set[str]:
        """Unique ids a dbt selector picks; raises EltkitError with the reason."""
        if self.project is None or self.graph() is None:
            raise EltkitError(self._error or "no project: cannot evaluate a selector")
        return set(self.project.select(expression.split()).selected)

    def relative(self, path: Path) -> str:
        if self.project is None:
            return str(path)
        try:
            return str(path.relative_to(self.project.root))
        except ValueError:
            return str(path)

    def source_code(self, node: Node) -> tuple[str, str, str] | None:
        """(code, lexer, where) of what the node runs: raw SQL, or a task's module."""
        raw = node.raw or {}
        if isinstance(raw.get("raw_code"), str) and raw["raw_code"].strip():
            return raw["raw_code"], "sql" if raw.get("language", "sql") == "sql" else "python", \
                node.original_file_path
        if self.project is None or not node.original_file_path:
            return None
        base = self.project.root if node.resource_type == "task" else \
            self.project.dbt_project_dir
        path = base / node.original_file_path
        if path.suffix not in (".sql", ".py") or not path.is_file():
            return None
        lexer = "python" if path.suffix == ".py" else "sql"
        return path.read_text(encoding="utf-8", errors="replace"), lexer, \
            node.original_file_path

    def compiled_code(self, node: Node) -> tuple[str, str] | None:
        """(compiled SQL, its path) from target/compiled/, when dbt wrote it."""
        if self.project is None or node.resource_type in ("task", "source", "exposure"):
            return None
        base = self.project.target_path / "compiled" / node.package_name
        original = Path(node.original_file_path)
        candidates = [base / original]
        path_in_package = (node.raw or {}).get("path")
        if isinstance(path_in_package, str):
            candidates.append(base / original / Path(path_in_package).name)
        for candidate in candidates:
            if candidate.suffix == ".sql" and candidate.is_file():
                return candidate.read_text(encoding="utf-8", errors="replace"), \
                    self.relative(candidate)
        return None


# -- the runs screen --------------------------------------------------------------------


@dataclass(frozen=True)
class RunsData:
    runs: list[RunRecord]
    counts: dict[str, dict[str, int]]


def read_runs(store: HistoryStore, limit: int = 100) -> RunsData:
    runs = store.runs(limit)
    return RunsData(runs, store.node_counts(run.id for run in runs))


# -- the run screen ---------------------------------------------------------------------


@dataclass(frozen=True)
class RunData:
    run: RunRecord
    nodes: list[NodeRecord]  # in DAG order: layer by layer, then by name
    layers: dict[str, int]
    counts: dict[str, int]
    eta_s: float | None
    dag_error: str | None = None
    #: unique ids whose record changed since the previous read; None: everything may have
    changed: frozenset[str] | None = None

    @property
    def failures(self) -> list[NodeRecord]:
        return [node for node in self.nodes if node.status in FAILED_NODE_STATUSES]


@dataclass
class _RunShape:
    """What does not change while a run goes: its node set's DAG order and typical durations."""

    order: list[str]
    layers: dict[str, int]
    children: dict[str, list[str]]
    durations: dict[str, float]
    fallback: float


@dataclass
class RunReader:
    """Reads one run again and again, cheaply.

    The DAG order is computed once a run; each read fetches the run's rows as
    tuples and builds records only for rows that changed, so refreshing a
    5,000-node run costs a scan of tuples, not 5,000 new objects.
    """

    catalog: Catalog
    _shapes: dict[str, _RunShape] = field(default_factory=dict)
    _rows: dict[str, tuple[object, ...]] = field(default_factory=dict)
    _records: dict[str, NodeRecord] = field(default_factory=dict)
    _run_id: str | None = None

    def read(self, store: HistoryStore, run_id: str, now: float) -> RunData:
        run = store.run(run_id)
        rows = store.node_tuples(run.id)
        if run.id != self._run_id:
            self._run_id, self._rows, self._records = run.id, {}, {}
        changed: set[str] = set()
        previous_rows, records = self._rows, self._records
        fresh_rows: dict[str, tuple[object, ...]] = {}
        for row in rows:
            uid = row[1]
            fresh_rows[uid] = row
            if previous_rows.get(uid) != row:
                records[uid] = NodeRecord(*row)
                changed.add(uid)
        for uid in set(records) - set(fresh_rows):
            del records[uid]
            changed.add(uid)
        first = not previous_rows
        self._rows = fresh_rows
        shape = self._shapes.get(run.id)
        if shape is None or len(shape.order) != len(records):
            shape = self._shape(store, list(records.values()))
            self._shapes[run.id] = shape
            first = True
        ordered = [records[uid] for uid in shape.order]
        counts: dict[str, int] = {}
        for record in ordered:
            counts[record.status] = counts.get(record.status, 0) + 1
        eta = self._eta(shape, records, now) if run.status == "running" else None
        return RunData(run, ordered, shape.layers, counts, eta, self.catalog.error,
                       None if first else frozenset(changed))

    def _shape(self, store: HistoryStore, records: list[NodeRecord]) -> _RunShape:
        uids = [record.unique_id for record in records]
        graph = self.catalog.graph()
        order: list[str] = []
        layers: dict[str, int] = {}
        children: dict[str, list[str]] = {}
        if graph is not None:
            members = [uid for uid in uids if uid in graph.nodes]
            member_set = set(members)
            for depth, layer in enumerate(graph.topological_layers(members)):
                for uid in sorted(layer, key=lambda u: (graph.nodes[u].is_test,
                                                        graph.nodes[u].name, u)):
                    order.append(uid)
                    layers[uid] = depth
            for uid in members:
                children[uid] = [c for c in graph.children[uid] if c in member_set]
        placed = set(order)
        by_start = sorted(records, key=lambda r: (r.started_at or float("inf"), r.unique_id))
        # Nodes the DAG does not know (removed since, or no manifest) keep their start order.
        order.extend(r.unique_id for r in by_start if r.unique_id not in placed)
        durations = store.typical_durations(uids)
        known = sorted(durations.values())
        fallback = known[len(known) // 2] if known else 1.0
        return _RunShape(order, layers, children, durations, fallback)

    @staticmethod
    def _eta(shape: _RunShape, records: dict[str, NodeRecord], now: float) -> float:
        """Seconds of the longest chain of unfinished work still ahead."""
        remaining: dict[str, float] = {}
        durations, fallback, children = shape.durations, shape.fallback, shape.children
        longest = 0.0
        for uid in reversed(shape.order):
            record = records[uid]
            if record.status not in ("pending", "queued", "running"):
                continue
            own = durations.get(uid, fallback)
            if record.status == "running" and record.started_at is not None:
                own = max(0.0, own - (now - record.started_at))
            below = 0.0
            for child in children.get(uid, ()):
                value = remaining.get(child, 0.0)
                if value > below:
                    below = value
            remaining[uid] = total = own + below
            if total > longest:
                longest = total
        return longest


# -- the node screen --------------------------------------------------------------------


@dataclass(frozen=True)
class Relative:
    unique_id: str
    name: str
    resource_type: str
    status: str | None  # in this run, None when it was not part of it


@dataclass(frozen=True)
class NodeData:
    run: RunRecord
    record: NodeRecord
    logs: list[tuple[float, str, str]]
    history: list[NodeRecord]  # newest first
    path: str | None
    source: tuple[str, str, str] | None  # code, lexer, where
    compiled: tuple[str, str] | None  # code, where
    upstream: list[Relative]
    downstream: list[Relative]
    tests: list[Relative]
    dag_error: str | None


def read_node(store: HistoryStore, catalog: Catalog, run_id: str, unique_id: str) -> NodeData:
    run = store.run(run_id)
    records = {record.unique_id: record for record in store.nodes(run.id)}
    record = records.get(unique_id)
    if record is None:
        raise EltkitError(f"run {run.id} has no node {unique_id}")
    logs = [(row["at"], row["level"], row["message"]) for row in store.logs(run.id, unique_id)]
    history = store.node_history(unique_id, 40)
    graph = catalog.graph()
    node = graph.nodes.get(unique_id) if graph is not None else None
    if graph is None or node is None:
        return NodeData(run, record, logs, history, None, None, None, [], [], [],
                        catalog.error or "this node is no longer in the project's DAG")

    def relatives(uids: list[str]) -> list[Relative]:
        found = []
        for uid in uids:
            other = graph.nodes[uid]
            in_run = records.get(uid)
            found.append(Relative(uid, other.search_name, other.resource_type,
                                  in_run.status if in_run else None))
        return sorted(found, key=lambda r: (r.resource_type, r.name))

    parents = graph.parents[unique_id]
    children = [uid for uid in graph.children[unique_id] if not graph.nodes[uid].is_test]
    return NodeData(
        run, record, logs, history, node.original_file_path or None,
        catalog.source_code(node), catalog.compiled_code(node),
        relatives(parents), relatives(children), relatives(graph.tests_of(unique_id)), None,
    )
