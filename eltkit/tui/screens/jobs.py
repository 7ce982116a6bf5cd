"""Jobs: every job of eltkit.yml, how it starts, whether it is paused, its last job run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.binding import Binding

from eltkit.tui import format as fmt
from eltkit.tui.data_jobs import NO_JOBS, JobRow, JobsData, read_jobs
from eltkit.tui.screens.base import BACK, CURSOR_KEYS, LaunchEnded, ListScreen
from eltkit.tui.screens.dialogs import confirm
from eltkit.tui.widgets.virtual_table import Cell, Row

COLUMNS = [("job", "job"), ("state", "state"), ("last run", "last"), ("at", "at"),
           ("next fire", "next"), ("triggers", "triggers"), ("now", "now"),
           ("fails", "fails"), ("reason", "reason"), ("interval", "interval"),
           ("message", "message")]
PAUSED = Text("‖ PAUSED", style="bold yellow")
ACTIVE = Text("active", style="green")
#: A scheduler whose heartbeat is older than this is shown as not responding.
SCHEDULER_STALE_SECONDS = 60.0


class JobsScreen(ListScreen[JobsData, JobRow]):
    """The jobs, live while the scheduler and triggered job runs write the history."""

    HEADLINE_ID = "jobs-summary"
    LIST_ID = "jobs"
    DETAIL_ID = "job-detail"
    COLUMNS = COLUMNS
    BINDINGS = [
        Binding("enter", "open", "Job runs",
                tooltip="The job's job runs; Enter on one opens its run"),
        Binding("t", "trigger", "Trigger",
                tooltip="Run the job now with `eltkit trigger` (asks first)"),
        Binding("p", "pause", "Pause/resume",
                tooltip="Pause or resume the job (asks first)"),
        BACK,
        *CURSOR_KEYS,
    ]

    def __init__(self) -> None:
        super().__init__()
        #: job -> what is running for it from here ("eltkit trigger ingest (pid 12)")
        self.pending: dict[str, str] = {}

    def read_history(self) -> JobsData:
        now = datetime.fromtimestamp(self.eltkit.clock.now(), UTC)
        return read_jobs(self.eltkit.history.open(), self.eltkit.catalog.project, now)

    def items(self, data: JobsData) -> list[JobRow]:
        return data.jobs

    def key_of(self, item: JobRow) -> str:
        return item.name

    # The base tick() re-renders every second: "next fire in 3h" and the heartbeat age move on.

    def row(self, job: JobRow) -> Row:
        clock = self.eltkit.clock
        last = job.last
        now: list[str] = []
        if job.running:
            now.append(f"▶{job.running}")
        if job.queued:
            now.append(f"·{job.queued}")
        cells: tuple[Cell, ...] = (
            Text(job.name, style="bold"), PAUSED if job.paused else ACTIVE,
            fmt.job_run_status(last.status) if last else Text("never ran", style="dim"),
            clock.started(last_moment(last)) if last else "",
            self._next_fire(job), "; ".join(job.triggers), " ".join(now),
            str(job.consecutive_failures) if job.consecutive_failures else "",
            last.reason if last else "", interval_text(last, clock) if last else "",
            fmt.one_line(last.message, 100) if last else "")
        return job.name, cells

    def _next_fire(self, job: JobRow) -> Text | str:
        if job.next_fire is None:
            return "-"
        shown = self.eltkit.clock.started(job.next_fire)
        if job.next_fire <= self.eltkit.clock.now():
            return Text(f"{shown} missed", style="yellow")  # behind, or paused
        return shown

    def summary_text(self, data: JobsData) -> Text:
        if data.error is not None:
            return Text(data.error, style="red")
        if not data.jobs:
            return Text(NO_JOBS, style="dim")
        count = len(data.jobs)
        text = Text()
        text.append(f"{count} job{'s' if count != 1 else ''}", style="bold")
        paused = sum(1 for job in data.jobs if job.paused)
        running = sum(job.running for job in data.jobs)
        queued = sum(job.queued for job in data.jobs)
        for number, label, style in ((paused, "‖ {} paused", "bold yellow"),
                                     (running, "▶ {} running", "bold cyan"),
                                     (queued, "· {} queued", "dim")):
            if number:
                text.append("  " + label.format(number), style=style)
        lasts: dict[str, int] = {}
        for job in data.jobs:
            if job.last is not None:
                lasts[job.last.status] = lasts.get(job.last.status, 0) + 1
        if lasts:
            text.append("  last runs:", style="dim")
            for status, number in sorted(lasts.items()):
                glyph, style = fmt.JOB_RUN_STYLES.get(status, ("?", ""))
                text.append(f" {glyph} {number} {status}", style=style)
        text.append("\n")
        text.append_text(self._scheduler_text(data))
        for what in self.pending.values():
            text.append(f"  {what}…", style="bold cyan")
        return text

    def _scheduler_text(self, data: JobsData) -> Text:
        clock = self.eltkit.clock
        holder = data.scheduler
        if data.history_missing:
            return Text("no run history yet: nothing has run; `eltkit schedule` starts jobs "
                        "when due, t here runs one now", style="dim")
        if holder is None:
            return Text("no scheduler running: jobs start when due only under `eltkit "
                        "schedule`; t here runs one now", style="yellow")
        beat = max(0.0, clock.now() - float(holder["heartbeat_at"]))
        where = f"pid {holder['pid']} on {holder['host']}"
        if beat > SCHEDULER_STALE_SECONDS:
            return Text(f"scheduler not responding ({where}, last heartbeat "
                        f"{fmt.span(beat)} ago)", style="bold red")
        return Text(f"scheduler running ({where} since {clock.started(holder['started_at'])})",
                    style="dim")

    def detail_text(self, job: JobRow) -> Text:
        """The highlighted job in full: triggers, steps, next fire, pause, last job run."""
        clock = self.eltkit.clock
        text = Text()
        text.append(f"{job.name}: ", style="bold")
        text.append("; ".join(job.triggers))
        text.append("  steps: ", style="dim")
        text.append(" → ".join(job.steps))
        if job.next_fire is not None:
            zone = zone_of(job.timezone)
            local = datetime.fromtimestamp(job.next_fire, zone).strftime("%Y-%m-%d %H:%M %Z")
            ahead = job.next_fire - clock.now()
            when = f"in {fmt.span(ahead)}" if ahead > 0 else f"missed {fmt.span(-ahead)} ago"
            text.append(f"\nnext fire {local} ({when})")
        if job.paused:
            text.append(f"\n‖ PAUSED: {job.paused_reason or 'paused'}; p resumes it",
                        style="bold yellow")
        elif job.consecutive_failures:
            text.append(f"\n{job.consecutive_failures} consecutive failed job runs",
                        style="yellow")
        last = job.last
        if last is None:
            text.append("\nnever ran: t runs it now", style="dim")
        else:
            text.append("\nlast: ")
            text.append_text(fmt.job_run_status(last.status))
            text.append(f" ({last.reason}", style="dim")
            if last.attempt > 1:
                text.append(f", attempt {last.attempt}", style="dim")
            text.append(f") {clock.stamp(last_moment(last))}", style="dim")
            interval = interval_text(last, clock, zone_of(job.timezone))
            if interval:
                text.append(f"  interval {interval}")
            if last.message:
                text.append(f": {last.message.strip()}")
        return text

    # -- actions ----------------------------------------------------------------------------

    def action_open(self) -> None:
        job = self.highlighted()
        if job is not None:
            from eltkit.tui.screens.job_runs import JobRunsScreen

            self.app.push_screen(JobRunsScreen(job.name))

    def action_trigger(self) -> None:
        job = self.highlighted()
        if job is None or not self._can_launch(job):
            return
        question = (f"Run job {job.name} now ({' → '.join(job.steps)})? `eltkit trigger` "
                    "runs it in its own process; closing the TUI does not stop it.")
        if job.paused:
            question += " It runs although the job is paused."

        confirm(self.app, question, lambda: self._launch(job.name, "trigger"))

    def action_pause(self) -> None:
        job = self.highlighted()
        if job is None or not self._can_launch(job):
            return
        if job.paused:
            question = (f"Resume job {job.name}? The scheduler starts it again when due (and "
                        "catches up its missed fires); its failure count goes back to 0.")
        else:
            question = (f"Pause job {job.name}? The scheduler stops starting it (a running "
                        "job run goes on); `eltkit trigger` still runs it.")

        what = "resume" if job.paused else "pause"
        confirm(self.app, question, lambda: self._launch(job.name, what))

    def _can_launch(self, job: JobRow) -> bool:
        if self.eltkit.launcher is None:
            self.notify("actions need a project (eltkit tui --project DIR)", severity="error")
            return False
        if job.name in self.pending:
            self.notify(f"{self.pending[job.name]} is still going", severity="warning")
            return False
        return True

    def _launch(self, job: str, what: str) -> None:
        launcher = self.eltkit.launcher
        assert launcher is not None
        if what == "trigger":
            shown = f"eltkit trigger {job}"
            launched = self.launch(shown, lambda ended: launcher.trigger(job, ended),
                                   what, job)
        else:
            shown = f"eltkit jobs {what} {job}"
            launched = self.launch(
                shown, lambda ended: launcher.set_paused(job, what == "pause", ended), what, job)
        if launched is not None:
            self.pending[job] = f"{shown} (pid {launched.pid})"
            self.render_summary()

    def on_launch_ended(self, message: LaunchEnded) -> None:
        message.stop()
        self.pending.pop(message.subject, None)
        self.render_summary()
        line = message.last_line or "see tui-launch.log"
        if message.what == "trigger":
            # `eltkit trigger` ends with "NAME: SUCCESS: ..." or "NAME: FAILED: ...".
            self.notify(line if message.code in (0, 1) else f"eltkit trigger failed: {line}",
                        severity="information" if message.code == 0 else "error",
                        timeout=10)
        elif message.code != 0:
            self.notify(f"eltkit jobs {message.what} failed: {line}", severity="error",
                        timeout=10)
        else:
            self.notify(line, timeout=4)


def last_moment(job_run: Any) -> float:
    """When a job run last moved: its end, else its start, else when it was queued."""
    return float(job_run.finished_at or job_run.started_at or job_run.queued_at)


def zone_of(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def interval_text(job_run: Any, clock: fmt.Clock, zone: Any = None) -> str:
    """The data interval a job run covered: ``11-19 05:00 → 11-20 05:00`` (or in ``zone``)."""
    if job_run.interval_start is None or job_run.interval_end is None:
        return ""
    if zone is not None:
        start = datetime.fromtimestamp(job_run.interval_start, zone)
        end = datetime.fromtimestamp(job_run.interval_end, zone)
        return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M %Z}"
    start, end = clock.moment(job_run.interval_start), clock.moment(job_run.interval_end)
    return f"{start:%m-%d %H:%M} → {end:%m-%d %H:%M}"
