"""The Textual app behind `eltkit tui`.

Live updates: a thread worker reads the history's change counter (one
SQLite pragma); the next poll is armed with ``set_timer`` only when the last
one finished, so polls never overlap and an idle TUI costs almost nothing.
When the counter moved, the screen on top reloads its data in its own thread
worker and applies it by message. Nothing on the UI thread touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message

from eltkit.errors import EltkitError
from eltkit.state.store import RunRecord
from eltkit.tui.actions import Launcher, cancel
from eltkit.tui.data import Catalog, History, PollResult
from eltkit.tui.format import Clock
from eltkit.tui.screens.base import LiveScreen
from eltkit.tui.screens.runs import RunsScreen

if TYPE_CHECKING:
    from eltkit.project import Project
    from eltkit.tui.screens.dialogs import MessageScreen

# The other screens (one run, a node, freshness, lineage, jobs, SLAs, the dialogs) are
# imported when first opened: `eltkit tui` pays only for the runs screen at start-up.

POLL_SECONDS = 0.5
ERROR_POLL_SECONDS = 2.0


class Polled(Message):
    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result


@dataclass
class Settings:
    poll_seconds: float = POLL_SECONDS
    clock: Clock | None = None


class EltkitApp(App[None]):
    """Runs, one run, one node; live; actions start `eltkit` in separate processes."""

    CSS_PATH = "app.tcss"
    TITLE = "eltkit"
    ENABLE_COMMAND_PALETTE = False
    #: Below 20 lines the header goes and the summary and error panes shrink (app.tcss).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (20, "-tall")]
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, history: History, catalog: Catalog, launcher: Launcher | None = None,
                 *, title: str = "", settings: Settings | None = None) -> None:
        super().__init__()
        self.history = history
        self.catalog = catalog
        self.launcher = launcher
        self.settings = settings or Settings()
        self.clock = self.settings.clock or Clock()
        self.version = -1
        self.missing = False
        self.polls = 0
        self._error_screen: MessageScreen | None = None
        if title:
            self.sub_title = title

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())
        self.poll()

    # -- polling --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll(self) -> None:
        self.post_message(Polled(self.history.poll()))

    def on_polled(self, message: Polled) -> None:
        result = message.result
        self.polls += 1
        if result.error is not None:
            self._show_error(result.error)
            self.set_timer(ERROR_POLL_SECONDS, self.poll)
            return
        if self._error_screen is not None:
            screen, self._error_screen = self._error_screen, None
            if screen in self.screen_stack:
                self.pop_screen()
            self.version = -1
        if result.version != self.version or result.missing != self.missing:
            self.version = result.version
            self.missing = result.missing
            if isinstance(self.screen, LiveScreen):
                self.screen.history_changed()
        self.set_timer(self.settings.poll_seconds, self.poll)

    def _show_error(self, message: str) -> None:
        from eltkit.tui.screens.dialogs import MessageScreen

        if self._error_screen is None:
            self._error_screen = MessageScreen("The run history cannot be read", message)
            self.push_screen(self._error_screen)
        else:
            self._error_screen.update_message(message)

    # -- actions --------------------------------------------------------------------------

    def action_help(self) -> None:
        from eltkit.tui.screens.dialogs import HelpScreen
        from eltkit.tui.screens.freshness import FreshnessScreen
        from eltkit.tui.screens.job_runs import JobRunsScreen
        from eltkit.tui.screens.jobs import JobsScreen
        from eltkit.tui.screens.lineage import LineageScreen
        from eltkit.tui.screens.node import NodeScreen
        from eltkit.tui.screens.run import RunScreen
        from eltkit.tui.screens.slas import SlaScreen

        if isinstance(self.screen, HelpScreen):
            return
        sections: list[tuple[str, list[BindingType]]] = [
            ("Runs (first screen)", list(RunsScreen.BINDINGS)),
            ("Run", list(RunScreen.BINDINGS)),
            ("Node", list(NodeScreen.BINDINGS)),
            ("Lineage (l on a run or a node)", list(LineageScreen.BINDINGS)),
            ("Freshness (f on the runs)", list(FreshnessScreen.BINDINGS)),
            ("Jobs (J on the runs)", list(JobsScreen.BINDINGS)),
            ("Job runs (Enter on a job)", list(JobRunsScreen.BINDINGS)),
            ("SLAs (S on the runs)", list(SlaScreen.BINDINGS)),
            ("Everywhere", [*self.BINDINGS,
                            Binding("up,down", "", "Move in a list (also j, k)",
                                    key_display="↑ ↓ PgUp PgDn Home End"),
                            Binding("tab", "", "Next widget", key_display="Tab")]),
        ]
        self.push_screen(HelpScreen(sections))

    def _launch(self, words: list[str] | None, text: str | None = None) -> None:
        if self.launcher is None:
            self.notify("actions need a project (eltkit tui --project DIR)", severity="error")
            return
        try:
            launched = (self.launcher.start(text) if text is not None
                        else self.launcher.launch(words or []))
        except EltkitError as exc:
            self.notify(exc.message, severity="error", timeout=8)
            return
        except OSError as exc:
            self.notify(f"cannot start eltkit: {exc}", severity="error", timeout=8)
            return
        shown = " ".join(launched.argv[3:launched.argv.index("--project")])
        self.notify(f"started `eltkit {shown}` (pid {launched.pid}); output: {launched.log}",
                    timeout=6)

    def start_run(self) -> None:
        from eltkit.tui.screens.dialogs import StartScreen

        def started(text: str | None) -> None:
            if text is not None:
                self._launch(None, text)

        self.push_screen(StartScreen(), started)

    def retry_run(self, run: RunRecord) -> None:
        from eltkit.tui.screens.dialogs import confirm

        if run.status == "running":
            self.notify(f"run {run.id} is still running; wait for it or cancel it (c)",
                        severity="warning")
            return
        if run.status == "success":
            self.notify(f"nothing to retry: run {run.id} succeeded", severity="warning")
            return

        confirm(self, f"Retry what failed or never finished in run {run.id}, and its "
                "downstream?", lambda: self._launch(["retry", run.id]))

    def cancel_run(self, run: RunRecord) -> None:
        from eltkit.tui.screens.dialogs import confirm

        def cancel_it() -> None:
            try:
                self.notify(cancel(run), timeout=6)
            except EltkitError as exc:
                self.notify(exc.message, severity="error", timeout=8)

        confirm(self, f"Cancel run {run.id} (pid {run.pid})? Its running nodes are stopped "
                "and the rest is not started.", cancel_it)


def make_app(project: Project | None, history_file: Path, *, settings: Settings | None = None,
             catalog: Catalog | None = None, launch_options: list[str] | None = None,
             ) -> EltkitApp:
    """The app for a project (or just a history file: then without actions)."""
    launcher = None
    title = str(history_file)
    if project is not None:
        launcher = Launcher(project.root, history_file.parent, launch_options)
        title = project.name
    return EltkitApp(History(history_file), catalog or Catalog(project), launcher,
                     title=title, settings=settings)
