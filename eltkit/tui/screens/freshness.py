"""Source freshness: every source with rules, its age against warn/error, its last check."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Static

from eltkit.errors import EltkitError
from eltkit.tui.data_freshness import (
    NEVER_CHECKED,
    STATUS_ORDER,
    FreshnessData,
    SourceFreshness,
    read_freshness,
)
from eltkit.tui.screens.base import LiveScreen, Loaded
from eltkit.tui.widgets.virtual_table import Row, VirtualTable

COLUMNS = [("status", "status"), ("source", "source"), ("age", "age"), ("warn >", "warn"),
           ("error >", "error"), ("checked", "checked"), ("message", "message")]
#: freshness status -> (glyph, style), in the run screen's glyph language.
STYLES: dict[str, tuple[str, str]] = {
    "pass": ("✓", "green"),
    "warn": ("!", "yellow"),
    "error": ("✗", "bold red"),
    "runtime error": ("✗", "bold red"),
    NEVER_CHECKED: ("○", "dim"),
}
NO_RULES = ("no source declares freshness: add `freshness:` (warn_after / error_after) and "
            "`loaded_at_field` to a source in the dbt YAML")


def status_text(status: str) -> Text:
    glyph, style = STYLES.get(status, ("?", ""))
    return Text(f"{glyph} {status}", style=style)


class CheckFinished(Message):
    """The `eltkit freshness` started from this screen ended."""

    def __init__(self, code: int, last_line: str) -> None:
        super().__init__()
        self.code = code
        self.last_line = last_line


class FreshnessScreen(LiveScreen):
    """Sources, most urgent first; live while checks write the history."""

    BINDINGS = [
        Binding("f", "check", "Check now",
                tooltip="Check now: run `eltkit freshness` in its own process"),
        Binding("escape", "back", "Back"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: FreshnessData | None = None
        self.checking: int | None = None  # pid of the check started from here

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="freshness-summary")
        yield VirtualTable(COLUMNS, id="sources")
        yield Static("", id="source-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sources", VirtualTable).display = False
        self.set_interval(1.0, self._tick)
        self.reload()

    @work(thread=True, exclusive=True, group="freshness", exit_on_error=False)
    def load(self, seq: int) -> None:
        try:
            data = read_freshness(self.eltkit.history.open(), self.eltkit.catalog)
        except Exception as exc:  # noqa: BLE001 - shown on screen, the app keeps going
            message = exc.message if isinstance(exc, EltkitError) else str(exc)
            self.post_message(Loaded(seq, None, message))
            return
        self.post_message(Loaded(seq, data))

    def show(self, data: Any, error: str | None) -> None:
        if error is not None:
            self.query_one("#freshness-summary", Static).update(Text(error, style="red"))
            return
        assert isinstance(data, FreshnessData)
        self.data = data
        table = self.query_one("#sources", VirtualTable)
        table.display = bool(data.sources)
        table.sync([self._row(source) for source in data.sources])
        if data.sources and self.focused is None:
            table.focus()
        self._render_summary()
        self._render_detail()

    def _tick(self) -> None:
        """Ages grow and "checked 5s ago" moves on between history changes."""
        if self.data is not None and self.is_current:
            self.query_one("#sources", VirtualTable).update_rows(
                [self._row(source) for source in self.data.sources])
            self._render_summary()
            self._render_detail()

    def _row(self, source: SourceFreshness) -> Row:
        now = self.eltkit.clock.now()
        age_now = source.age_now(now)
        shown_age = Text(age(age_now))
        status_now = source.status_now(now)
        if status_now is not None and status_now != source.status and \
                source.status in ("pass", "warn"):
            # Older now than the check saw: the status the next check will likely give.
            glyph, style = STYLES[status_now]
            shown_age = Text(f"{age(age_now)} {glyph}", style=style)
        checked = self.eltkit.clock.started(source.checked_at) if source.checked_at else ""
        message = source.message or ("" if source.has_rule else "no freshness rule any more")
        return source.unique_id, (status_text(source.status), source.source, shown_age,
                                  threshold(source.warn_after_s), threshold(source.error_after_s),
                                  checked, one_line(message, 100))

    def _render_summary(self) -> None:
        data = self.data
        summary = self.query_one("#freshness-summary", Static)
        if data is None:
            return
        if not data.sources:
            text = Text(data.dag_error or NO_RULES, style="dim")
            summary.update(text)
            return
        clock = self.eltkit.clock
        count = len(data.sources)
        text = Text(f"{count} source{'s' if count != 1 else ''} with freshness rules  ",
                    style="bold")
        counts = data.counts
        first = True
        for status in (*STATUS_ORDER, *sorted(set(counts) - set(STATUS_ORDER))):
            if counts.get(status):
                glyph, style = STYLES.get(status, ("?", ""))
                text.append(("" if first else "  ") + f"{glyph} {counts[status]} {status}",
                            style=style)
                first = False
        last = data.last_checked_at
        text.append("\n")
        if last is None:
            text.append("never checked", style="dim")
        else:
            ago = age(max(0.0, clock.now() - last))
            text.append(f"last check {clock.stamp(last)} ({ago} ago)", style="dim")
        if self.checking is not None:
            text.append(f"  checking now: eltkit freshness (pid {self.checking})…",
                        style="bold cyan")
        elif data.dag_error:
            text.append(f"  {data.dag_error}", style="dim")
        summary.update(text)

    def _render_detail(self) -> None:
        """The highlighted source in full: newest row, age at the check, thresholds, error."""
        detail = self.query_one("#source-detail", Static)
        source = self.highlighted()
        if source is None:
            detail.display = False
            return
        clock = self.eltkit.clock
        glyph, style = STYLES.get(source.status, ("?", ""))
        text = Text(f"{glyph} {source.source}: ", style=style)
        if source.checked_at is None:
            text.append("never checked: press f to check it now")
        else:
            checked = clock.started(source.checked_at)
            if source.newest_at is not None:
                text.append(f"newest row {clock.started(source.newest_at)}, "
                            f"{age(source.age_at_check_s)} old at the check ({checked})")
            elif source.age_at_check_s is not None:
                text.append(f"the table is empty (checked {checked})")
            else:
                text.append(f"the check at {checked} failed")
        if source.loaded_at_field:
            text.append(f"  loaded_at_field {source.loaded_at_field}", style="dim")
        if source.message:
            text.append(f"\n{source.message.strip()}")
        detail.update(text)
        detail.display = True

    def highlighted(self) -> SourceFreshness | None:
        if self.data is None:
            return None
        key = self.query_one("#sources", VirtualTable).cursor_key
        return next((s for s in self.data.sources if s.unique_id == key), None)

    @on(VirtualTable.RowHighlighted, "#sources")
    def _highlighted(self) -> None:
        self._render_detail()

    # -- actions ----------------------------------------------------------------------------

    def action_check(self) -> None:
        launcher = self.eltkit.launcher
        if launcher is None:
            self.notify("checks need a project (eltkit tui --project DIR)", severity="error")
            return
        if self.checking is not None:
            self.notify(f"a check is running already (pid {self.checking})",
                        severity="warning")
            return
        def finished(code: int, last_line: str) -> None:  # in the reaping thread
            self.post_message(CheckFinished(code, last_line))

        try:
            launched = launcher.check_freshness(finished)
        except OSError as exc:
            self.notify(f"cannot start eltkit: {exc}", severity="error", timeout=8)
            return
        self.checking = launched.pid
        self._render_summary()
        self.notify(f"started `eltkit freshness` (pid {launched.pid}); output: "
                    f"{launched.log}", timeout=6)

    def on_check_finished(self, message: CheckFinished) -> None:
        message.stop()
        self.checking = None
        self._render_summary()
        if message.code not in (0, 1):  # 1: a source is stale, which the list shows
            self.notify(f"eltkit freshness failed: {message.last_line or 'see tui-launch.log'}",
                        severity="error", timeout=10)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cursor_down(self) -> None:
        self.query_one("#sources", VirtualTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#sources", VirtualTable).action_cursor_up()


def age(seconds: float | None) -> str:
    """``16m08s``, ``12h``, ``3d04h``: as `eltkit freshness` prints ages.

    Its module imports sqlglot; the worker's read_freshness imported it before
    any row is drawn, so on the UI thread this import is a dictionary lookup.
    """
    from eltkit.schedule.freshness import describe_age

    return describe_age(seconds)


def threshold(seconds: float | None) -> str:
    return age(seconds) if seconds is not None else "-"


def one_line(message: str, width: int) -> str:
    from eltkit.tui.format import one_line as shorten

    return shorten(message, width)
