"""One node of one run: status and error, SQL, compiled SQL, logs, history, relatives, tests."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Sparkline, Static, TabbedContent, TabPane

from eltkit.tui import format as fmt
from eltkit.tui.data import NodeData, Relative, read_node
from eltkit.tui.screens.base import BACK, LiveScreen

TABS = ("overview", "sql", "compiled", "logs")


class NodeScreen(LiveScreen):
    """What one node did in one run, and what surrounds it in the DAG."""

    HEADLINE_ID = "node-title"

    BINDINGS = [
        Binding("1", "tab('overview')", "Overview"),
        Binding("2", "tab('sql')", "SQL"),
        Binding("3", "tab('compiled')", "Compiled"),
        Binding("4", "tab('logs')", "Logs"),
        Binding("l", "lineage", "Lineage",
                tooltip="Lineage: upstream, downstream, columns"),
        BACK,
    ]

    def __init__(self, run_id: str, unique_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.unique_id = unique_id
        self.data: NodeData | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="node-title")
        with TabbedContent(initial="overview", id="node-tabs"):
            with TabPane("1 Overview", id="overview"), VerticalScroll():
                yield Static("", id="node-status")
                with Horizontal(id="history-row"):
                    yield Static("history", id="history-label")
                    yield Sparkline([], id="history")
                yield Static("", id="history-text")
                yield Static("", id="relatives")
            with TabPane("2 SQL", id="sql"), VerticalScroll():
                yield Static("", id="source")
            with TabPane("3 Compiled", id="compiled"), VerticalScroll():
                yield Static("", id="compiled-code")
            with TabPane("4 Logs", id="logs"), VerticalScroll():
                yield Static("", id="log-lines")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    def read_history(self) -> NodeData:
        store = self.eltkit.history.open()
        assert store is not None
        return read_node(store, self.eltkit.catalog, self.run_id, self.unique_id)

    def show(self, data: Any) -> None:
        self.data = data
        assert isinstance(data, NodeData)
        clock = self.eltkit.clock
        record = data.record
        title = fmt.node_status(record.status)
        title.append(f"  {record.resource_type} ", style="dim")
        title.append(record.name, style="bold")
        title.append(f"  run {data.run.id}", style="dim")
        self.query_one("#node-title", Static).update(title)

        status = Text()
        status.append(f"unique id  {record.unique_id}\n")
        if data.path:
            status.append(f"file       {data.path}\n")
        took = record.duration_s
        if record.status == "running" and record.started_at is not None:
            took = clock.elapsed(record.started_at, None)
        status.append(f"started    {clock.stamp(record.started_at) or '-'}"
                      f"   took {fmt.duration(took) or '-'}"
                      f"   attempts {record.attempts}")
        if record.rows_affected is not None:
            status.append(f"   rows {record.rows_affected}")
        if record.message:
            style = fmt.NODE_STYLES.get(record.status, ("?", ""))[1]
            status.append(f"\n{record.message.strip()}", style=style)
        self.query_one("#node-status", Static).update(status)

        durations = [r.duration_s for r in reversed(data.history)
                     if r.duration_s is not None and r.status in ("success", "warn")]
        sparkline = self.query_one("#history", Sparkline)
        sparkline.data = durations or [0.0]
        # One cell a run: a few runs make a short line, not a wall of full blocks.
        sparkline.styles.width = min(60, max(1, len(durations)))
        self.query_one("#history-text", Static).update(_history_text(data, durations))
        self.query_one("#relatives", Static).update(_relatives_text(data))

        if data.source is not None:
            code, lexer, where = data.source
            self.query_one("#source", Static).update(_code(code, lexer, where))
        else:
            self.query_one("#source", Static).update(
                data.dag_error or "no source file for this node")
        if data.compiled is not None:
            code, where = data.compiled
            self.query_one("#compiled-code", Static).update(_code(code, "sql", where))
        else:
            self.query_one("#compiled-code", Static).update(
                "no compiled SQL: dbt writes it to target/compiled/ when it runs or compiles "
                "this node")
        self.query_one("#log-lines", Static).update(_logs_text(data, clock))

    def action_tab(self, tab: str) -> None:
        self.query_one("#node-tabs", TabbedContent).active = tab

    def action_lineage(self) -> None:
        from eltkit.tui.screens.lineage import LineageScreen

        self.app.push_screen(LineageScreen(self.unique_id, self.run_id))


def _code(code: str, lexer: str, where: str) -> Any:
    from rich.console import Group

    return Group(Text(where, style="dim"),
                 Syntax(code.rstrip("\n"), lexer, theme="ansi_dark", line_numbers=True,
                        word_wrap=True, background_color="default"))


def _history_text(data: NodeData, durations: list[float]) -> Text:
    text = Text()
    if not durations:
        text.append("no successful runs of this node yet", style="dim")
        return text
    ordered = sorted(durations)
    text.append(f"{len(durations)} successful run{'s' if len(durations) != 1 else ''}: "
                f"last {fmt.duration(durations[-1])}, median "
                f"{fmt.duration(ordered[len(ordered) // 2])}, min {fmt.duration(ordered[0])}, "
                f"max {fmt.duration(ordered[-1])}", style="dim")
    failures = sum(1 for r in data.history if r.status in fmt.FAILED_NODE_STATUSES)
    if failures:
        text.append(f"; failed {failures} of the last {len(data.history)}", style="red")
    return text


def _relatives_text(data: NodeData) -> Text:
    text = Text()
    if data.dag_error is not None:
        text.append(f"\n{data.dag_error}", style="dim")
        return text
    for label, relatives in (("upstream", data.upstream), ("downstream", data.downstream),
                             ("tests", data.tests)):
        text.append(f"\n{label} ({len(relatives)})\n", style="bold")
        if not relatives:
            text.append("  none\n", style="dim")
        for relative in relatives:
            text.append_text(_relative(relative))
    return text


def _relative(relative: Relative) -> Text:
    if relative.status is None:
        line = Text("  ○ not in this run  ", style="dim")
    else:
        glyph, style = fmt.NODE_STYLES.get(relative.status, ("?", ""))
        line = Text(f"  {glyph} {relative.status:<11} ", style=style)
    line.append(f"{relative.resource_type} ", style="dim")
    line.append(f"{relative.name}\n")
    return line


def _logs_text(data: NodeData, clock: fmt.Clock) -> Text:
    if not data.logs:
        return Text("no logs stored for this node in this run (dbt nodes log to "
                    "logs/dbt.log)", style="dim")
    text = Text()
    for at, level, message in data.logs:
        style = {"ERROR": "red", "WARNING": "yellow"}.get(level.upper(), "")
        text.append(f"{clock.moment(at).strftime('%H:%M:%S')} {level:<7} ", style="dim")
        text.append(f"{message}\n", style=style)
    return text
