"""What every live screen shares: reload when the history changed, actions, help."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.message import Message
from textual.screen import Screen

from eltkit.errors import EltkitError
from eltkit.state.store import RunRecord

if TYPE_CHECKING:
    from eltkit.tui.app import EltkitApp


class Loaded(Message):
    """A worker's result for the screen that started it, tagged with its sequence number."""

    def __init__(self, seq: int, data: Any, error: str | None = None) -> None:
        super().__init__()
        self.seq = seq
        self.data = data
        self.error = error


class LiveScreen(Screen[None]):
    """A screen that shows history data and reloads it when the history changes.

    Only the screen on top reloads (a covered screen catches up when it is
    shown again), and a reload's result is applied only if no newer reload
    already was: workers may finish out of order.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen_version = -1
        self.loads = 0  # results applied; tests wait on it
        self._seq = 0
        self._applied = -1

    @property
    def eltkit(self) -> EltkitApp:
        return cast("EltkitApp", self.app)

    def on_screen_resume(self) -> None:
        if self.seen_version != self.eltkit.version:
            self.reload()

    def history_changed(self) -> None:
        if self.is_current:
            self.reload()

    def reload(self) -> None:
        self.seen_version = self.eltkit.version
        self._seq += 1
        self.load(self._seq)

    def load(self, seq: int) -> Any:
        """Start a worker that posts :class:`Loaded`; override."""

    def on_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.seq < self._applied:
            return
        self._applied = message.seq
        self.show(message.data, message.error)
        self.loads += 1

    def show(self, data: Any, error: str | None) -> None:
        """Put a worker's result on screen (UI thread); override."""

    # -- actions shared by the runs and run screens ---------------------------------------

    def selected_run(self) -> RunRecord | None:
        return None

    def action_start(self) -> None:
        self.eltkit.start_run()

    def action_retry(self) -> None:
        run = self.selected_run()
        if run is None:
            self.notify("no run selected", severity="warning")
            return
        self.eltkit.retry_run(run)

    def action_cancel(self) -> None:
        run = self.selected_run()
        if run is None:
            self.notify("no run selected", severity="warning")
            return
        if run.status != "running":
            self.notify(f"run {run.id} is not running ({run.status})", severity="warning")
            return
        self.eltkit.cancel_run(run)

    def report(self, exc: EltkitError) -> None:
        self.notify(exc.message, severity="error", timeout=8)
