"""Source freshness: every source with rules, its age against warn/error, its last check."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from eltkit.tui.data_freshness import (
    NEVER_CHECKED,
    STATUS_ORDER,
    FreshnessData,
    SourceFreshness,
    read_freshness,
)
from eltkit.tui.screens.base import BACK, CURSOR_KEYS, LaunchEnded, ListScreen
from eltkit.tui.widgets.virtual_table import Row

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


class FreshnessScreen(ListScreen[FreshnessData, SourceFreshness]):
    """Sources, most urgent first; live while checks write the history."""

    HEADLINE_ID = "freshness-summary"
    LIST_ID = "sources"
    DETAIL_ID = "source-detail"
    COLUMNS = COLUMNS
    DETAIL_BEFORE_DATA = True
    BINDINGS = [
        Binding("f", "check", "Check now",
                tooltip="Check now: run `eltkit freshness` in its own process"),
        BACK,
        *CURSOR_KEYS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.checking: int | None = None  # pid of the check started from here

    def read_history(self) -> FreshnessData:
        return read_freshness(self.eltkit.history.open(), self.eltkit.catalog)

    def items(self, data: FreshnessData) -> list[SourceFreshness]:
        return data.sources

    def key_of(self, item: SourceFreshness) -> str:
        return item.unique_id

    def tick(self) -> None:
        """Ages grow and "checked 5s ago" moves on between history changes."""
        if self.data is not None:
            self.cursor_list().update_rows([self.row(source) for source in self.data.sources])
        super().tick()

    def row(self, source: SourceFreshness) -> Row:
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

    def summary_text(self, data: FreshnessData) -> Text:
        if not data.sources:
            return Text(data.dag_error or NO_RULES, style="dim")
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
        return text

    def detail_text(self, source: SourceFreshness) -> Text:
        """The highlighted source in full: newest row, age at the check, thresholds, error."""
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
        return text

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
        launched = self.launch("eltkit freshness", launcher.check_freshness, "freshness")
        if launched is not None:
            self.checking = launched.pid
            self.render_summary()

    def on_launch_ended(self, message: LaunchEnded) -> None:
        message.stop()
        self.checking = None
        self.render_summary()
        if message.code not in (0, 1):  # 1: a source is stale, which the list shows
            self.notify(f"eltkit freshness failed: {message.last_line or 'see tui-launch.log'}",
                        severity="error", timeout=10)


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
