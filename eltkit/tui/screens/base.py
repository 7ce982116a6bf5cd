"""What every live screen shares: reload when the history changed, actions, keys, help.

:class:`LiveScreen` reads the history in a worker and shows the newest result;
:class:`ListScreen` adds the layout of the freshness, jobs and SLA screens: a
summary, a list, and the highlighted item in full below it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from eltkit.errors import EltkitError
from eltkit.state.store import RunRecord
from eltkit.tui.widgets.virtual_table import Row, VirtualTable

if TYPE_CHECKING:
    from eltkit.tui.actions import Launched
    from eltkit.tui.app import EltkitApp

#: Esc goes back to the screen below.
BACK = Binding("escape", "back", "Back")
#: j and k move in the screen's list, as the arrow keys do.
CURSOR_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False),
    Binding("k", "cursor_up", "Up", show=False),
]

DataT = TypeVar("DataT")
ItemT = TypeVar("ItemT")
T = TypeVar("T")


class Loaded(Message):
    """A worker's result for the screen that started it, tagged with its sequence number."""

    def __init__(self, seq: int, data: Any, error: str | None = None) -> None:
        super().__init__()
        self.seq = seq
        self.data = data
        self.error = error


class LaunchEnded(Message):
    """An `eltkit` process started from this screen ended (see :meth:`LiveScreen.launch`)."""

    def __init__(self, what: str, code: int, last_line: str, subject: str = "") -> None:
        super().__init__()
        self.what = what
        self.code = code
        self.last_line = last_line
        self.subject = subject


class LiveScreen(Screen[None]):
    """A screen that shows history data and reloads it when the history changes.

    Only the screen on top reloads (a covered screen catches up when it is
    shown again), and a reload's result is applied only if no newer reload
    already was: workers may finish out of order.
    """

    #: The Static where a failed read is shown, in red: the screen's title or summary.
    HEADLINE_ID: ClassVar[str] = ""
    #: The list j and k move in ("" on a screen without one).
    LIST_ID: ClassVar[str] = ""

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

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self, seq: int) -> None:
        """Read in a worker thread (SQLite and the DAG stay off the UI thread); post the result."""
        try:
            data = self.read_history()
        except Exception as exc:  # noqa: BLE001 - shown on screen, the app keeps going
            self.post_message(Loaded(seq, None, self.read_error(exc)))
            return
        self.post_message(Loaded(seq, data))

    def read_history(self) -> Any:
        """What the screen shows, read in the worker thread (no widgets here); override."""
        raise NotImplementedError

    def read_error(self, exc: Exception) -> str:
        """The one line a failed read shows: an EltkitError's message is the whole story."""
        return exc.message if isinstance(exc, EltkitError) else str(exc)

    def on_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.seq < self._applied:
            return
        self._applied = message.seq
        if message.error is not None:
            self.query_one(f"#{self.HEADLINE_ID}", Static).update(
                Text(message.error, style="red"))
        else:
            self.show(message.data)
        self.loads += 1

    def show(self, data: Any) -> None:
        """Put a worker's result on screen (UI thread); override."""

    # -- keys every screen has ------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def cursor_list(self) -> VirtualTable:
        """The list j and k move in; a screen with two lists picks one."""
        return self.query_one(f"#{self.LIST_ID}", VirtualTable)

    def action_cursor_down(self) -> None:
        self.cursor_list().action_cursor_down()

    def action_cursor_up(self) -> None:
        self.cursor_list().action_cursor_up()

    def under_cursor(self, items: Iterable[T], key_of: Callable[[T], str]) -> T | None:
        """The item whose row the cursor of the screen's list is on."""
        key = self.query_one(f"#{self.LIST_ID}", VirtualTable).cursor_key
        return next((item for item in items if key_of(item) == key), None)

    @on(VirtualTable.RowSelected)
    def _open_selected(self, event: VirtualTable.RowSelected) -> None:
        """Enter (or a click) on a row of the screen's list opens it."""
        if event.table.id == self.LIST_ID:
            self.action_open()

    def action_open(self) -> None:
        """Open what the cursor is on (Enter); a screen with nothing to open keeps this no-op."""

    def open_run(self, run_id: str) -> None:
        """Show one run: its nodes, live."""
        from eltkit.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(run_id))

    # -- actions that start `eltkit` in its own process -----------------------------------

    def launch(self, shown: str, start: Callable[[Callable[[int, str], None]], Launched],
               what: str, subject: str = "") -> Launched | None:
        """Start ``shown`` with ``start(on_exit)``; :class:`LaunchEnded` comes back at its end.

        Says on screen that it started (or why it could not: then None).
        """
        def ended(code: int, last_line: str) -> None:  # in the reaping thread
            self.post_message(LaunchEnded(what, code, last_line, subject))

        try:
            launched = start(ended)
        except OSError as exc:
            self.notify(f"cannot start eltkit: {exc}", severity="error", timeout=8)
            return None
        self.notify(f"started `{shown}` (pid {launched.pid}); output: {launched.log}",
                    timeout=6)
        return launched

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


class ListScreen(LiveScreen, Generic[DataT, ItemT]):
    """A summary, a list, and the highlighted item in full: freshness, jobs, SLAs.

    A subclass names the widgets (HEADLINE_ID is the summary) and says what the
    items are and how each is drawn; the list, its focus and the detail pane
    follow the data the same way on each screen.
    """

    DETAIL_ID: ClassVar[str]
    COLUMNS: ClassVar[list[tuple[str, str]]]
    #: What the summary says until the first read.
    LOADING: ClassVar[str] = "loading…"
    #: Show the (empty) detail pane until the first item is highlighted.
    DETAIL_BEFORE_DATA: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.data: DataT | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.LOADING, id=self.HEADLINE_ID)
        yield VirtualTable(self.COLUMNS, id=self.LIST_ID)
        yield Static("", id=self.DETAIL_ID)
        yield Footer()

    def on_mount(self) -> None:
        self.cursor_list().display = False
        if not self.DETAIL_BEFORE_DATA:
            self.query_one(f"#{self.DETAIL_ID}", Static).display = False
        self.set_interval(self.tick_seconds(), self._tick)
        self.reload()

    def tick_seconds(self) -> float:
        return 1.0

    def _tick(self) -> None:
        if self.is_current:
            self.tick()

    def tick(self) -> None:
        """While on top: times like "checked 5s ago" move on between history changes."""
        if self.data is not None:
            self.render_summary()
            self.render_detail()

    def show(self, data: Any) -> None:
        self.data = data
        items = self.items(data)
        table = self.cursor_list()
        table.display = bool(items)
        table.sync([self.row(item) for item in items])
        if items and self.focused is None:
            table.focus()
        self.render_summary()
        self.render_detail()

    def items(self, data: DataT) -> Sequence[ItemT]:
        """The rows of the list, in order; override."""
        raise NotImplementedError

    def key_of(self, item: ItemT) -> str:
        """The key of an item's row; override."""
        raise NotImplementedError

    def row(self, item: ItemT) -> Row:
        """An item as a row of the list; override."""
        raise NotImplementedError

    def summary_text(self, data: DataT) -> Text:
        """The lines above the list; override."""
        raise NotImplementedError

    def detail_text(self, item: ItemT) -> Text:
        """The highlighted item in full, below the list; override."""
        raise NotImplementedError

    def render_summary(self) -> None:
        if self.data is not None:
            self.query_one(f"#{self.HEADLINE_ID}", Static).update(self.summary_text(self.data))

    def render_detail(self) -> None:
        detail = self.query_one(f"#{self.DETAIL_ID}", Static)
        item = self.highlighted()
        if item is None:
            detail.display = False
            return
        detail.update(self.detail_text(item))
        detail.display = True

    def highlighted(self) -> ItemT | None:
        if self.data is None:
            return None
        return self.under_cursor(self.items(self.data), self.key_of)

    @on(VirtualTable.RowHighlighted)
    def _detail_follows_cursor(self, event: VirtualTable.RowHighlighted) -> None:
        if event.table.id == self.LIST_ID:
            self.render_detail()
