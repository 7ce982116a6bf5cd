"""`eltkit schedule | jobs | trigger | backfill`: the commands of jobs and the scheduler."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from eltkit.cli_common import echo_json, handle_errors, project_options
from eltkit.cli_run import _exit
from eltkit.errors import RUN_FAILED_EXIT_CODE, ConfigError


def _load(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
          vars_json: str | None) -> Any:
    from eltkit.cli import _project

    return _project(project_dir, target, profiles_dir, vars_json)


def _progress_reporter(description: str) -> Any:
    """The same progress lines as `eltkit run`, one block per step."""
    from eltkit.run.progress import ProgressPrinter

    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ

    def reporter(plan: Any, store: Any, run_id: str) -> Any:
        printer = ProgressPrinter(plan, store.typical_durations(plan.nodes), sys.stdout, color)
        printer.header(run_id, description)
        return printer

    return reporter


def _check_secrets(project: Any) -> None:
    """Unset webhook variables fail the scheduler's start, not the first alert at 3 a.m."""
    from eltkit.notify.send import missing_secrets

    problems = []
    for name, job in project.config.jobs.items():
        for key in ("on_failure", "on_success"):
            for variable in missing_secrets(getattr(job, key)):
                problems.append(f"jobs.{name}.{key}: webhook variable {variable} is not set")
    for name, sla in project.config.slas.items():
        for index, step in enumerate(getattr(sla, "escalation", []) or []):
            for variable in missing_secrets([step.notify]):
                problems.append(f"slas.{name}.escalation.{index}: webhook variable "
                                f"{variable} is not set")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{project.config_path}: {problems[0]}{more}; export it in the "
                          "scheduler's environment (the URL is a secret and never goes in "
                          "eltkit.yml)")


def _check_jobs(project: Any) -> None:
    from eltkit.jobs.execute import check_job_steps

    for name, job in project.config.jobs.items():
        check_job_steps(project, name, job)


@click.command("schedule")
@project_options
@click.option("--once", is_flag=True,
              help="One tick: queue and start what is due, wait for it, then exit.")
@click.option("--tick", "tick_s", type=click.FloatRange(0.1, 600), default=5.0,
              show_default=True, help="Seconds between checks when nothing is due sooner.")
@handle_errors
def schedule_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                     vars_json: str | None, once: bool, tick_s: float) -> None:
    """Run the scheduler in the foreground: jobs start when due (cron, after, on_file)."""
    import logging

    from eltkit.jobs.launcher import ProcessLauncher
    from eltkit.jobs.scheduler import Scheduler
    from eltkit.run.runner import history_path, open_history

    project = _load(project_dir, target, profiles_dir, vars_json)
    if not project.config.jobs:
        raise ConfigError(f"{project.config_path or project.root}: no jobs to schedule; "
                          "declare them under jobs: in eltkit.yml (see docs/jobs.md)")
    _check_secrets(project)
    _check_jobs(project)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    store = open_history(project)
    project_args = tuple(arg for option, value in (
        ("--target", target), ("--profiles-dir", profiles_dir), ("--vars", vars_json))
        if value is not None for arg in (option, str(value)))
    launcher = ProcessLauncher(project.root, history_path(project).parent / "job-logs",
                               project_args=project_args)
    scheduler = Scheduler(project, store, launcher, echo=_stamped_echo)
    scheduler.start()
    try:
        if once:
            scheduler.tick()
            scheduler.close(cancel_running=False)
        else:
            _stamped_echo(f"scheduler started (pid {os.getpid()}): "
                          f"{len(project.config.jobs)} jobs; Ctrl-C or SIGTERM stops it")
            scheduler.serve(tick_s)
    finally:
        scheduler.close()
        store.close()


def _stamped_echo(line: str) -> None:
    click.echo(f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {line}")


@click.group("jobs", invoke_without_command=True)
@project_options
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON.")
@click.pass_context
@handle_errors
def jobs_command(ctx: click.Context, project_dir: Path | None, target: str | None,
                 profiles_dir: Path | None, vars_json: str | None, as_json: bool) -> None:
    """List jobs: triggers, next fire, last result, paused or not."""
    ctx.obj = (project_dir, target, profiles_dir, vars_json)
    if ctx.invoked_subcommand is not None:
        return
    from eltkit.jobs.overview import job_overview
    from eltkit.run.runner import open_history

    project = _load(project_dir, target, profiles_dir, vars_json)
    store = open_history(project)
    try:
        rows = job_overview(project, store, datetime.now(UTC))
    finally:
        store.close()
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no jobs declared; add them under jobs: in eltkit.yml (see docs/jobs.md)")
        return
    for row in rows:
        state = "PAUSED" if row["paused"] else "active"
        last = row["last"]
        last_text = f"{last['status']} {last['finished_at'] or last['queued_at']}" if last \
            else "never ran"
        click.echo(f"{row['name']:<20} {state:<7} {'; '.join(row['triggers'])}")
        click.echo(f"{'':<20} next: {row['next_fire'] or '-'}   last: {last_text}")
        if row["paused_reason"]:
            click.echo(f"{'':<20} {row['paused_reason']}")
    for warning in _secret_warnings(project):
        click.echo(f"warning: {warning}", err=True)


def _secret_warnings(project: Any) -> list[str]:
    try:
        _check_secrets(project)
    except ConfigError as exc:
        return [exc.message]
    return []


def _set_paused(ctx: click.Context, name: str, paused: bool) -> None:
    from eltkit.jobs.execute import job_of
    from eltkit.run.runner import open_history
    from eltkit.state.jobs import update_job_state

    project = _load(*ctx.obj)
    job_of(project, name)
    store = open_history(project)
    try:
        update_job_state(store, name, paused=paused,
                         paused_reason="paused by `eltkit jobs pause`" if paused else None,
                         consecutive_failures=0)
    finally:
        store.close()
    click.echo(f"{name}: {'paused' if paused else 'resumed'}")


@jobs_command.command("pause")
@click.argument("name")
@click.pass_context
@handle_errors
def pause_command(ctx: click.Context, name: str) -> None:
    """Stop starting NAME (its missed fires are caught up on resume)."""
    _set_paused(ctx, name, True)


@jobs_command.command("resume")
@click.argument("name")
@click.pass_context
@handle_errors
def resume_command(ctx: click.Context, name: str) -> None:
    """Start NAME again; clears a circuit breaker's pause and its failure count."""
    _set_paused(ctx, name, False)


@click.command("trigger")
@project_options
@click.argument("name")
@click.option("--trigger", "recorded_as", type=click.Choice(["cli", "tui"]), default="cli",
              hidden=True)
@handle_errors
def trigger_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                    vars_json: str | None, name: str, recorded_as: str) -> None:
    """Run job NAME now, in the foreground; a cron job covers its latest complete interval."""
    from eltkit.jobs.execute import check_job_steps, execute_job_run, job_of
    from eltkit.jobs.intervals import fire_at_or_before, interval_ending
    from eltkit.run.runner import open_history
    from eltkit.state.jobs import job_run, queue_job_run

    project = _load(project_dir, target, profiles_dir, vars_json)
    job = job_of(project, name)
    check_job_steps(project, name, job)
    now = datetime.now(UTC)
    interval = None
    if job.schedule:
        interval = interval_ending(job.schedule, job.zone,
                                   fire_at_or_before(job.schedule, job.zone, now))
    store = open_history(project)
    try:
        job_run_id = queue_job_run(store, name, "manual", now=now.timestamp(),
                                   interval=interval)
    finally:
        store.close()
    if interval is not None:
        click.echo(f"{name}: interval {interval.label(job.zone)}")
    status = execute_job_run(project, job_run_id, trigger=recorded_as,
                             reporter=_progress_reporter(f"job {name}"), echo=click.echo)
    store = open_history(project)
    try:
        record = job_run(store, job_run_id)
    finally:
        store.close()
    click.echo(f"\n{name}: {status.upper()}: {record.message} (job run {job_run_id})")
    _exit(0 if status == "success" else RUN_FAILED_EXIT_CODE)


@click.command("job-run", hidden=True)
@project_options
@click.argument("job_run_id")
@click.option("--trigger", "recorded_as", type=click.Choice(["schedule", "cli", "tui"]),
              default="schedule")
@handle_errors
def job_run_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                    vars_json: str | None, job_run_id: str, recorded_as: str) -> None:
    """Run one queued job run (started by the scheduler in its own process)."""
    from eltkit.jobs.execute import execute_job_run

    project = _load(project_dir, target, profiles_dir, vars_json)
    status = execute_job_run(project, job_run_id, trigger=recorded_as,
                             reporter=_progress_reporter(f"job run {job_run_id}"),
                             echo=click.echo)
    click.echo(f"job run {job_run_id}: {status}")
    _exit(0 if status == "success" else RUN_FAILED_EXIT_CODE)


@click.command("backfill")
@project_options
@click.argument("name")
@click.option("--start", "start_text", required=True, help="First interval's start (date or "
              "ISO datetime, in the job's timezone).")
@click.option("--end", "end_text", required=True, help="Last interval's start (inclusive).")
@click.option("--newest-first", is_flag=True, help="Run the most recent interval first.")
@click.option("--dry-run", is_flag=True, help="Print the intervals and what would run; run "
              "nothing.")
@click.option("--force", is_flag=True, help="Rerun intervals that already succeeded.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan or results as JSON.")
@handle_errors
def backfill_command(project_dir: Path | None, target: str | None, profiles_dir: Path | None,
                     vars_json: str | None, name: str, start_text: str, end_text: str,
                     newest_first: bool, dry_run: bool, force: bool, as_json: bool) -> None:
    """Run job NAME once per interval from --start to --end; rerun it to resume."""
    from eltkit.jobs.backfill import parse_moment, plan_backfill
    from eltkit.jobs.execute import check_job_steps, execute_job_run, job_of
    from eltkit.run.runner import open_history
    from eltkit.state.jobs import mark_interrupted_job_runs, new_job_run_id, queue_job_run

    project = _load(project_dir, target, profiles_dir, vars_json)
    job = job_of(project, name)
    start = parse_moment(start_text, job, "--start")
    end = parse_moment(end_text, job, "--end", end_of_day=True)
    store = open_history(project)
    try:
        mark_interrupted_job_runs(store)
        planned = plan_backfill(store, name, job, start, end, force=force,
                                newest_first=newest_first)
    finally:
        store.close()
    to_run = [item for item in planned if item.run]
    if dry_run:
        _print_backfill_plan(name, job, planned, as_json)
        return
    check_job_steps(project, name, job)
    backfill_id = new_job_run_id(f"backfill-{name}")
    results = []
    out = sys.stderr if as_json else sys.stdout
    click.echo(f"backfill {name}: {len(to_run)} of {len(planned)} intervals to run "
               f"({len(planned) - len(to_run)} already succeeded)", file=out)
    for number, item in enumerate(to_run, start=1):
        label = item.interval.label(job.zone)
        click.echo(f"\n[{number}/{len(to_run)}] {name} {label}", file=out)
        store = open_history(project)
        try:
            job_run_id = queue_job_run(store, name, "backfill",
                                       now=datetime.now(UTC).timestamp(),
                                       interval=item.interval, backfill_id=backfill_id)
        finally:
            store.close()
        status = execute_job_run(project, job_run_id, trigger="backfill",
                                 reporter=None if as_json else _progress_reporter(label),
                                 echo=lambda line: click.echo(line, file=out))
        results.append({"interval_start": item.interval.start.isoformat(),
                        "interval_end": item.interval.end.isoformat(),
                        "job_run_id": job_run_id, "status": status})
        if status == "cancelled":
            click.echo(f"backfill {name} stopped: interval {label} was cancelled; run the "
                       "same command again to resume", file=out)
            break
    failed = [r for r in results if r["status"] == "failed"]
    cancelled = [r for r in results if r["status"] == "cancelled"]
    if as_json:
        echo_json({"job": name, "backfill_id": backfill_id, "intervals": results})
    else:
        succeeded = len(results) - len(failed) - len(cancelled)
        click.echo(f"\nbackfill {name}: {succeeded} succeeded, {len(failed)} failed, "
                   f"{len(cancelled)} cancelled, {len(to_run) - len(results)} not started, "
                   f"{len(planned) - len(to_run)} skipped (already succeeded); run the same "
                   "command again to retry the rest")
    _exit(RUN_FAILED_EXIT_CODE if failed or cancelled else 0)


def _print_backfill_plan(name: str, job: Any, planned: list[Any], as_json: bool) -> None:
    if as_json:
        echo_json({"job": name, "dry_run": True, "intervals": [
            {"interval_start": item.interval.start.isoformat(),
             "interval_end": item.interval.end.isoformat(),
             "run": item.run, "why": item.why} for item in planned]})
        return
    for item in planned:
        click.echo(f"{'RUN ' if item.run else 'SKIP'}  {item.interval.label(job.zone)}  "
                   f"({item.why})")
    count = sum(1 for item in planned if item.run)
    click.echo(f"dry run: {count} of {len(planned)} intervals would run")


COMMANDS = (schedule_command, jobs_command, trigger_command, job_run_command, backfill_command)
