"""One run: its nodes in DAG order with statuses, counts, elapsed and ETA, failures in view."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Input, Static

from eltkit.errors import EltkitError
from eltkit.state.store import NodeRecord, RunRecord
from eltkit.tui import format as fmt
from eltkit.tui.data import RunData, RunReader
from eltkit.tui.screens.base import BACK, CURSOR_KEYS, LiveScreen
from eltkit.tui.widgets.virtual_table import Row, VirtualTable

COLUMNS = [("status", "status"), ("node", "node"), ("type", "type"), ("layer", "layer"),
           ("took", "took"), ("tries", "tries"), ("message", "message")]


class Filtered(Message):
    """The unique ids a selector picked (or an error)."""

    def __init__(self, seq: int, data: Any, error: str | None = None) -> None:
        super().__init__()
        self.seq = seq
        self.data = data
        self.error = error


class RunScreen(LiveScreen):
    """The nodes of one run, live while it goes."""

    HEADLINE_ID = "run-summary"
    LIST_ID = "nodes"

    BINDINGS = [
        Binding("enter", "open", "Open node",
                tooltip="Open the node: SQL, compiled SQL, logs, history"),
        Binding("slash", "filter", "Filter",
                tooltip="Filter the nodes by a dbt selector (Esc clears)", key_display="/"),
        Binding("n", "next_failure", "Next fail", tooltip="Jump to the next failed node"),
        Binding("l", "lineage", "Lineage",
                tooltip="Lineage of the node: upstream, downstream, columns"),
        Binding("p", "previous_failure", "Prev failure",
                tooltip="Jump to the previous failed node", show=False),
        Binding("r", "retry", "Retry",
                tooltip="Retry failed nodes and downstream (asks first)"),
        Binding("c", "cancel", "Cancel",
                tooltip="Cancel the run: SIGINT to it (asks first)"),
        Binding("s", "start", "Start run",
                tooltip="Start a run of a selection (in its own process)", show=False),
        BACK,
        *CURSOR_KEYS,
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.data: RunData | None = None
        self.filter_text: str | None = None
        self.filter_ids: set[str] | None = None
        self._placed_cursor = False
        self._reader: RunReader | None = None
        self._ticking = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="run-summary")
        yield Input(placeholder="dbt selector, e.g. +fct_orders tag:daily (Enter applies, "
                    "Esc clears)", id="filter")
        yield VirtualTable(COLUMNS, id="nodes")
        yield Static("", id="problem")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#problem", Static).display = False
        self._reader = RunReader(self.eltkit.catalog)
        self.set_interval(1.0, self._tick)
        self.reload()

    def read_history(self) -> RunData:
        store = self.eltkit.history.open()
        assert store is not None and self._reader is not None
        return self._reader.read(store, self.run_id, self.eltkit.clock.now())

    def show(self, data: Any) -> None:
        self.data = data
        self._render_summary()
        self._render_nodes(data.changed)

    def _tick(self) -> None:
        """Elapsed time moves on between history changes while the run goes."""
        if self.data is not None and self.data.run.status == "running" and self.is_current:
            self._render_summary()
            self._render_nodes(frozenset())  # the running rows' times

    def _render_summary(self) -> None:
        data = self.data
        if data is None:
            return
        run, clock = data.run, self.eltkit.clock
        text = fmt.run_status(run.status)
        text.append(f"  {run.command} ", style="bold")
        text.append(fmt.describe_selection(run.selection))
        text.append(f"  ({run.trigger}{':' + run.job if run.job else ''})", style="dim")
        elapsed = clock.elapsed(run.started_at, run.finished_at)
        text.append("\n")
        text.append(f"{fmt.progress(data.counts)} done  ")
        text.append_text(fmt.counts_text(data.counts))
        text.append(f"  elapsed {fmt.duration(elapsed)}")
        if data.eta_s is not None:
            text.append(f"  ETA ~{fmt.duration(data.eta_s)}", style="bold")
        text.append(f"\nrun {run.id}  started {clock.stamp(run.started_at)}", style="dim")
        if self.filter_text is not None and self.filter_ids is not None:
            shown = sum(1 for node in data.nodes if node.unique_id in self.filter_ids)
            text.append(f"\nfilter: {self.filter_text} ({shown} of {len(data.nodes)} nodes)",
                        style="italic")
        if run.message and (run.status in ("interrupted", "cancelled")
                            or run.message.startswith("eltkit error")):
            text.append(f"\n{fmt.one_line(run.message, 200)}", style="dim")
        self.query_one("#run-summary", Static).update(text)

    def _visible(self) -> list[NodeRecord]:
        assert self.data is not None
        if self.filter_ids is None:
            return self.data.nodes
        return [node for node in self.data.nodes if node.unique_id in self.filter_ids]

    def _render_nodes(self, changed: frozenset[str] | None = None) -> None:
        """Show the nodes; when only ``changed`` rows changed, touch only those (and running)."""
        data = self.data
        if data is None:
            return
        table = self.query_one("#nodes", VirtualTable)
        if changed is not None and table.row_count:
            touched = [node for node in data.nodes
                       if node.unique_id in changed or node.status == "running"]
            table.update_rows([self._row(node, data) for node in touched])
        else:
            table.sync([self._row(node, data) for node in self._visible()])
        if not self._placed_cursor and table.keys:
            self._placed_cursor = True
            failures = data.failures
            running = [n for n in data.nodes if n.status == "running"]
            target = failures[0] if failures else (running[0] if running else None)
            if target is not None:
                table.move_to(target.unique_id)
            table.focus()
        self._render_problem()

    def _row(self, node: NodeRecord, data: RunData) -> Row:
        took = node.duration_s
        if node.status == "running" and node.started_at is not None:
            took = self.eltkit.clock.elapsed(node.started_at, None)
        layer = data.layers.get(node.unique_id)
        message = "" if node.status == "success" else fmt.one_line(node.message, 120)
        return node.unique_id, (fmt.node_status(node.status), node.name, node.resource_type,
                                "" if layer is None else str(layer), fmt.duration(took),
                                str(node.attempts) if node.attempts > 1 else "", message)

    def _render_problem(self) -> None:
        """The highlighted node's error, else the first failure's: an error is always in view."""
        problem = self.query_one("#problem", Static)
        data = self.data
        if data is None:
            return
        node = self.highlighted_node()
        if node is None or not (node.message and node.status != "success"):
            failures = data.failures
            node = failures[0] if failures else None
        if node is None or not node.message:
            problem.display = False
            return
        glyph, style = fmt.NODE_STYLES.get(node.status, ("?", ""))
        text = Text(f"{glyph} {node.resource_type} {node.name}: ", style=style)
        text.append(node.message.strip())
        problem.update(text)
        problem.display = True

    def highlighted_node(self) -> NodeRecord | None:
        if self.data is None:
            return None
        return self.under_cursor(self.data.nodes, lambda node: node.unique_id)

    def selected_run(self) -> RunRecord | None:
        return self.data.run if self.data is not None else None

    def action_lineage(self) -> None:
        node = self.highlighted_node()
        if node is None:
            return
        from eltkit.tui.screens.lineage import LineageScreen

        self.app.push_screen(LineageScreen(node.unique_id, self.run_id))

    @on(VirtualTable.RowHighlighted, "#nodes")
    def _highlighted(self) -> None:
        self._render_problem()

    def action_open(self) -> None:
        node = self.highlighted_node()
        if node is not None:
            from eltkit.tui.screens.node import NodeScreen

            self.app.push_screen(NodeScreen(self.run_id, node.unique_id))

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:
            box.display = False
            self.query_one("#nodes", VirtualTable).focus()
        elif self.filter_ids is not None:
            self.clear_filter()
        else:
            self.app.pop_screen()

    # -- failures -------------------------------------------------------------------------

    def action_next_failure(self, step: int = 1) -> None:
        table = self.query_one("#nodes", VirtualTable)
        if self.data is None:
            return
        failed = {node.unique_id for node in self.data.failures}
        keys = table.keys
        if not failed.intersection(keys):
            self.notify("no failures" + (" in this filter" if self.filter_ids else ""))
            return
        start = table.cursor_row
        for offset in range(1, len(keys) + 1):
            index = (start + step * offset) % len(keys)
            if keys[index] in failed:
                table.move_cursor(row=index, animate=False)
                return

    def action_previous_failure(self) -> None:
        self.action_next_failure(-1)

    # -- filter ---------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        if self.filter_text:
            box.value = self.filter_text
        box.focus()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        expression = event.value.strip()
        if not expression:
            self.clear_filter()
            return
        self.apply_filter(expression)

    def apply_filter(self, expression: str) -> None:
        self._seq += 1
        self._select(self._seq, expression)

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def _select(self, seq: int, expression: str) -> None:
        try:
            selected = self.eltkit.catalog.select(expression)
        except EltkitError as exc:
            self.post_message(Filtered(seq, expression, exc.message))
            return
        except Exception as exc:  # noqa: BLE001 - a bad selector must never crash the TUI
            self.post_message(Filtered(seq, expression, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(Filtered(seq, (expression, selected)))

    def on_filtered(self, message: Filtered) -> None:
        message.stop()
        if message.error is not None:
            self.notify(f"filter {message.data}: {message.error}", severity="error", timeout=8)
            return
        self.filter_text, self.filter_ids = message.data
        box = self.query_one("#filter", Input)
        box.display = False
        self.query_one("#nodes", VirtualTable).focus()
        self._render_summary()
        self._render_nodes()
        self.loads += 1

    def clear_filter(self) -> None:
        self.filter_text = None
        self.filter_ids = None
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.query_one("#nodes", VirtualTable).focus()
        self._render_summary()
        self._render_nodes()
