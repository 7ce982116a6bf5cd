"""The scheduler: one process that starts jobs when they are due.

Each tick (a few seconds apart) it
1. reaps finished job runs: retries, consecutive-failure count, circuit
   breaker, on_failure / on_success notifications;
2. queues what became due: cron fires (with catchup after downtime), jobs
   whose ``after`` upstreams all succeeded since their last run, files that
   landed for ``on_file`` jobs (once the debounce window closes);
3. starts queued job runs, at most ``max_active_runs`` per job;
4. evaluates SLAs and escalates.

Everything it decides is written to the history first, so a crash of the
scheduler loses nothing: queued runs are started by the next scheduler,
interrupted ones are queued again, missed cron fires are caught up.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from eltkit.jobs.background import BackgroundWork
from eltkit.jobs.clock import Clock, SystemClock
from eltkit.jobs.config import JobConfig, OnFile
from eltkit.jobs.intervals import Interval, fire_at_or_before, fires_after
from eltkit.jobs.launcher import LaunchedRun
from eltkit.project import Project
from eltkit.state import jobs as records
from eltkit.state.store import HistoryStore
from eltkit.stop_signals import on_stop_signals

log = logging.getLogger("eltkit.scheduler")

# Past this many due fires a job is treated as "very far behind" without
# enumerating every one (a per-minute cron after a month offline).
_MAX_FIRES_SCANNED = 100_000
_TERMINATE_GRACE_S = 60.0
RESUMABLE_REASONS = ("schedule", "catchup", "after", "on_file", "retry")


class Launcher(Protocol):
    def start(self, job_run_id: str, job: str) -> LaunchedRun: ...


@dataclass
class TickReport:
    """What one tick did, for logs and tests."""

    queued: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    finished: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def glob_matches(pattern: str, relative: str) -> bool:
    """``Path.glob``'s rule for one file: ``*`` stays within a folder, part by part."""
    pattern_parts, path_parts = pattern.split("/"), relative.split("/")
    return len(pattern_parts) == len(path_parts) and all(
        fnmatch.fnmatchcase(part, wanted) for part, wanted in zip(path_parts, pattern_parts,
                                                                 strict=True))


class _FileWatcher:
    """Collects files landing under an ``on_file`` glob, with the clock's time."""

    def __init__(self, job: str, root: Path, on_file: OnFile, clock: Clock) -> None:
        self.job = job
        self.root = root
        self.pattern = on_file.path
        self.clock = clock
        self.base = on_file.folder(root)
        self.pending: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()

    def matches(self, path: Path) -> bool:
        try:
            relative = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return False
        return glob_matches(self.pattern, relative)

    def note(self, path: Path, at: datetime) -> None:
        if self.matches(path) and path.is_file():
            with self._lock:
                self.pending.setdefault(path.resolve().relative_to(self.root.resolve())
                                        .as_posix(), at)

    def scan_since(self, since: float) -> None:
        """Files that landed while no scheduler was watching (mtime after ``since``)."""
        now = self.clock.now()
        for path in sorted(self.root.glob(self.pattern)):
            with contextlib.suppress(OSError):
                mtime = path.stat().st_mtime
                if path.is_file() and mtime > since:
                    # The window opened when the file landed, so `schedule --once` run
                    # from cron a minute later fires it.
                    self.note(path, min(now, datetime.fromtimestamp(mtime, UTC)))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name=f"eltkit-watch-{self.job}",
                                        daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        from watchfiles import Change, watch

        self.ready.set()
        for changes in watch(self.base, stop_event=self._stop, debounce=200, step=50,
                             yield_on_timeout=True, rust_timeout=500):
            for change, name in changes:
                if change in (Change.added, Change.modified):
                    self.note(Path(name), self.clock.now())

    def take_if_due(self, debounce_s: float, now: datetime) -> list[str]:
        """The files of a window opened ``debounce_s`` ago or more; empties the window."""
        with self._lock:
            if not self.pending:
                return []
            opened = min(self.pending.values())
            if (now - opened).total_seconds() < debounce_s:
                return []
            files = sorted(self.pending)
            self.pending.clear()
            return files

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class Scheduler:
    """Starts the project's jobs when due. ``tick()`` is one pass; ``serve()`` loops."""

    def __init__(self, project: Project, store: HistoryStore, launcher: Launcher, *,
                 clock: Clock | None = None,
                 notify_sleep: Callable[[float], None] = time.sleep,
                 echo: Callable[[str], None] | None = None) -> None:
        self.project = project
        self.jobs: dict[str, JobConfig] = dict(project.config.jobs)
        self.store = store
        self.launcher = launcher
        self.clock = clock or SystemClock()
        self.notify_sleep = notify_sleep
        self.echo = echo or (lambda line: log.info("%s", line))
        self.running: dict[str, LaunchedRun] = {}
        self.watchers: dict[str, _FileWatcher] = {}
        self.stopping = threading.Event()
        self.overdue_alerted: set[str] = set()
        self.background = BackgroundWork()
        # Per cron job: (the cursor it was computed from, its next fire).
        self._next_fires: dict[str, tuple[float, datetime]] = {}
        # Job runs this scheduler stopped (SIGTERM on shutdown): cancelled, not failed.
        self.stopped_by_us: set[str] = set()
        self._started = False

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        """Take the scheduler lock, recover from a previous crash, start file watchers."""
        if self.project.config.slas:
            # In the foreground: an SLA selecting nothing stops the start with its error,
            # and the graph is built before the background thread reads it.
            from eltkit.sla.nodes import sla_nodes

            for name, sla in self.project.config.slas.items():
                sla_nodes(self.project, name, sla)
        records.acquire_scheduler_lock(self.store)
        self._started = True
        now = self.clock.now()
        for dead in records.mark_interrupted_job_runs(self.store):
            # A backfill resumes by rerunning its command, a manual run by its person;
            # a crashed resume is not resumed again (it could crash the scheduler in a loop).
            if dead.reason in RESUMABLE_REASONS:
                self._queue(dead.job, "resume", now, interval=dead.interval,
                            attempt=dead.attempt + 1,
                            message=f"resumes {dead.id}, interrupted by a crash")
        for name, job in self.jobs.items():
            state = records.job_state(self.store, name)
            if job.schedule and state.cursor is None:
                records.update_job_state(self.store, name, cursor=self._first_cursor(job, now))
            if job.after and state.after_cursor is None:
                records.update_job_state(self.store, name, after_cursor=time.time())
            if job.on_file:
                since = state.file_cursor
                if since is None:
                    since = time.time()
                    records.update_job_state(self.store, name, file_cursor=since)
                watcher = _FileWatcher(name, self.project.root, job.on_file, self.clock)
                if not watcher.base.is_dir():
                    raise_missing_folder(self.project, name, watcher.base)
                watcher.scan_since(since)
                watcher.start()
                self.watchers[name] = watcher
        for watcher in self.watchers.values():
            watcher.ready.wait(timeout=5)

    def _first_cursor(self, job: JobConfig, now: datetime) -> float:
        """Where a job's cron starts counting: now, or its start_date when it catches up."""
        assert job.schedule is not None
        if job.start_date is not None and job.catchup:
            start = datetime(job.start_date.year, job.start_date.month, job.start_date.day,
                             tzinfo=job.zone)
            return fire_at_or_before(job.schedule, job.zone, start).timestamp()
        return fire_at_or_before(job.schedule, job.zone, now).timestamp()

    def close(self, *, cancel_running: bool = True) -> None:
        """Stop watchers, stop (SIGTERM) or wait for running job runs, release the lock."""
        for watcher in self.watchers.values():
            watcher.stop()
        if not cancel_running:
            for launched in list(self.running.values()):
                launched.wait()
        else:
            for job_run_id, launched in self.running.items():
                self.stopped_by_us.add(job_run_id)
                launched.terminate()
            deadline = time.monotonic() + _TERMINATE_GRACE_S
            for launched in list(self.running.values()):
                try:
                    launched.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:  # a stuck child is killed, not awaited
                    launched.kill()
                    launched.wait()
        self.reap()
        self.background.drain(_TERMINATE_GRACE_S)
        if self._started:
            records.release_scheduler_lock(self.store)
            self._started = False

    def serve(self, interval_s: float = 5.0) -> None:
        """Tick until SIGTERM / SIGINT (or ``stopping`` is set), then close gracefully."""
        with on_stop_signals(self.stopping.set):
            while not self.stopping.is_set():
                self.tick()
                self.clock.sleep(self._seconds_to_next_event(interval_s), self.stopping)
        self.echo("scheduler stopping: cancelling running job runs")
        self.close(cancel_running=True)

    def _seconds_to_next_event(self, ceiling: float) -> float:
        """Sleep until the soonest known cron fire (the tick just computed them)."""
        now = self.clock.now()
        upcoming = [fire for _, fire in self._next_fires.values()]
        if not upcoming:
            return ceiling
        return max(0.05, min(ceiling, (min(upcoming) - now).total_seconds()))

    # -- one tick ----------------------------------------------------------------------

    def tick(self) -> TickReport:
        report = TickReport()
        records.heartbeat_scheduler(self.store)
        now = self.clock.now()
        report.finished = self.reap()
        self._alert_overdue()
        states = records.job_states(self.store)  # one read for every job, every tick
        for name, job in self.jobs.items():
            state = states.get(name) or records.JobState(name)
            if state.paused:
                continue
            if job.schedule:
                self._queue_cron(name, job, state, now, report)
            if job.after:
                self._queue_after(name, job, state, now, report)
            if job.on_file:
                self._queue_files(name, job, now, report)
        self._launch_due(now, report)
        self._check_slas(now)
        return report

    def reap(self) -> list[tuple[str, str]]:
        """Handle job runs whose process ended: retries, counters, alerts, downstream."""
        finished = []
        for job_run_id, launched in list(self.running.items()):
            code = launched.poll()
            if code is None:
                continue
            del self.running[job_run_id]
            record = records.job_run(self.store, job_run_id)
            if record.status in ("queued", "running") and job_run_id in self.stopped_by_us:
                records.finish_job_run(self.store, job_run_id, "cancelled",
                                       "stopped with the scheduler before it finished")
                record = records.job_run(self.store, job_run_id)
            elif record.status in ("queued", "running"):
                records.finish_job_run(
                    self.store, job_run_id, "interrupted",
                    f"the job run's process exited with code {code} before finishing"
                    f" (log: {launched.log_path})")
                record = records.job_run(self.store, job_run_id)
            finished.append((job_run_id, record.status))
            self.echo(f"{record.job}: job run {job_run_id} {record.status}"
                      + (f": {record.message}" if record.message else ""))
            self._after_outcome(record)
        return finished

    def _after_outcome(self, record: records.JobRun) -> None:
        job = self.jobs.get(record.job)
        if job is None or record.status == "cancelled":
            return
        now = self.clock.now()
        if record.status == "success":
            records.update_job_state(self.store, record.job, consecutive_failures=0)
            self._notify(job.on_success, record, "success",
                         f"job {record.job} succeeded ({record.message})")
            return
        if record.attempt <= job.retries:
            self._queue(record.job, "retry", now, interval=record.interval,
                        attempt=record.attempt + 1,
                        not_before=now + timedelta(seconds=job.retry_delay),
                        message=f"attempt {record.attempt + 1} after {record.id}")
            self.echo(f"{record.job}: retrying in {job.retry_delay:g}s "
                      f"(attempt {record.attempt + 1} of {job.retries + 1})")
            return
        failures = records.job_state(self.store, record.job).consecutive_failures + 1
        records.update_job_state(self.store, record.job, consecutive_failures=failures)
        self._notify(job.on_failure, record, "failure",
                     f"job {record.job} failed: {record.message} "
                     f"(attempt {record.attempt} of {job.retries + 1})")
        if job.pause_after_failures and failures >= job.pause_after_failures:
            reason = (f"paused by the circuit breaker after {failures} consecutive failed "
                      f"runs; `eltkit jobs resume {record.job}` to start it again")
            records.update_job_state(self.store, record.job, paused=True,
                                     paused_reason=reason)
            self.echo(f"{record.job}: {reason}")
            self._notify(job.on_failure, record, "circuit_open", f"job {record.job} {reason}")

    # -- what is due -------------------------------------------------------------------

    def _queue_cron(self, name: str, job: JobConfig, state: records.JobState, now: datetime,
                    report: TickReport) -> None:
        assert job.schedule is not None
        known = self._next_fires.get(name)
        if known is not None and known[0] == state.cursor and now < known[1]:
            return  # not due yet: no cron arithmetic on most ticks
        cursor = datetime.fromtimestamp(state.cursor or now.timestamp(), UTC)
        due: list[datetime] = []
        for fire in fires_after(job.schedule, job.zone, cursor):
            if fire > now or len(due) >= _MAX_FIRES_SCANNED:
                if state.cursor is not None and not due:
                    self._next_fires[name] = (state.cursor, fire)
                break
            due.append(fire)
        if not due:
            return
        intervals = [Interval(start, end) for start, end in pairwise([cursor, *due])]
        keep = min(len(intervals), job.max_catchup) if job.catchup else 1
        dropped, kept = intervals[:-keep], intervals[-keep:]
        if dropped:
            why = ("catchup is off" if not job.catchup else
                   f"more than max_catchup ({job.max_catchup}) intervals were missed")
            span = Interval(dropped[0].start, dropped[-1].end)
            message = (f"{len(dropped)} missed interval{'s' if len(dropped) > 1 else ''} not "
                       f"run: {why}; run them with `eltkit backfill {name} --start "
                       f"{span.start.astimezone(job.zone):%Y-%m-%dT%H:%M} --end "
                       f"{dropped[-1].start.astimezone(job.zone):%Y-%m-%dT%H:%M}`")
            skipped_id = records.queue_job_run(self.store, name, "schedule",
                                               now=now.timestamp(), interval=span,
                                               status="skipped", message=message)
            report.skipped.append(skipped_id)
            self.echo(f"{name}: {message}")
        reason = "schedule" if len(kept) == 1 else "catchup"
        done = records.successful_intervals(self.store, name)
        for interval in kept:
            if (interval.start.timestamp(), interval.end.timestamp()) in done:
                # Already run (`eltkit trigger` or a backfill during the downtime).
                self.echo(f"{name}: {interval.label(job.zone)} already succeeded; not queued")
                continue
            report.queued.append(self._queue(name, reason, now, interval=interval))
        records.update_job_state(self.store, name, cursor=due[-1].timestamp())

    def _queue_after(self, name: str, job: JobConfig, state: records.JobState, now: datetime,
                     report: TickReport) -> None:
        since = state.after_cursor or 0.0
        upstream = [records.latest_success(self.store, other) for other in job.after]
        if any(run is None or (run.finished_at or 0) <= since for run in upstream):
            return
        finished = [run for run in upstream if run is not None]
        intervals = [run.interval for run in finished if run.interval is not None]
        interval = (Interval(min(i.start for i in intervals), max(i.end for i in intervals))
                    if intervals else None)
        names = ", ".join(f"{run.job} ({run.id})" for run in finished)
        report.queued.append(self._queue(name, "after", now, interval=interval,
                                         message=f"after {names}"))
        records.update_job_state(self.store, name,
                                 after_cursor=max(run.finished_at or 0 for run in finished))

    def _queue_files(self, name: str, job: JobConfig, now: datetime,
                     report: TickReport) -> None:
        assert job.on_file is not None
        files = self.watchers[name].take_if_due(job.on_file.debounce, now)
        if not files:
            return
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        report.queued.append(self._queue(name, "on_file", now,
                                         message=f"{len(files)} files landed: {shown}"))
        records.update_job_state(self.store, name, file_cursor=time.time())

    def _queue(self, name: str, reason: str, now: datetime, *, interval: Interval | None = None,
               attempt: int = 1, not_before: datetime | None = None,
               message: str | None = None) -> str:
        job_run_id = records.queue_job_run(
            self.store, name, reason, now=now.timestamp(), interval=interval, attempt=attempt,
            not_before=None if not_before is None else not_before.timestamp(), message=message)
        label = f" for {interval.label(self.jobs[name].zone)}" if interval else ""
        self.echo(f"{name}: queued ({reason}){label}")
        return job_run_id

    # -- starting ----------------------------------------------------------------------

    def _launch_due(self, now: datetime, report: TickReport) -> None:
        queued = sorted(records.job_runs(self.store, statuses=("queued",), limit=10_000),
                        key=lambda run: (run.queued_at, run.interval_end or 0))
        paused = {name for name, state in records.job_states(self.store).items()
                  if state.paused} if queued else set()
        for record in queued:
            job = self.jobs.get(record.job)
            if job is None:
                records.finish_job_run(self.store, record.id, "skipped",
                                       f"job {record.job} is no longer in eltkit.yml")
                continue
            if record.job in paused:
                continue
            if record.not_before is not None and record.not_before > now.timestamp():
                continue
            active = sum(1 for run in self.running.values() if run.job == record.job)
            if active >= job.max_active_runs:
                continue
            if record.id in self.running:
                continue
            launched = self.launcher.start(record.id, record.job)
            records.mark_launched(self.store, record.id, launched.process.pid)
            self.running[record.id] = launched
            report.started.append(record.id)
            self.echo(f"{record.job}: started job run {record.id} (log: {launched.log_path})")

    # -- alerts and SLAs ---------------------------------------------------------------

    def _alert_overdue(self) -> None:
        """A job run past its job's ``max_duration``: alert once (the run goes on)."""
        for job_run_id, launched in self.running.items():
            job = self.jobs.get(launched.job)
            if job is None or job.max_duration is None or job_run_id in self.overdue_alerted:
                continue
            record = records.job_run(self.store, job_run_id)
            elapsed = time.time() - (record.started_at or time.time())
            if elapsed > job.max_duration:
                self.overdue_alerted.add(job_run_id)
                summary = (f"job {record.job} has been running for {elapsed:.0f}s, longer "
                           f"than its max_duration ({job.max_duration:g}s)")
                self.echo(f"{record.job}: {summary}")
                self._notify(job.on_failure, record, "overdue", summary)

    def _notify(self, actions: Any, record: records.JobRun, kind: str, summary: str) -> None:
        if not actions:
            return
        from eltkit.notify.event import Event
        from eltkit.notify.send import deliver

        event = Event(source="job", name=record.job, kind=kind, summary=summary,
                      details=record.to_json(), at=self.clock.now())
        self.background.submit(lambda: deliver(actions, event, store=self.store,
                                               cwd=self.project.root, sleep=self.notify_sleep))

    def _check_slas(self, now: datetime) -> None:
        """Evaluate and escalate SLAs in the background; skipped while one is under way
        (a slow webhook must not pile up evaluations)."""
        if not self.project.config.slas or self.background.pending:
            return
        from eltkit.sla.monitor import check_slas

        def check() -> None:
            try:
                check_slas(self.project, self.store, now, notify=True, sleep=self.notify_sleep)
            except Exception as exc:  # noqa: BLE001 - an SLA problem must not stop the jobs
                self.echo(f"SLA check failed: {exc}")

        self.background.submit(check)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for the notifications and SLA checks handed to the background."""
        return self.background.drain(timeout)


def raise_missing_folder(project: Project, job: str, folder: Path) -> None:
    from eltkit.errors import ConfigError

    raise ConfigError(f"{project.config_path}: jobs.{job}.on_file.path: the folder {folder} "
                      "does not exist; create it or fix the path")
