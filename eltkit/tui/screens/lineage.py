"""Lineage of one node: what is upstream and downstream of it, and where its columns come from."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from rich.tree import Tree
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from eltkit.lineage import ColumnRef, TraceStep
from eltkit.tui import format as fmt
from eltkit.tui.data_lineage import (
    ColumnsData,
    LineageRow,
    NodeLineageData,
    read_columns,
    read_node_lineage,
)
from eltkit.tui.screens.base import BACK, CURSOR_KEYS, LiveScreen
from eltkit.tui.widgets.virtual_table import Row, VirtualTable

COLUMNS = [("", "where"), ("node", "node"), ("type", "type"), ("status in run", "status")]
#: Resource types a run never executes: they have no status to show.
NOT_RUN = frozenset({"source", "exposure", "metric", "semantic_model", "saved_query"})
#: A model's column trees stop growing here (a wide mart can fan out to thousands of lines).
MAX_TREE_LINES = 1500


class ColumnsLoaded(Message):
    def __init__(self, unique_id: str, data: ColumnsData | None, error: str | None) -> None:
        super().__init__()
        self.unique_id = unique_id
        self.data = data
        self.error = error


class LineageScreen(LiveScreen):
    """Upstream and downstream of a node across tasks and dbt; its columns' lineage."""

    HEADLINE_ID = "lineage-title"
    LIST_ID = "lineage-nodes"

    BINDINGS = [
        Binding("enter", "open", "Lineage of it",
                tooltip="Show the lineage of the highlighted node instead"),
        Binding("1", "tab('lineage-nodes-tab')", "Nodes",
                tooltip="Nodes: upstream and downstream"),
        Binding("2", "tab('lineage-columns-tab')", "Columns",
                tooltip="Columns: where each column comes from (sqlglot)"),
        BACK,
        *CURSOR_KEYS,
    ]

    def __init__(self, unique_id: str, run_id: str | None = None) -> None:
        super().__init__()
        self.unique_id = unique_id
        self.run_id = run_id
        self.data: NodeLineageData | None = None
        self.columns: ColumnsData | None = None
        self.columns_error: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="lineage-title")
        with TabbedContent(initial="lineage-nodes-tab", id="lineage-tabs"):
            with TabPane("1 Nodes", id="lineage-nodes-tab"):
                yield VirtualTable(COLUMNS, id="lineage-nodes")
            with TabPane("2 Columns", id="lineage-columns-tab"), \
                    VerticalScroll(id="lineage-columns-scroll"):
                yield Static("deriving column lineage with sqlglot…", id="lineage-columns")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self._load_columns()

    # -- nodes: live (statuses in the run) --------------------------------------------------

    def read_history(self) -> NodeLineageData:
        store = self.eltkit.history.open()
        return read_node_lineage(store, self.eltkit.catalog, self.run_id, self.unique_id)

    def show(self, data: Any) -> None:
        assert isinstance(data, NodeLineageData)
        first = self.data is None
        self.data = data
        self.query_one("#lineage-title", Static).update(self._title(data))
        table = self.query_one("#lineage-nodes", VirtualTable)
        table.sync([self._row(row) for row in data.rows])
        if first:
            table.move_to(data.unique_id)
            table.focus()

    def _title(self, data: NodeLineageData) -> Text:
        text = Text("lineage of ", style="dim")
        text.append(f"{data.resource_type} ", style="dim")
        text.append(data.name, style="bold")
        if data.dag_error:
            text.append(f"\n{data.dag_error}", style="red")
            return text
        up, down = len(data.upstream), len(data.downstream)
        text.append(f"  {up} upstream, {down} downstream")
        if data.run is not None:
            text.append(f"  (statuses of run {data.run.id})", style="dim")
        return text

    def _row(self, row: LineageRow) -> Row:
        if row.distance < 0:
            where = Text(f"↑{-row.distance}", style="cyan")
        elif row.distance > 0:
            where = Text(f"↓{row.distance}", style="magenta")
        else:
            where = Text("●", style="bold")
        name: str | Text = Text(row.name, style="bold") if row.distance == 0 else row.name
        if row.status is not None:
            status = fmt.node_status(row.status)
        elif row.resource_type in NOT_RUN:
            status = Text("")
        else:
            status = Text("○ not in this run", style="dim")
        return row.unique_id, (where, name, row.resource_type, status)

    # -- columns: derived once --------------------------------------------------------------

    @work(thread=True, exclusive=True, group="lineage-columns", exit_on_error=False)
    def _load_columns(self) -> None:
        try:
            data = read_columns(self.eltkit.catalog, self.unique_id)
        except Exception as exc:  # noqa: BLE001 - a lineage bug must never crash the TUI
            self.post_message(ColumnsLoaded(self.unique_id, None,
                                            f"cannot derive column lineage: "
                                            f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ColumnsLoaded(self.unique_id, data, None))

    def on_columns_loaded(self, message: ColumnsLoaded) -> None:
        message.stop()
        self.columns, self.columns_error = message.data, message.error
        shown = self.query_one("#lineage-columns", Static)
        if message.error is not None or message.data is None:
            shown.update(Text(message.error or "", style="red"))
        else:
            shown.update(columns_view(message.data))
        self.loads += 1

    # -- keys -------------------------------------------------------------------------------

    def action_open(self) -> None:
        key = self.query_one("#lineage-nodes", VirtualTable).cursor_key
        if key is None or key == self.unique_id:
            return
        self.app.push_screen(LineageScreen(key, self.run_id))

    def action_tab(self, tab: str) -> None:
        self.query_one("#lineage-tabs", TabbedContent).active = tab
        if tab == "lineage-columns-tab":
            self.query_one("#lineage-columns-scroll", VerticalScroll).focus()
        else:
            self.query_one("#lineage-nodes", VirtualTable).focus()

    @on(TabbedContent.TabActivated, "#lineage-tabs")
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enter follows a node of the list: off (and out of the footer) on the columns tab."""
        return not (action == "open" and self._on_columns())

    def _on_columns(self) -> bool:
        tabs = self.query("#lineage-tabs")
        return bool(tabs) and tabs.first(TabbedContent).active == "lineage-columns-tab"

    def action_cursor_down(self) -> None:
        if self._on_columns():
            self.query_one("#lineage-columns-scroll", VerticalScroll).scroll_down(animate=False)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self._on_columns():
            self.query_one("#lineage-columns-scroll", VerticalScroll).scroll_up(animate=False)
        else:
            super().action_cursor_up()


def columns_view(data: ColumnsData) -> Any:
    """Each column as a tree back to where it starts; or the one line saying why not."""
    from rich.console import Group

    lineage = data.lineage
    if not lineage.derivable:
        return Text(f"no column lineage: {lineage.reason}", style="yellow")
    count = len(lineage.columns)
    head = Text(f"{count} column{'s' if count != 1 else ''}, derived with sqlglot "
                f"({data.dialect or 'generic SQL'}) from the compiled SQL; each traced to "
                "the sources and seeds it starts from", style="dim")
    parts: list[Any] = [head]
    if any(column.name == "*" for column in lineage.columns):
        parts.append(Text("`select *` could not be expanded: declare the columns of the "
                          "sources (and seeds) it reads in their YAML", style="yellow"))
    budget = [MAX_TREE_LINES]
    for index, column in enumerate(lineage.columns):
        if budget[0] <= 0:
            parts.append(Text(f"… {count - index} more columns", style="dim"))
            break
        tree = Tree(Text(column.name, style="bold"), guide_style="dim")
        budget[0] -= 1
        for step in data.traces.get(column.name, ()):
            _add_step(tree, step, data, budget)
        if not column.sources:
            tree.add(Text(_no_source(column.computed, column.unresolved),
                          style="yellow" if column.unresolved else "dim"))
        elif column.unresolved:
            tree.add(Text(f"also {', '.join(column.unresolved)}: sqlglot cannot tell which "
                          "table (qualify the column in the SQL)", style="yellow"))
        parts.append(tree)
    return Group(*parts)


def _add_step(parent: Tree, step: TraceStep, data: ColumnsData, budget: list[int]) -> None:
    if budget[0] <= 0:
        return
    budget[0] -= 1
    label = ref_text(step.ref, data.names)
    if step.note:
        label.append(f"  {step.note}", style="dim" if step.upstream or
                     step.note.startswith("computed") else "yellow")
    elif not step.upstream and step.ref.unique_id:
        label.append(f"  ◆ {step.ref.unique_id.split('.', 1)[0]}", style="green")
    branch = parent.add(label)
    for upstream in step.upstream:
        _add_step(branch, upstream, data, budget)
    if budget[0] <= 0 and step.upstream:
        branch.add(Text("… (more lineage than fits here)", style="dim"))


def ref_text(ref: ColumnRef, names: dict[str, str]) -> Text:
    name = names.get(ref.unique_id or "", ref.relation)
    text = Text(name)
    text.append(".")
    text.append(ref.column, style="bold" if not ref.is_star else "yellow")
    return text


def _no_source(computed: tuple[str, ...], unresolved: tuple[str, ...]) -> str:
    if unresolved:
        return (f"from {', '.join(unresolved)}: sqlglot cannot tell which table (qualify the "
                "column in the SQL)")
    if computed:
        return f"computed: {', '.join(computed)} (reads no column)"
    return "reads no column"
