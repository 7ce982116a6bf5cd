"""`eltkit run | build | test | retry | history`: the commands that execute and report runs."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from eltkit.cli_common import (
    GreedyOption,
    apply_options,
    echo_json,
    handle_errors,
    project_options,
    selection_options,
)
from eltkit.errors import RUN_FAILED_EXIT_CODE, EltkitError


def execution_options(command: Any) -> Any:
    decorators = [
        click.option("--threads", type=click.IntRange(1, 256), default=None,
                     help="Parallel nodes (default: eltkit.yml dbt.threads, then the profile's)."),
        click.option("--fail-fast", "-x", is_flag=True,
                     help="Stop at the first failure; the rest is skipped."),
        click.option("--wait", is_flag=True,
                     help="If another run holds the warehouse, wait for it instead of refusing."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print the result as JSON (progress goes to stderr)."),
    ]
    return apply_options(command, decorators)


def _run_command(command: str, project_dir: Path | None, target: str | None,
                 profiles_dir: Path | None, vars_json: str | None, select: tuple[str, ...],
                 models: tuple[str, ...], exclude: tuple[str, ...], selector: str | None,
                 state: Path | None, indirect_selection: str, threads: int | None,
                 fail_fast: bool, wait: bool, as_json: bool, trigger: str = "cli",
                 freshness_gate: str | None = None) -> None:
    from eltkit.cli import _project, _selected
    from eltkit.run.plan import make_plan

    project = _project(project_dir, target, profiles_dir, vars_json)
    selected = _selected(project, select, models, exclude, selector, state, indirect_selection)
    plan = make_plan(project.graph, command, selected)
    selection = {"select": list(select or models), "exclude": list(exclude),
                 "selector": selector}
    if not plan.nodes:
        click.echo("warning: nothing to run: the selection matches no nodes this command "
                   "runs", err=True)
        if as_json:
            echo_json({"id": None, "status": "success", "nodes": []})
        return
    _execute(project, plan, selection=selection, trigger=trigger, threads=threads,
             fail_fast=fail_fast, wait=wait, as_json=as_json, freshness_gate=freshness_gate)


def _execute(project: Any, plan: Any, *, selection: dict[str, Any], trigger: str,
             threads: int | None, fail_fast: bool, wait: bool, as_json: bool,
             retry_of: str | None = None, freshness_gate: str | None = None) -> None:
    from eltkit.run.progress import ProgressPrinter
    from eltkit.run.runner import execute_plan

    options = run_options(project, threads, fail_fast=fail_fast)
    options.freshness_gate = freshness_gate
    stream = sys.stderr if as_json else sys.stdout
    color = stream.isatty() and "NO_COLOR" not in os.environ
    printers: list[Any] = []

    def reporter(plan: Any, store: Any, run_id: str) -> Any:
        printer = ProgressPrinter(plan, store.typical_durations(plan.nodes), stream, color)
        printer.header(run_id, _describe(selection))
        printers.append(printer)
        return printer

    started = time.monotonic()
    outcome = execute_plan(project, plan, selection=selection, trigger=trigger,
                           options=options, wait=wait, reporter=reporter, retry_of=retry_of)
    if as_json:
        echo_json({**outcome.run.to_json(), "nodes": [n.to_json() for n in outcome.nodes]})
    else:
        _summary(outcome, time.monotonic() - started, project)
    _exit(0 if outcome.ok else RUN_FAILED_EXIT_CODE)


def _exit(code: int) -> None:
    """Exit; immediately if a stopped task's thread is still stuck in C code.

    Such a thread (abandoned after its timeout or a cancel) would otherwise
    hold up, or crash, interpreter shutdown inside DuckDB's bindings.
    """
    import threading

    if any(t.name.startswith("eltkit-task-") and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        sys.exit(code)


def run_options(project: Any, threads: int | None, *, fail_fast: bool) -> Any:
    """RunOptions from the command line, then eltkit.yml, then the dbt profile."""
    from eltkit.run.options import run_options_for

    return run_options_for(project, threads, fail_fast=fail_fast)


def _describe(selection: dict[str, Any]) -> str:
    parts = []
    if selection.get("select"):
        parts.append("--select " + " ".join(selection["select"]))
    if selection.get("exclude"):
        parts.append("--exclude " + " ".join(selection["exclude"]))
    if selection.get("selector"):
        parts.append("--selector " + selection["selector"])
    return " ".join(parts) or "everything"


def summary_line(outcome: Any, elapsed: float) -> str:
    """``SUCCESS: 9 passed, 0 failed, 0 skipped in 5.5s (run ...)``."""
    counts: dict[str, int] = {}
    for node in outcome.nodes:
        counts[node.status] = counts.get(node.status, 0) + 1
    passed = counts.get("success", 0) + counts.get("warn", 0)
    failed = counts.get("error", 0) + counts.get("timed_out", 0)
    words = [f"{passed} passed", f"{failed} failed", f"{counts.get('skipped', 0)} skipped"]
    if counts.get("warn"):
        words.append(f"{counts['warn']} warned")
    if counts.get("cancelled"):
        words.append(f"{counts['cancelled']} cancelled")
    return (f"{outcome.run.status.upper()}: {', '.join(words)} in {elapsed:.1f}s "
            f"(run {outcome.run.id})")


def _summary(outcome: Any, elapsed: float, project: Any) -> None:
    click.echo("\n" + summary_line(outcome, elapsed))
    failures = [n for n in outcome.nodes if n.status in ("error", "timed_out")]
    for node in failures:
        graph_node = project.graph.nodes.get(node.unique_id)
        where = graph_node.original_file_path if graph_node is not None else ""
        click.echo(f"  {node.status.upper()} {node.resource_type} {node.name}"
                   + (f" ({where})" if where else ""))
        if node.message:
            click.echo(f"    {node.message}")
        if node.resource_type == "task":
            click.echo(f"    log: eltkit history {outcome.run.id} --logs {node.name}")
        else:
            click.echo(f"    log: {project.log_path / 'dbt.log'}")
    gated: dict[str, int] = {}  # the freshness gate's skips, one line per stale source
    for node in outcome.nodes:
        if node.status == "skipped" and node.message and "(freshness gate: " in node.message:
            gated[node.message] = gated.get(node.message, 0) + 1
    for message, count in gated.items():
        click.echo(f"  SKIPPED {count} node{'s' if count != 1 else ''}: "
                   f"{message.removeprefix('skipped: ')}")


def _make_command(name: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @project_options
    @selection_options
    @execution_options
    @click.option("--trigger", type=click.Choice(["cli", "tui", "schedule"]), default="cli",
                  hidden=True, help="What started the run, as recorded in the history.")
    @click.option("--freshness-gate", type=click.Choice(["off", "warn", "error"]), default=None,
                  help="Skip nodes downstream of sources stale at this level (default: "
                       "eltkit.yml freshness.gate, else off).")
    @handle_errors
    def command(**kwargs: Any) -> None:
        _run_command(name, **kwargs)

    return command


run_command = _make_command(
    "run", "Run the Python tasks and dbt models of a selection in dependency order.")
build_command = _make_command(
    "build", "Run tasks, seeds, models, snapshots and tests, each test after what it tests.")
test_command = _make_command("test", "Run the data tests and unit tests of a selection.")


@click.command("retry")
@project_options
@click.argument("run_id", required=False)
@execution_options
@handle_errors
def retry_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                  vars_json: str | None, run_id: str | None, threads: int | None,
                  fail_fast: bool, wait: bool, as_json: bool) -> None:
    """Rerun what failed or never finished in the last run (or RUN_ID), and its downstream."""
    from eltkit.cli import _project
    from eltkit.run.runner import open_history, plan_for_retry

    project = _project(project_dir, target, profiles_dir, vars_json)
    store = open_history(project)
    try:
        previous, plan = plan_for_retry(project, store, run_id)
    finally:
        store.close()
    if not plan.nodes:
        if as_json:
            echo_json({"id": None, "retry_of": previous.id, "status": "success", "nodes": []})
        else:
            click.echo(f"nothing to retry: every node of run {previous.id} succeeded")
        return
    selection = {**previous.selection, "retry_of": previous.id}
    _execute(project, plan, selection=selection, trigger="retry", threads=threads,
             fail_fast=fail_fast, wait=wait, as_json=as_json, retry_of=previous.id)


@click.command("history")
@project_options
@click.argument("run_id", required=False)
@click.option("--limit", "-n", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--logs", "logs_for", default=None, metavar="NODE",
              help="Print the stored logs of one node (name or unique id) of RUN_ID; "
                   "'run' for the run's own lines.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def history_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                    vars_json: str | None, run_id: str | None, limit: int,
                    logs_for: str | None, as_json: bool) -> None:
    """Recent runs, or the nodes of one run."""
    from eltkit.cli import _project
    from eltkit.run.runner import history_path, open_history

    if logs_for is not None and run_id is None:
        raise click.UsageError("--logs NODE needs a RUN_ID: eltkit history RUN_ID --logs NODE")
    project = _project(project_dir, target, profiles_dir, vars_json, parse=False)
    if not history_path(project).exists():
        if as_json:
            echo_json([])
        else:
            click.echo("no runs yet: start one with `eltkit run`")
        return
    store = open_history(project)
    try:
        if run_id is None:
            runs = store.runs(limit)
            if as_json:
                echo_json([run.to_json() for run in runs])
            else:
                _print_runs(runs)
            return
        run = store.run(run_id)
        nodes = store.nodes(run.id)
        if logs_for is not None:
            matches = [n for n in nodes if logs_for in (n.name, n.unique_id)]
            if not matches and logs_for != "run":
                raise EltkitError(
                    f"run {run.id} has no node {logs_for!r}; use a node name or unique id "
                    "from `eltkit history RUN_ID`, or 'run' for the run's own log lines")
            rows = (store.logs(run.id, matches[0].unique_id) if matches
                    else [row for row in store.logs(run.id) if row["unique_id"] is None])
            for row in rows:
                click.echo(f"{time.strftime('%H:%M:%S', time.localtime(row['at']))} "
                           f"{row['level']:<7} {row['message']}")
            return
        if as_json:
            echo_json({**run.to_json(), "nodes": [node.to_json() for node in nodes]})
        else:
            _print_runs([run])
            for node in nodes:
                duration = "" if node.duration_s is None else f"{node.duration_s:8.2f}s"
                tries = f" x{node.attempts}" if node.attempts > 1 else ""
                click.echo(f"  {node.status:<11} {node.resource_type:<9} {node.name:<40} "
                           f"{duration}{tries}")
                if node.message and node.status not in ("success",):
                    click.echo(f"  {'':<11} {node.message}")
    finally:
        store.close()


def _print_runs(runs: list[Any]) -> None:
    if not runs:
        click.echo("no runs yet: start one with `eltkit run`")
        return
    for run in runs:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at))
        what = _describe(run.selection)
        click.echo(f"{run.id}  {run.status:<11} {run.trigger:<8} {run.command:<6} "
                   f"{started}  {run.duration_s:7.1f}s  {what}")


@click.command("dev")
@project_options
@click.option("--select", "-s", "select", multiple=True, cls=GreedyOption,
              help="Only rebuild nodes within this selection (dbt syntax).")
@click.option("--exclude", multiple=True, cls=GreedyOption, help="Never rebuild these nodes.")
@click.option("--no-downstream", is_flag=True,
              help="Rebuild only the changed nodes and their tests, not what depends on them.")
@click.option("--threads", type=click.IntRange(1, 256), default=None)
@click.option("--debounce", type=click.IntRange(10, 10000), default=400, show_default=True,
              help="Longest wait (ms) to group several saves into one rebuild.")
@handle_errors
def dev_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                vars_json: str | None, select: tuple[str, ...], exclude: tuple[str, ...],
                no_downstream: bool, threads: int | None, debounce: int) -> None:
    """Watch the project; on every save rebuild and test the nodes it affects."""
    from eltkit.cli_common import parse_vars
    from eltkit.dev import DevOptions, run_dev

    options = DevOptions(select=list(select) or None, exclude=list(exclude) or None,
                         downstream=not no_downstream, threads=threads, debounce_ms=debounce)
    run_dev(project_dir, options, target=target, profiles_dir=profiles_dir,
            vars=parse_vars(vars_json))


@click.command("freshness")
@project_options
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object a source.")
@handle_errors
def freshness_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                      vars_json: str | None, select: tuple[str, ...], models: tuple[str, ...],
                      exclude: tuple[str, ...], selector: str | None, state: Path | None,
                      indirect_selection: str, as_json: bool) -> None:
    """Check source freshness like `dbt source freshness`; exit 1 if a source is error-stale."""
    from eltkit.cli import _project, _selected
    from eltkit.freshness_run import check_sources

    project = _project(project_dir, target, profiles_dir, vars_json)
    selected = _selected(project, select or ("source:*",), models, exclude, selector, state,
                         indirect_selection, ("source",))
    results = check_sources(project, selected)
    if as_json:
        for result in results:
            echo_json(result.to_json())
    else:
        _print_freshness(results)
    if any(result.status in ("error", "runtime error") for result in results):
        sys.exit(RUN_FAILED_EXIT_CODE)


def _print_freshness(results: list[Any]) -> None:
    from eltkit.schedule.freshness import describe_age

    if not results:
        click.echo("no selected source declares freshness (warn_after / error_after)")
        return
    width = max(len(result.rule.label) for result in results)
    for result in results:
        limits = []
        if result.rule.warn_after_s is not None:
            limits.append(f"warn > {describe_age(result.rule.warn_after_s)}")
        if result.rule.error_after_s is not None:
            limits.append(f"error > {describe_age(result.rule.error_after_s)}")
        newest = "-" if result.max_loaded_at is None else \
            result.max_loaded_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{result.status.upper():<13} {result.rule.label:<{width}}  "
                   f"newest {newest}  age {describe_age(result.age_s)}  ({', '.join(limits)})")
        if result.message:
            click.echo(f"{'':<14}{result.message}")
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    click.echo(", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
