"""Modal screens: help, confirmations, starting a run, and the history-error screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static


def key_label(binding: BindingType) -> tuple[str, str, str]:
    if isinstance(binding, Binding):
        key, action = binding.key, binding.action
        description = binding.tooltip or binding.description
        display = binding.key_display
    else:
        key, action = binding[0], binding[1]
        description = binding[2] if len(binding) > 2 else ""
        display = None
    names = {"question_mark": "?", "slash": "/", "escape": "Esc", "enter": "Enter"}
    shown = display or ", ".join(names.get(k, k) for k in key.split(","))
    return shown, description or action, action


class HelpScreen(ModalScreen[None]):
    """Every key of every screen, built from the bindings themselves so it cannot drift."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close")]

    def __init__(self, sections: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for title, bindings in self.sections:
            table.add_row(Text(title, style="bold underline"), "")
            for binding in bindings:
                shown, description, _ = key_label(binding)
                table.add_row(shown, description)
            table.add_row("", "")
        with Vertical(id="help-box"):
            yield Static("eltkit tui: keys", id="help-title")
            with VerticalScroll():
                yield Static(table, id="help-keys")
            yield Static("Esc, q or ? closes", id="help-close")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no before an action that stops or starts work."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


def confirm(app: App[Any], question: str, then: Callable[[], None]) -> None:
    """Ask ``question`` first; ``then`` runs only on yes (No and Esc do nothing)."""

    def answered(yes: bool | None) -> None:
        if yes:
            then()

    app.push_screen(ConfirmScreen(question), answered)


class StartScreen(ModalScreen[str | None]):
    """Type what to run: ``+fct_orders``, ``build --select marts``, ``test -s a``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Start a run (in its own process; closing the TUI does not stop it)",
                        id="question")
            yield Input(placeholder="run --select marts   (or build ..., test ...)", id="start")
            yield Static("Enter starts it, Esc cancels", classes="hint")

    @on(Input.Submitted, "#start")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MessageScreen(Screen[None]):
    """A problem the user must fix before the TUI can show anything (a bad history file)."""

    BINDINGS = [Binding("q", "app.quit", "Quit")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="message-box"):
            yield Static(Text(self.title_text, style="bold red"), id="message-title")
            yield Static(self.message, id="message-text")
            yield Static("eltkit checks again every few seconds; q quits", classes="hint")
        yield Footer()

    def update_message(self, message: str) -> None:
        self.message = message
        self.query_one("#message-text", Static).update(message)
