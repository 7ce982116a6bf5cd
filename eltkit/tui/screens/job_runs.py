"""One job's recent job runs, and the step runs of the highlighted one."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Static

from eltkit.state.jobs import JobRun
from eltkit.state.store import RunRecord
from eltkit.tui import format as fmt
from eltkit.tui.data_jobs import JobRunsData, read_job_runs, read_steps, step_to_open
from eltkit.tui.screens.base import BACK, CURSOR_KEYS, LiveScreen
from eltkit.tui.screens.jobs import interval_text
from eltkit.tui.widgets.virtual_table import Row, VirtualTable

RUN_COLUMNS = [("status", "status"), ("reason", "reason"), ("at", "at"), ("took", "took"),
               ("interval", "interval"), ("try", "attempt"), ("message", "message"),
               ("job run", "id")]
STEP_COLUMNS = [("status", "status"), ("step", "command"), ("selection", "selection"),
                ("started", "started"), ("took", "took"), ("run id", "id")]


class StepsLoaded(Message):
    def __init__(self, job_run_id: str, steps: list[RunRecord], error: str | None,
                 open_after: bool) -> None:
        super().__init__()
        self.job_run_id = job_run_id
        self.steps = steps
        self.error = error
        self.open_after = open_after


class JobRunsScreen(LiveScreen):
    """Job runs of one job, newest first; Enter opens the run of a step."""

    HEADLINE_ID = "job-runs-title"
    LIST_ID = "job-runs"

    BINDINGS = [
        Binding("enter", "open", "Open run",
                tooltip="Open the run of its step (failed, else last)"),
        BACK,
        *CURSOR_KEYS,
    ]

    def __init__(self, job: str) -> None:
        super().__init__()
        self.job = job
        self.data: JobRunsData | None = None
        self.steps: list[RunRecord] = []
        self.steps_of: str | None = None  # the job run whose steps are shown
        self.steps_loads = 0  # step lists applied; tests wait on it

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="job-runs-title")
        yield VirtualTable(RUN_COLUMNS, id="job-runs")
        yield Static("", id="job-steps-title")
        yield VirtualTable(STEP_COLUMNS, id="job-steps")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self.reload()

    def read_history(self) -> JobRunsData:
        return read_job_runs(self.eltkit.history.open(), self.eltkit.catalog.project, self.job)

    def show(self, data: Any) -> None:
        assert isinstance(data, JobRunsData)
        self.data = data
        self.query_one("#job-runs-title", Static).update(self._title(data))
        table = self.query_one("#job-runs", VirtualTable)
        table.sync([self._row(job_run) for job_run in data.job_runs])
        if self.focused is None and data.job_runs:
            table.focus()
        self._load_steps(table.cursor_key)

    def _tick(self) -> None:
        """A running job run's time moves on between history changes."""
        if self.data is None or not self.is_current:
            return
        running = [run for run in self.data.job_runs if run.status == "running"]
        if running:
            self.query_one("#job-runs", VirtualTable).update_rows(
                [self._row(run) for run in running])
        if any(step.status == "running" for step in self.steps):
            self.query_one("#job-steps", VirtualTable).update_rows(
                [self._step_row(step) for step in self.steps])

    def _title(self, data: JobRunsData) -> Text:
        text = Text()
        text.append("job runs of ", style="dim")
        text.append(data.job, style="bold")
        count = len(data.job_runs)
        text.append(f"  {count} job run{'s' if count != 1 else ''}, newest first")
        if not data.declared:
            text.append("  (no longer in eltkit.yml)", style="yellow")
        if not data.job_runs:
            text.append("\nno job runs yet: t on the jobs screen runs it now, `eltkit "
                        "schedule` when due", style="dim")
        return text

    def _row(self, job_run: JobRun) -> Row:
        clock = self.eltkit.clock
        at = job_run.started_at or job_run.queued_at
        took = ""
        if job_run.started_at is not None:
            took = fmt.duration(clock.elapsed(job_run.started_at, job_run.finished_at))
        return job_run.id, (fmt.job_run_status(job_run.status), job_run.reason,
                            clock.started(at), took, interval_text(job_run, clock),
                            str(job_run.attempt), fmt.one_line(job_run.message, 100),
                            job_run.id)

    def _step_row(self, run: RunRecord) -> Row:
        clock = self.eltkit.clock
        return run.id, (fmt.run_status(run.status), run.command,
                        fmt.one_line(fmt.describe_selection(run.selection), 50),
                        clock.started(run.started_at),
                        fmt.duration(clock.elapsed(run.started_at, run.finished_at)), run.id)

    # -- the highlighted job run's steps ----------------------------------------------------

    @work(thread=True, exclusive=True, group="job-steps", exit_on_error=False)
    def _load_steps(self, job_run_id: str | None, open_after: bool = False) -> None:
        if job_run_id is None:
            self.post_message(StepsLoaded("", [], None, False))
            return
        try:
            steps = read_steps(self.eltkit.history.open(), job_run_id)
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(StepsLoaded(job_run_id, [], self.read_error(exc), False))
            return
        self.post_message(StepsLoaded(job_run_id, steps, None, open_after))

    def on_steps_loaded(self, message: StepsLoaded) -> None:
        message.stop()
        if message.job_run_id != (self.query_one("#job-runs", VirtualTable).cursor_key or ""):
            return  # the cursor moved on; its own load follows
        self.steps, self.steps_of = message.steps, message.job_run_id or None
        title = self.query_one("#job-steps-title", Static)
        table = self.query_one("#job-steps", VirtualTable)
        table.sync([self._step_row(step) for step in message.steps])
        table.display = bool(message.steps)
        if message.error is not None:
            title.update(Text(message.error, style="red"))
        else:
            title.update(self._steps_title(message.steps))
        self.steps_loads += 1
        if message.open_after:
            self.action_open()

    def _steps_title(self, steps: list[RunRecord]) -> Text:
        """The highlighted job run in full (its whole message), then what its steps are."""
        job_run = self.highlighted()
        if job_run is None:
            return Text("")
        text = Text()
        text.append_text(fmt.job_run_status(job_run.status))
        text.append(f" {job_run.id}", style="bold")
        text.append(f" ({job_run.reason}, attempt {job_run.attempt})", style="dim")
        if job_run.message:
            text.append(f": {job_run.message.strip()}")
        count = len(steps)
        chosen = step_to_open(steps)
        if chosen is not None:
            which = "the last" if chosen.status == "success" else f"the {chosen.status} one"
            text.append(f"\n{count} step run{'s' if count != 1 else ''}: Enter opens {which}, "
                        "Tab then Enter any", style="dim")
        else:
            text.append(f"\nno step runs: {self._why_no_steps()}", style="dim")
        return text

    def _why_no_steps(self) -> str:
        job_run = self.highlighted()
        if job_run is None:
            return ""
        if job_run.status == "queued":
            return "it has not started yet"
        if job_run.status == "skipped":
            return "it was skipped"
        return "its steps recorded no run (a freshness step, or it stopped before the first)"

    def highlighted(self) -> JobRun | None:
        if self.data is None:
            return None
        return self.under_cursor(self.data.job_runs, lambda run: run.id)

    @on(VirtualTable.RowHighlighted, "#job-runs")
    def _highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        if event.key != self.steps_of:
            self._load_steps(event.key)

    @on(VirtualTable.RowSelected, "#job-steps")
    def _step_selected(self, event: VirtualTable.RowSelected) -> None:
        if event.key is not None:
            self.open_run(event.key)

    def action_open(self) -> None:
        steps_table = self.query_one("#job-steps", VirtualTable)
        if steps_table.has_focus and steps_table.cursor_key is not None:
            self.open_run(steps_table.cursor_key)
            return
        job_run = self.highlighted()
        if job_run is None:
            return
        if self.steps_of != job_run.id:
            self._load_steps(job_run.id, True)  # opens once they are read
            return
        step = step_to_open(self.steps)
        if step is None:
            self.notify(f"{job_run.id} has no step runs: {self._why_no_steps()}",
                        severity="warning")
            return
        self.open_run(step.id)

    def cursor_list(self) -> VirtualTable:
        """j and k move in the step runs once Tab moved there."""
        steps = self.query_one("#job-steps", VirtualTable)
        return steps if steps.has_focus else self.query_one("#job-runs", VirtualTable)
