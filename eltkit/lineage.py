"""Column-level lineage of SQL models, derived with sqlglot from dbt's compiled SQL.

For one model, sqlglot reads the compiled SQL (``compiled_code`` in
target/manifest.json, or the file under target/compiled/) and says, for each
output column, which columns of which relations it is computed from. Those
relations are mapped back to nodes of the DAG by their ``relation_name``, so a
column can be traced model by model back to the sources and seeds it starts
from. sqlglot needs the upstream columns to expand ``select *``: they are the
columns derived for an upstream model, a seed's CSV header, or the columns a
source (or an underived model) declares in YAML.

Everything here is plain data in, plain data out: nothing touches the
warehouse, dbt is never imported, and a model sqlglot cannot read gets a
one-line reason instead of an exception. The TUI's lineage screen uses it and
a CLI can too. sqlglot is imported on first use, so importing this module
costs nothing at start-up.
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eltkit.graph.dag import Graph
from eltkit.graph.nodes import MODEL, SEED, SNAPSHOT, SOURCE, Node

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.lineage import Node as SqlglotNode

#: dbt adapter type (manifest metadata) -> sqlglot dialect.
DIALECTS = {
    "athena": "athena", "bigquery": "bigquery", "clickhouse": "clickhouse",
    "databricks": "databricks", "duckdb": "duckdb", "fabric": "tsql", "mysql": "mysql",
    "oracle": "oracle", "postgres": "postgres", "redshift": "redshift",
    "snowflake": "snowflake", "spark": "spark", "sqlite": "sqlite", "sqlserver": "tsql",
    "synapse": "tsql", "teradata": "teradata", "trino": "trino",
}
#: dbt inlines an ephemeral model as a CTE with this prefix before its name.
EPHEMERAL_PREFIX = "__dbt__cte__"
#: Why a trace stops at ``model.*``: sqlglot left ``select *`` unexpanded.
STAR_NOTE = "`*`: sqlglot cannot tell which of its columns"
#: A column is traced at most this many models upstream.
MAX_TRACE_DEPTH = 25
#: Relations whose columns every model has: where the trace of a column ends.
ORIGIN_TYPES = frozenset({SOURCE, SEED})
#: What dbt adds to the columns of the relation a snapshot tracks.
SNAPSHOT_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
#: A snapshot declared with ``relation:`` (dbt writes this SQL for it, and compiles none).
_TRACKS_RELATION = re.compile(r"^\s*(select\s+\*\s+from\s+\{\{[^}]*\}\}\s*)?$", re.I)


def dialect_for(adapter_type: str | None) -> str | None:
    """The sqlglot dialect of a dbt adapter; None (sqlglot's generic SQL) when unknown."""
    return DIALECTS.get((adapter_type or "").lower())


class NotDerivable(Exception):
    """sqlglot cannot derive column lineage from this SQL; the message says why."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class ColumnRef:
    """One column of one relation; ``column`` is ``*`` when its columns are not known."""

    relation: str  # as the SQL names it: jaffle.main.stg_orders
    column: str
    unique_id: str | None = None  # the DAG node behind the relation, when one matches

    @property
    def is_star(self) -> bool:
        return self.column == "*"


@dataclass(frozen=True)
class ColumnLineage:
    """One output column and the upstream columns it is computed from."""

    name: str
    sources: tuple[ColumnRef, ...] = ()
    #: column names sqlglot could not place (which table? the SQL does not say)
    unresolved: tuple[str, ...] = ()
    #: expressions that read no column at all (a literal, ``count(*)``)
    computed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelLineage:
    """A model's column lineage, or the one-line reason it cannot be derived."""

    unique_id: str
    columns: tuple[ColumnLineage, ...] = ()
    reason: str | None = None

    @property
    def derivable(self) -> bool:
        return self.reason is None

    def column(self, name: str) -> ColumnLineage | None:
        wanted = name.lower()
        return next((c for c in self.columns if c.name.lower() == wanted), None)


@dataclass(frozen=True)
class TraceStep:
    """A column on the way upstream; ``upstream`` is empty where the trace ends."""

    ref: ColumnRef
    upstream: tuple[TraceStep, ...] = ()
    #: why the trace stops at a column that is not an origin (a source's or a seed's)
    note: str | None = None


# -- pure functions over SQL --------------------------------------------------------------


def split_relation(name: str) -> tuple[str, ...]:
    """``"jaffle"."main"."orders"`` -> ("jaffle", "main", "orders"), lower-cased for matching.

    A small scanner instead of sqlglot: the DAG of a big project has thousands
    of relation names to index and this is 50x faster. Quotes are ", ` and [].
    """
    parts: list[str] = []
    current: list[str] = []
    closing = {'"': '"', "`": "`", "[": "]"}
    index = 0
    while index < len(name):
        char = name[index]
        if char in closing:
            end = name.find(closing[char], index + 1)
            if end < 0:
                end = len(name)
            quoted = name[index + 1:end]
            if char == "`" and "." in quoted and not current and not parts:
                # BigQuery quotes a whole path at once: `project.dataset.table`
                parts.extend(quoted.split(".")[:-1])
                quoted = quoted.split(".")[-1]
            current.append(quoted)
            index = end + 1
        elif char == ".":
            parts.append("".join(current))
            current = []
            index += 1
        else:
            current.append(char)
            index += 1
    parts.append("".join(current))
    return tuple(part.strip().lower() for part in parts)


def derive_columns(sql: str, schema: Mapping[str, Any], dialect: str | None = None,
                   *, resolve: Callable[[tuple[str, ...]], str | None] = lambda parts: None,
                   ephemeral: Callable[[str], str | None] = lambda name: None,
                   ) -> tuple[ColumnLineage, ...]:
    """The lineage of every output column of ``sql``; raises :class:`NotDerivable`.

    ``schema`` maps relations to their columns (sqlglot's nested form,
    ``{db: {schema: {table: {column: type}}}}``) so that ``select *`` can be
    expanded; ``resolve`` names the DAG node of a relation, ``ephemeral`` the
    node of an ephemeral model dbt inlined as a ``__dbt__cte__`` CTE.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage

    if not sql.strip():
        raise NotDerivable("the compiled SQL is empty")
    try:
        expressions = [e for e in sqlglot.parse(sql, dialect=dialect) if e is not None]
    except Exception as exc:  # ParseError, and the tokenizer's own errors
        raise NotDerivable(f"sqlglot cannot parse the SQL: {_first_line(exc)}") from exc
    if len(expressions) != 1 or not isinstance(expressions[0], exp.Query):
        raise NotDerivable("the SQL is not a single select statement")
    try:
        roots = lineage(None, expressions[0], dict(schema), dialect=dialect, copy=False)
    except Exception as exc:
        raise NotDerivable(f"sqlglot cannot follow the SQL: {_first_line(exc)}") from exc
    columns = []
    for name, root in roots.items():
        sources: dict[ColumnRef, None] = {}
        unresolved: dict[str, None] = {}
        computed: dict[str, None] = {}
        if root.downstream:
            _collect(root, dialect, resolve, ephemeral, sources, unresolved, computed, set())
        else:
            _leaf(root, dialect, resolve, sources, unresolved, computed)
        # sqlglot gathers a column's inputs in a set: sort them so the order is stable.
        columns.append(ColumnLineage(
            name, tuple(sorted(sources, key=lambda r: (r.relation, r.column))),
            tuple(sorted(unresolved)), tuple(sorted(computed))))
    return tuple(columns)


def _collect(node: SqlglotNode, dialect: str | None,
             resolve: Callable[[tuple[str, ...]], str | None],
             ephemeral: Callable[[str], str | None], sources: dict[ColumnRef, None],
             unresolved: dict[str, None], computed: dict[str, None], seen: set[int]) -> None:
    """Walk sqlglot's lineage tree of one column down to the relations it reads."""
    for child in node.downstream:
        if id(child) in seen:
            continue
        seen.add(id(child))
        reference = child.reference_node_name or ""
        if reference.startswith(EPHEMERAL_PREFIX):
            name = reference[len(EPHEMERAL_PREFIX):]
            column = child.name.split(".", 1)[1] if "." in child.name else child.name
            sources[ColumnRef(name, column, ephemeral(name))] = None
            continue
        if child.downstream:
            _collect(child, dialect, resolve, ephemeral, sources, unresolved, computed, seen)
        else:
            _leaf(child, dialect, resolve, sources, unresolved, computed)


def _leaf(node: SqlglotNode, dialect: str | None,
          resolve: Callable[[tuple[str, ...]], str | None], sources: dict[ColumnRef, None],
          unresolved: dict[str, None], computed: dict[str, None]) -> None:
    """Where sqlglot's walk ends: a table's column, a column it could not place, or no column."""
    from sqlglot import exp

    expression = node.expression
    if isinstance(expression, exp.Table):
        sources[_table_ref(expression, node.name, dialect, resolve)] = None
    elif isinstance(expression, exp.Placeholder):
        unresolved[node.name] = None
    elif isinstance(expression, exp.Query):
        # ``*`` of a subquery whose columns are unknown: some columns of its tables.
        for table in expression.find_all(exp.Table):
            sources[_table_ref(table, "*", dialect, resolve)] = None
    else:
        shown = expression.this if isinstance(expression, exp.Alias) else expression
        computed[shown.sql(dialect=dialect)] = None


def _table_ref(table: exp.Table, leaf_name: str, dialect: str | None,
               resolve: Callable[[tuple[str, ...]], str | None]) -> ColumnRef:
    from sqlglot import exp

    parts = tuple(part.name for part in table.parts)
    column = "*" if leaf_name == "*" or leaf_name.endswith(".*") else \
        exp.to_column(leaf_name, dialect=dialect).name
    return ColumnRef(".".join(parts), column, resolve(tuple(p.lower() for p in parts)))


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return (text.splitlines() or [type(exc).__name__])[0]


def referenced_tables(sql: str, dialect: str | None = None) -> list[tuple[str, ...]]:
    """The relations a query reads (lower-cased name parts); [] when sqlglot cannot parse it."""
    import sqlglot
    from sqlglot import exp

    try:
        expressions = sqlglot.parse(sql, dialect=dialect)
    except Exception:  # noqa: BLE001 - derive_columns reports the parse error
        return []
    ctes = {cte.alias_or_name.lower() for e in expressions if e is not None
            for cte in e.find_all(exp.CTE)}
    found: dict[tuple[str, ...], None] = {}
    for expression in expressions:
        if expression is None:
            continue
        for table in expression.find_all(exp.Table):
            parts = tuple(part.name.lower() for part in table.parts)
            if len(parts) == 1 and parts[0] in ctes:
                continue
            if parts and parts[-1]:
                found[parts] = None
    return list(found)


def nested_schema(columns: Mapping[tuple[str, ...], Iterable[str]]) -> dict[str, Any]:
    """sqlglot's schema form from {("db", "schema", "table"): [columns]}.

    sqlglot wants every table at the same depth, so relations named with a
    different number of parts than most are left out (their ``*`` stays
    unexpanded rather than failing the whole model).
    """
    if not columns:
        return {}
    depths: dict[int, int] = {}
    for parts in columns:
        depths[len(parts)] = depths.get(len(parts), 0) + 1
    depth = max(depths, key=lambda d: (depths[d], d))
    schema: dict[str, Any] = {}
    for parts, names in columns.items():
        if len(parts) != depth:
            continue
        level = schema
        for part in parts[:-1]:
            level = level.setdefault(part, {})
        level[parts[-1]] = {name: "UNKNOWN" for name in names}
    return schema


# -- reading what dbt wrote -----------------------------------------------------------------


def compiled_sql(node: Node, target_path: Path | None) -> str | None:
    """The node's compiled SQL: the manifest's ``compiled_code``, else target/compiled/."""
    raw = node.raw or {}
    code = raw.get("compiled_code")
    if isinstance(code, str) and code.strip():
        return code
    if target_path is None or not node.original_file_path:
        return None
    base = target_path / "compiled" / node.package_name
    candidates = [base / node.original_file_path]
    path_in_package = raw.get("path")
    if isinstance(path_in_package, str):
        candidates.append(base / node.original_file_path / Path(path_in_package).name)
    for candidate in candidates:
        if candidate.suffix == ".sql" and candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    return None


def seed_columns(node: Node, project_dir: Path | None) -> list[str] | None:
    """A seed's columns: the header line of its CSV file, when it can be read."""
    raw = node.raw or {}
    root = raw.get("root_path") or (str(project_dir) if project_dir else None)
    if not root or not node.original_file_path:
        return None
    try:
        with open(Path(root) / node.original_file_path, encoding="utf-8", newline="") as file:
            header = next(csv.reader(file), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return [name.strip() for name in header] if header else None


def declared_columns(node: Node) -> list[str]:
    """The columns the node's YAML declares (often only the documented ones)."""
    columns = (node.raw or {}).get("columns") or {}
    return [str(entry.get("name") or key) for key, entry in columns.items()
            if isinstance(entry, dict)]


# -- the whole DAG ----------------------------------------------------------------------


class ColumnLineageIndex:
    """Column lineage of a project's models, derived on demand and remembered.

    Deriving one model parses its compiled SQL once (tens of milliseconds);
    a model's upstream models are derived only as far as needed, for their
    columns (to expand ``select *``) or to trace a column further up.
    Safe to share between threads.
    """

    def __init__(self, graph: Graph, *, dialect: str | None = None,
                 target_path: Path | None = None, project_dir: Path | None = None,
                 read_compiled: Callable[[Node], str | None] | None = None,
                 read_seed: Callable[[Node], list[str] | None] | None = None) -> None:
        self.graph = graph
        self.dialect = dialect
        self._read_compiled = read_compiled or (lambda node: compiled_sql(node, target_path))
        self._read_seed = read_seed or (lambda node: seed_columns(node, project_dir))
        self._models: dict[str, ModelLineage] = {}
        self._columns: dict[str, list[str] | None] = {}
        self._steps: dict[tuple[str, str], TraceStep] = {}
        self._relations: dict[tuple[str, ...], str | None] | None = None
        self._ephemeral: dict[str, str] | None = None
        self._lock = threading.RLock()

    # -- relations --------------------------------------------------------------------------

    def resolve(self, parts: tuple[str, ...]) -> str | None:
        """The unique id behind a relation name (its parts lower-cased), if the DAG has one."""
        if self._relations is None:
            self._relations = self._index_relations()
        return self._relations.get(parts)

    def _index_relations(self) -> dict[tuple[str, ...], str | None]:
        """Every relation by its full name, and by shorter suffixes where those are unique."""
        index: dict[tuple[str, ...], str | None] = {}
        full: set[tuple[str, ...]] = set()
        for uid, node in self.graph.nodes.items():
            relation = (node.raw or {}).get("relation_name")
            if not isinstance(relation, str) or not relation:
                continue
            parts = split_relation(relation)
            index[parts] = uid
            full.add(parts)
        for parts in list(full):
            for start in range(1, len(parts)):
                suffix = parts[start:]
                if suffix in full:
                    continue
                index[suffix] = None if suffix in index and index[suffix] != index[parts] \
                    else index[parts]
        return index

    def ephemeral(self, name: str) -> str | None:
        """The ephemeral model dbt inlined as ``__dbt__cte__NAME``."""
        if self._ephemeral is None:
            self._ephemeral = {}
            for uid, node in self.graph.nodes.items():
                if node.resource_type == MODEL and node.materialized == "ephemeral":
                    alias = (node.raw or {}).get("alias") or node.name
                    self._ephemeral[str(alias).lower()] = uid
        return self._ephemeral.get(name.lower())

    # -- models ----------------------------------------------------------------------------

    def model(self, unique_id: str) -> ModelLineage:
        """The column lineage of one node, or why there is none."""
        with self._lock:
            found = self._models.get(unique_id)
            if found is None:
                found = self._models[unique_id] = self._derive(unique_id, set())
            return found

    def _derive(self, unique_id: str, deriving: set[str]) -> ModelLineage:
        node = self.graph.nodes.get(unique_id)
        if node is None:
            return ModelLineage(unique_id, reason=f"{unique_id} is not in the project's DAG")
        raw = node.raw or {}
        kind = f"{node.resource_type} {node.search_name}"
        if node.resource_type not in (MODEL, SNAPSHOT):
            what = {SOURCE: "a source: columns start here",
                    SEED: "a seed: columns start here"}.get(node.resource_type,
                                                          f"a {node.resource_type}")
            return ModelLineage(unique_id,
                                reason=f"column lineage is derived for SQL models; {kind} is "
                                       f"{what}")
        if raw.get("language", "sql") != "sql":
            return ModelLineage(unique_id, reason=f"{kind} is a {raw.get('language')} model: "
                                                  "column lineage is derived from SQL only")
        sql = self._read_compiled(node)
        parents = self.graph.parents.get(unique_id, [])
        if sql is None and node.resource_type == SNAPSHOT and len(parents) == 1 \
                and _TRACKS_RELATION.match(str(raw.get("raw_code") or "")):
            return self._tracked_relation(unique_id, parents[0], deriving | {unique_id})
        if sql is None:
            return ModelLineage(unique_id, reason=f"{kind} is not compiled yet: run `eltkit "
                                                  "build` (or `dbt compile`) so target/ holds "
                                                  "its compiled SQL")
        deriving = deriving | {unique_id}
        known: dict[tuple[str, ...], list[str]] = {}
        for parts in referenced_tables(sql, self.dialect):
            upstream = self.resolve(parts)
            if upstream is None or upstream in deriving:
                continue
            names = self._columns_of(upstream, deriving)
            if names:
                known[parts] = names
        try:
            columns = derive_columns(sql, nested_schema(known), self.dialect,
                                     resolve=self.resolve, ephemeral=self.ephemeral)
        except NotDerivable as exc:
            return ModelLineage(unique_id, reason=f"{kind}: {exc.reason}")
        if node.resource_type == SNAPSHOT:
            columns += _snapshot_metadata(columns)
        return ModelLineage(unique_id, columns)

    def _tracked_relation(self, unique_id: str, parent: str,
                          deriving: set[str]) -> ModelLineage:
        """A snapshot declared with ``relation:``: the relation's columns, plus dbt's own."""
        columns = self._columns_of(parent, deriving)
        name = self.graph.nodes[unique_id].search_name
        if not columns:
            return ModelLineage(unique_id, reason=f"snapshot {name}: the columns of the "
                                                  f"relation it tracks ({parent}) are not known")
        relation = (self.graph.nodes[parent].raw or {}).get("relation_name") or parent
        where = ".".join(split_relation(str(relation)))
        derived = tuple(ColumnLineage(column, (ColumnRef(where, column, parent),))
                        for column in columns)
        return ModelLineage(unique_id, derived + _snapshot_metadata(derived))

    def columns_of(self, unique_id: str) -> list[str] | None:
        """A relation's column names; None when they cannot be known."""
        with self._lock:
            return self._columns_of(unique_id, set())

    def _columns_of(self, unique_id: str, deriving: set[str]) -> list[str] | None:
        if unique_id in self._columns:
            return self._columns[unique_id]
        node = self.graph.nodes[unique_id]
        columns: list[str] | None = None
        if node.resource_type == SEED:
            columns = self._read_seed(node)
        elif node.resource_type in (MODEL, SNAPSHOT):
            lineage = self._models.get(unique_id)
            if lineage is None:
                lineage = self._models[unique_id] = self._derive(unique_id, deriving)
            names = [column.name for column in lineage.columns]
            if lineage.derivable and names and "*" not in names:
                columns = names
        if columns is None:
            columns = declared_columns(node) or None
        self._columns[unique_id] = columns
        return columns

    # -- tracing ---------------------------------------------------------------------------

    def trace(self, unique_id: str, column: str,
              max_depth: int = MAX_TRACE_DEPTH) -> tuple[TraceStep, ...]:
        """The columns ``column`` of ``unique_id`` comes from, each traced to where it starts."""
        with self._lock:
            found = self.model(unique_id).column(column)
            if found is None:
                return ()
            return tuple(self._step(ref, 1, max_depth, frozenset({(unique_id, column)}))
                         for ref in found.sources)

    def _step(self, ref: ColumnRef, depth: int, max_depth: int,
              path: frozenset[tuple[str, str]]) -> TraceStep:
        uid = ref.unique_id
        if uid is None:
            return TraceStep(ref, note="not a relation of this project")
        key = (uid, ref.column.lower())
        cached = self._steps.get(key)
        if cached is not None:
            return cached
        node = self.graph.nodes[uid]
        if node.resource_type in ORIGIN_TYPES:
            step = TraceStep(ref)
        elif ref.is_star:
            step = TraceStep(ref, note=STAR_NOTE)
        elif key in path:
            return TraceStep(ref, note="cycle")
        elif depth >= max_depth:
            return TraceStep(ref, note=f"more than {max_depth} models upstream")
        else:
            lineage = self.model(uid)
            column = lineage.column(ref.column)
            if not lineage.derivable:
                step = TraceStep(ref, note=lineage.reason)
            elif column is None:
                step = TraceStep(ref, note="not found in its compiled SQL")
            else:
                upstream = tuple(self._step(r, depth + 1, max_depth, path | {key})
                                 for r in column.sources)
                note = None
                if not upstream:
                    note = ("computed: " + ", ".join(column.computed) if column.computed
                            else "reads no column")
                step = TraceStep(ref, upstream, note)
        self._steps[key] = step
        return step


def _snapshot_metadata(columns: tuple[ColumnLineage, ...]) -> tuple[ColumnLineage, ...]:
    """The columns dbt adds to every snapshot (computed by dbt, from no column)."""
    names = {column.name.lower() for column in columns}
    return tuple(ColumnLineage(name, computed=("dbt snapshot metadata",))
                 for name in SNAPSHOT_COLUMNS if name not in names)


def origins(steps: Iterable[TraceStep]) -> list[ColumnRef]:
    """Where traced columns start: the ends of the trace, each once, in order."""
    found: dict[ColumnRef, None] = {}
    stack = list(reversed(list(steps)))
    while stack:
        step = stack.pop()
        if not step.upstream:
            found[step.ref] = None
        stack.extend(reversed(step.upstream))
    return list(found)


def index_for(graph: Graph, manifest: Mapping[str, Any] | None, *,
              target_path: Path | None = None,
              project_dir: Path | None = None) -> ColumnLineageIndex:
    """An index in the dialect of the manifest's adapter."""
    adapter = ((manifest or {}).get("metadata") or {}).get("adapter_type")
    return ColumnLineageIndex(graph, dialect=dialect_for(adapter), target_path=target_path,
                              project_dir=project_dir)
