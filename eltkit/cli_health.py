"""`eltkit health`: success rates, slow nodes, row-count drift and schema changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from eltkit.cli_common import echo_json, handle_errors, project_options


def _window(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from eltkit.health import parse_window

    try:
        return parse_window(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("health")
@project_options
@click.option("--window", "window_s", default="7d", show_default=True, callback=_window,
              help="How far back to look: 90m, 36h, 7d.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def health_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                   vars_json: str | None, window_s: float, as_json: bool) -> None:
    """Success rate per job, slow nodes, row-count drift and schema changes, from history."""
    from eltkit.cli import _project
    from eltkit.health import compute_health
    from eltkit.run.runner import history_path, open_history

    project = _project(project_dir, target, profiles_dir, vars_json, parse=False)
    if not history_path(project).exists():
        if as_json:
            echo_json(None)
        else:
            click.echo("no runs yet: start one with `eltkit run`")
        return
    store = open_history(project)
    try:
        report = compute_health(store, window_s)
    finally:
        store.close()
    if as_json:
        echo_json(report.to_json())
    else:
        print_report(report)


def print_report(report: Any) -> None:
    from eltkit.schedule.freshness import describe_age

    since = report.to_json()["since"].replace("T", " ").replace("+00:00", " UTC")
    click.echo(f"health over the last {describe_age(report.window_s)} (since {since})")
    click.echo("\nSuccess rate")
    if not report.success_rates:
        click.echo("  no finished runs in the window")
    width = max((len(rate.label) for rate in report.success_rates), default=0)
    for rate in report.success_rates:
        others = ", ".join(f"{count} {status}" for status, count in rate.statuses.items()
                           if status != "success")
        what = "job runs" if rate.counted == "job_runs" else "runs"
        click.echo(f"  {rate.label:<{width}}  {rate.succeeded:>4}/{rate.total:<4} {what:<8} "
                   f"{100 * (rate.rate or 0):5.1f} %" + (f"  ({others})" if others else ""))
    click.echo("\nSlow nodes (latest success over 2x the median of the ones before)")
    if not report.slow_nodes:
        click.echo("  none")
    for node in report.slow_nodes:
        click.echo(f"  {node.name:<30} {node.duration_s:8.2f}s vs median {node.median_s:.2f}s "
                   f"({node.ratio:.1f}x over {node.samples} runs)  run {node.run_id}")
    click.echo("\nRow-count drift (rows affected over 30 % from the trailing average)")
    if not report.row_drift:
        click.echo("  none")
    for drift in report.row_drift:
        change = ("from none" if drift.change_percent is None
                  else f"{drift.change_percent:+.1f} %")
        click.echo(f"  {drift.name:<30} {drift.rows:>10} rows vs average {drift.average:.0f} "
                   f"({change} over {drift.samples} runs)  run {drift.run_id}")
    click.echo("\nSchema changes")
    if not report.schema_changes:
        click.echo("  none")
    for change in report.schema_changes:
        parts = [f"added {c['name']} {c['type']}" for c in change.added]
        parts += [f"removed {c['name']} {c['type']}" for c in change.removed]
        parts += [f"retyped {c['name']} {c['from']} -> {c['to']}" for c in change.retyped]
        click.echo(f"  {change.name:<30} {'; '.join(parts)}  (run {change.run_id})")
