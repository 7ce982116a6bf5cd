"""`eltkit sla`: every SLA's state now, why, when it is due and when it should finish."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from eltkit.cli_common import echo_json, handle_errors, project_options

_STYLES = {"met": "green", "pending": "cyan", "at risk": "yellow", "missed": "red"}


@click.command("sla")
@project_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object an SLA.")
@handle_errors
def sla_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                vars_json: str | None, as_json: bool) -> None:
    """Show every SLA: met, pending, at risk or missed, why, when due, predicted finish.

    Reads the run history and records this evaluation; never notifies anyone
    (the scheduler does). Exits 0 whatever the states: a missed SLA is news,
    not a failure of this command; scripts read `--json`.
    """
    from eltkit.cli import _project
    from eltkit.run.runner import open_history
    from eltkit.sla.monitor import check_slas

    project = _project(project_dir, target, profiles_dir, vars_json)
    if not project.config.slas:
        if not as_json:
            click.echo("no SLAs declared; add slas: to eltkit.yml (docs/freshness-and-slas.md)")
        return
    store = open_history(project)
    try:
        statuses = check_slas(project, store, datetime.now(UTC), notify=False)
    finally:
        store.close()
    if as_json:
        for status in statuses:
            echo_json(status.to_json())
        return
    _print_statuses(statuses)


def _print_statuses(statuses: list[Any]) -> None:
    """One line an SLA: STATE name, due, predicted finish, then why."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    width = max(len(status.name) for status in statuses)
    for status in statuses:
        state = f"{status.state.upper():<8}"
        due = "due -" if status.due_at is None else \
            f"due {status.due_at.strftime('%Y-%m-%d %H:%M %Z')}"
        if status.finished_at is not None and status.state == "met":
            finish = f"finished {status.finished_at.strftime('%Y-%m-%d %H:%M')}"
        elif status.predicted_finish is not None:
            finish = f"predicted {status.predicted_finish.strftime('%Y-%m-%d %H:%M')}"
        else:
            finish = ""
        console.print(
            f"[{_STYLES[status.state]}]{state}[/] {escape(status.name):<{width}}  {due}  "
            f"{finish}  {escape(status.reason)}")
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status.state] = counts.get(status.state, 0) + 1
    console.print(", ".join(f"{count} {state}" for state, count in counts.items()))
