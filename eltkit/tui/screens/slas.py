"""SLAs: every SLA's state now, its due time, predicted finish, reason and escalation."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from eltkit.errors import EltkitError
from eltkit.tui import format as fmt
from eltkit.tui.data_slas import NO_SLAS, STATE_ORDER, SlaData, SlaRow, read_slas
from eltkit.tui.screens.base import BACK, CURSOR_KEYS, ListScreen
from eltkit.tui.widgets.virtual_table import Row

COLUMNS = [("state", "state"), ("SLA", "name"), ("due", "due"), ("finish", "finish"),
           ("escalation", "escalation"), ("reason", "reason")]
#: SLA state -> (glyph, style), in the run screen's glyph language (readable with NO_COLOR).
STYLES: dict[str, tuple[str, str]] = {
    "met": ("✓", "green"),
    "pending": ("·", "cyan"),
    "at risk": ("!", "bold yellow"),
    "missed": ("✗", "bold red"),
}


def state_text(state: str) -> Text:
    glyph, style = STYLES.get(state, ("?", ""))
    return Text(f"{glyph} {state}", style=style)


class SlaScreen(ListScreen[SlaData, SlaRow]):
    """SLAs, most urgent first; evaluated again on every history change and on a timer."""

    #: A deadline passes without any write to the history: evaluate at least this often.
    REEVALUATE_SECONDS = 30.0

    HEADLINE_ID = "sla-summary"
    LIST_ID = "slas"
    DETAIL_ID = "sla-detail"
    COLUMNS = COLUMNS
    LOADING = "evaluating the SLAs…"
    BINDINGS = [BACK, *CURSOR_KEYS]

    def on_screen_resume(self) -> None:
        data = self.data
        stale = data is not None and data.evaluated_at is not None and \
            self.eltkit.clock.now() - data.evaluated_at >= self.REEVALUATE_SECONDS
        if stale:
            self.reload()
        else:
            super().on_screen_resume()

    def tick_seconds(self) -> float:
        return self.REEVALUATE_SECONDS

    def tick(self) -> None:
        """A deadline can pass without any write to the history: evaluate again."""
        self.reload()

    def read_history(self) -> SlaData:
        return read_slas(self.eltkit.history.open(), self.eltkit.catalog,
                         self.eltkit.clock.now())

    def read_error(self, exc: Exception) -> str:
        return exc.message if isinstance(exc, EltkitError) else \
            f"cannot evaluate the SLAs: {type(exc).__name__}: {exc}"

    def items(self, data: SlaData) -> list[SlaRow]:
        return data.slas

    def key_of(self, item: SlaRow) -> str:
        return item.name

    def row(self, sla: SlaRow) -> Row:
        clock = self.eltkit.clock
        due = clock.started(sla.due_at) if sla.due_at is not None else "-"
        if sla.state == "met" and sla.finished_at is not None:
            finish: Text | str = Text(f"✓ {clock.started(sla.finished_at)}", style="green")
        elif sla.predicted_finish is not None:
            late = sla.due_at is not None and sla.predicted_finish > sla.due_at
            finish = Text(f"~{clock.started(sla.predicted_finish)}",
                          style="yellow" if late and sla.state != "missed" else "")
        else:
            finish = ""
        if sla.ladder:
            escalation: Text | str = Text(f"{sla.fired}/{len(sla.ladder)} fired",
                                          style="bold red" if sla.fired else "dim")
        else:
            escalation = "-"
        return sla.name, (state_text(sla.state), Text(sla.name, style="bold"), due, finish,
                          escalation, fmt.one_line(sla.reason, 160))

    def summary_text(self, data: SlaData) -> Text:
        if not data.slas:
            return Text(data.error, style="red") if data.error else Text(NO_SLAS, style="dim")
        clock = self.eltkit.clock
        count = len(data.slas)
        text = Text()
        text.append(f"{count} SLA{'s' if count != 1 else ''}", style="bold")
        counts = data.counts
        for state in STATE_ORDER:
            if counts.get(state):
                glyph, style = STYLES[state]
                text.append(f"  {glyph} {counts[state]} {state}", style=style)
        if data.error is not None:
            text.append(f"\n{data.error}", style="red")
            text.append("\nthe states above are the last recorded ones, not live",
                        style="yellow")
        elif data.evaluated_at is not None:
            text.append(f"\nevaluated {clock.started(data.evaluated_at)}, again on every "
                        f"change to the history and every {self.REEVALUATE_SECONDS:.0f}s; "
                        "only the scheduler notifies", style="dim")
            if data.unrecorded:
                text.append(" (not recorded: the history is read-only here)", style="dim")
        return text

    def detail_text(self, sla: SlaRow) -> Text:
        """The highlighted SLA in full: due, finish, reason, each step of its ladder."""
        clock = self.eltkit.clock
        now = clock.now()
        glyph, style = STYLES.get(sla.state, ("?", ""))
        text = Text()
        text.append(f"{glyph} {sla.name} {sla.state}", style=style)
        promise = f"deadline {sla.deadline} {sla.timezone}" if sla.promise == "deadline" \
            else "max_staleness"
        text.append(f" ({promise})", style="dim")
        if sla.due_at is not None:
            text.append(f"; due {due_in_zone(sla)} ({relative(sla.due_at - now)})")
        if sla.remaining:
            text.append(f"; {sla.remaining} of {sla.nodes} nodes not built yet")
        # The ladder before the reason: on a short screen the reason is in the list too.
        text.append_text(ladder_text(sla, now, clock))
        text.append(f"\n{sla.reason}")
        return text


def ladder_text(sla: SlaRow, now: float, clock: fmt.Clock) -> Text:
    """``escalation: ✓ 1. after 0s log  · 2. after 30m webhook $X at 08:30 (in 12m)``."""
    if not sla.ladder:
        return Text("\nno escalation: add escalation: to the SLA to be told when it slips",
                    style="dim")
    slipped = sla.slipped_at is not None
    text = Text()
    text.append("\nescalation" + ("" if slipped else " (when it slips)") + ":",
                style="bold" if slipped else "dim")
    for position, rung in enumerate(sla.ladder):
        if rung.fired:
            glyph, style, when = "✓", "bold red", "fired"
        elif rung.due_at is None:
            glyph, style, when = "·", "dim", ""
        elif rung.due_at <= now:
            # Due but not fired: only a running scheduler fires it.
            glyph, style, when = "!", "yellow", "due now (the scheduler fires it)"
        else:
            glyph, style, when = "·", "", f"at {clock.started(rung.due_at)} " \
                                         f"({relative(rung.due_at - now)})"
        after = f"after {fmt.span(rung.after_s)}" if rung.after_s else "at once"
        text.append(("  " if position else " ") + f"{glyph} {rung.index + 1}. {after} "
                    f"{rung.action}"
                    + (f" {when}" if when else ""), style=style)
    return text


def due_in_zone(sla: SlaRow) -> str:
    from zoneinfo import ZoneInfo

    assert sla.due_at is not None
    return datetime.fromtimestamp(sla.due_at, ZoneInfo(sla.timezone)).strftime(
        "%Y-%m-%d %H:%M %Z")


def relative(seconds: float) -> str:
    return f"in {fmt.span(seconds)}" if seconds >= 0 else f"{fmt.span(-seconds)} ago"
