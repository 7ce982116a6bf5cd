"""The first screen: recent and running runs, the latest selected, Enter opens one."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static

from eltkit.state.store import RunRecord
from eltkit.tui import format as fmt
from eltkit.tui.data import RunsData, read_runs
from eltkit.tui.screens.base import CURSOR_KEYS, LiveScreen
from eltkit.tui.widgets.virtual_table import Row, VirtualTable

EMPTY_MESSAGE = "no runs yet: start one with `eltkit run` (or press s here)"
COLUMNS = [("status", "status"), ("started", "started"), ("took", "took"),
           ("cmd", "cmd"), ("trigger", "trigger"), ("done", "done"),
           ("selection", "selection"), ("run id", "id")]


class RunsScreen(LiveScreen):
    """Recent runs, newest first; live while runs write the history."""

    HEADLINE_ID = "runs-empty"
    LIST_ID = "runs"

    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="Open the run: its nodes, live", show=True),
        Binding("s", "start", "Start run",
                tooltip="Start a run of a selection (in its own process)"),
        Binding("r", "retry", "Retry",
                tooltip="Retry failed nodes and downstream (asks first)"),
        Binding("c", "cancel", "Cancel",
                tooltip="Cancel the run: SIGINT to it (asks first)"),
        Binding("f", "freshness", "Freshness",
                tooltip="Freshness of sources: age, thresholds, last check"),
        Binding("J", "jobs", "Jobs", key_display="J",
                tooltip="Jobs: next fire, paused or not, last job run"),
        Binding("S", "slas", "SLAs", key_display="S",
                tooltip="SLAs: state, due, predicted finish, escalation"),
        *CURSOR_KEYS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: RunsData | None = None
        self._followed_latest = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading the run history…", id="runs-empty")
        yield VirtualTable(COLUMNS, id="runs")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#runs", VirtualTable).display = False
        self.set_interval(1.0, self._tick)
        if self.eltkit.version >= 0:
            self.reload()

    def read_history(self) -> RunsData | None:
        store = self.eltkit.history.open()
        return None if store is None else read_runs(store)

    def show(self, data: Any) -> None:
        empty = self.query_one("#runs-empty", Static)
        table = self.query_one("#runs", VirtualTable)
        self.data = data
        if data is None or not data.runs:
            empty.update(EMPTY_MESSAGE)
            empty.display = True
            table.display = False
            return
        empty.display = False
        table.display = True
        latest_before = self._followed_latest and (
            table.cursor_key is None or table.cursor_row == 0)
        table.sync([self._row(run, data) for run in data.runs])
        if latest_before:
            table.move_cursor(row=0, animate=False)
        if self.focused is None:
            table.focus()

    def _tick(self) -> None:
        """The duration of running runs moves on between history changes."""
        data = self.data
        if data is None or not self.is_current:
            return
        running = [run for run in data.runs if run.status == "running"]
        if running:
            self.query_one("#runs", VirtualTable).update_rows(
                [self._row(run, data) for run in running])

    def _row(self, run: RunRecord, data: RunsData) -> Row:
        clock = self.eltkit.clock
        counts = data.counts.get(run.id, {})
        took = fmt.duration(clock.elapsed(run.started_at, run.finished_at))
        trigger = run.trigger + (f":{run.job}" if run.job else "")
        return run.id, (fmt.run_status(run.status), clock.started(run.started_at), took,
                        run.command, trigger, fmt.progress(counts),
                        fmt.one_line(fmt.describe_selection(run.selection), 40), run.id)

    def selected_run(self) -> RunRecord | None:
        if self.data is None:
            return None
        return self.under_cursor(self.data.runs, lambda run: run.id)

    @on(VirtualTable.RowHighlighted, "#runs")
    def _highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        self._followed_latest = event.table.cursor_row == 0

    def action_open(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.open_run(run.id)

    def action_freshness(self) -> None:
        from eltkit.tui.screens.freshness import FreshnessScreen

        self.app.push_screen(FreshnessScreen())

    def action_jobs(self) -> None:
        from eltkit.tui.screens.jobs import JobsScreen

        self.app.push_screen(JobsScreen())

    def action_slas(self) -> None:
        from eltkit.tui.screens.slas import SlaScreen

        self.app.push_screen(SlaScreen())
