"""The scheduler with a fake clock: time moves when a test says so, job runs are real.

Each job run the scheduler starts is a real `eltkit job-run` process running
real tasks and dbt against the test project's DuckDB file; only the clock is
fake, so cron fires, catchup gaps and debounce windows need no waiting.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eltkit.jobs.clock import FakeClock
from eltkit.jobs.launcher import ProcessLauncher
from eltkit.jobs.scheduler import Scheduler, glob_matches
from eltkit.project import load_project
from eltkit.run.runner import open_history
from eltkit.state import jobs as records
from eltkit.state.notifications import notifications
from eltkit.state.store import HistoryStore
from tests.conftest import run_cli
from tests.jobs_helpers import set_jobs, warehouse_rows

PARIS_SPRING = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


class Harness:
    """A scheduler on the project at ``root`` with a fake clock."""

    def __init__(self, root: Path, start: datetime) -> None:
        self.root = root
        self.clock = FakeClock(start)
        self.project = load_project(root)
        self.store = open_history(self.project)
        self.lines: list[str] = []
        self.scheduler = Scheduler(
            self.project, self.store, ProcessLauncher(root, root / ".eltkit" / "job-logs"),
            clock=self.clock, notify_sleep=lambda seconds: None, echo=self.lines.append)

    def settle(self, timeout: float = 120) -> list[tuple[str, str]]:
        """Wait (really) for the running job runs to end, then reap them."""
        deadline = time.monotonic() + timeout
        for launched in list(self.scheduler.running.values()):
            launched.wait(timeout=max(1.0, deadline - time.monotonic()))
        return self.scheduler.reap()

    def runs(self, job: str | None = None) -> list[records.JobRun]:
        return sorted(records.job_runs(self.store, job=job, limit=1000),
                      key=lambda run: (run.queued_at, run.interval_end or 0))

    def close(self) -> None:
        self.scheduler.close(cancel_running=True)
        self.store.close()


MakeHarness = Callable[..., Harness]


@pytest.fixture
def harness(jobs_project: Path) -> Iterator[MakeHarness]:
    made: list[Harness] = []

    def make(start: datetime = PARIS_SPRING) -> Harness:
        made.append(Harness(jobs_project, start))
        return made[-1]

    yield make
    for item in made:
        item.close()


def test_cron_fires_at_wall_clock_times_across_the_spring_dst_change(
        jobs_project: Path, harness: MakeHarness) -> None:
    set_jobs(jobs_project, """
  daily:
    schedule: "30 2 * * *"
    timezone: Europe/Paris
    steps: [{task: load_events}]
""")
    h = harness()
    h.scheduler.start()
    # 02:30 in Paris: CET (+01:00) on the 28th; on the 29th 02:30 does not exist (the
    # clock jumps from 02:00 to 03:00), so it fires at the jump; then CEST (+02:00).
    expected = [datetime(2026, 3, 28, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
                datetime(2026, 3, 30, 0, 30, tzinfo=UTC)]
    for fire in expected:
        h.clock.set(fire - timedelta(minutes=1))
        assert h.scheduler.tick().queued == []
        h.clock.set(fire)
        report = h.scheduler.tick()
        assert len(report.queued) == 1 and len(report.started) == 1
        assert h.settle() == [(report.started[0], "success")]
    runs = h.runs("daily")
    assert [run.interval_end for run in runs] == [fire.timestamp() for fire in expected]
    assert [run.interval_start for run in runs[1:]] == [
        fire.timestamp() for fire in expected[:-1]]
    # The task got each interval in its context: what it wrote is in the warehouse.
    assert warehouse_rows(jobs_project, "select interval_end from raw.events order by 1") == [
        ("2026-03-28T01:30:00+00:00",), ("2026-03-29T01:00:00+00:00",),
        ("2026-03-30T00:30:00+00:00",)]
    steps = h.store._read("SELECT trigger, job, job_run_id FROM runs ORDER BY started_at")
    assert [tuple(row) for row in steps] == [("schedule", "daily", run.id) for run in runs]


@pytest.mark.parametrize(("settings", "queued", "skipped_message"), [
    ("", 3, None),
    ("    catchup: false\n", 1, "2 missed intervals not run: catchup is off"),
    ("    max_catchup: 2\n", 2, "1 missed interval not run: more than max_catchup (2)"),
])
def test_catchup_after_a_three_day_gap(jobs_project: Path, harness: MakeHarness,
                                       settings: str, queued: int,
                                       skipped_message: str | None) -> None:
    set_jobs(jobs_project, f"""
  daily:
    schedule: "0 6 * * *"
    steps: [{{task: load_events}}]
{settings}""")
    h = harness(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    h.scheduler.start()
    h.scheduler.close(cancel_running=False)  # the scheduler is down for three days
    h.clock.set(datetime(2026, 11, 4, 12, 0, tzinfo=UTC))
    h.scheduler.start()
    report = h.scheduler.tick()
    assert len(report.queued) == queued
    assert len(report.started) == 1  # max_active_runs: 1 holds
    runs = [run for run in h.runs("daily") if run.status != "skipped"]
    ends = [datetime.fromtimestamp(run.interval_end or 0, UTC).day for run in runs]
    assert ends == [2, 3, 4][3 - queued:]  # oldest first, newest kept
    skipped = [run for run in h.runs("daily") if run.status == "skipped"]
    if skipped_message is None:
        assert skipped == []
    else:
        assert len(skipped) == 1
        assert skipped_message in (skipped[0].message or "")
        assert "eltkit backfill daily --start 2026-11-01T06:00" in (skipped[0].message or "")
    assert h.settle() == [(report.started[0], "success")]
    assert len(h.scheduler.tick().started) == min(1, queued - 1)


def test_max_active_runs_two_starts_two(jobs_project: Path, harness: MakeHarness) -> None:
    set_jobs(jobs_project, """
  hourly:
    schedule: "0 * * * *"
    max_active_runs: 2
    steps: [{task: load_events}]
""")
    (jobs_project / "hang_on").write_text("2026")  # every interval hangs: they stay running
    h = harness(datetime(2026, 11, 1, 12, 30, tzinfo=UTC))
    h.scheduler.start()
    h.clock.advance(hours=3)
    report = h.scheduler.tick()
    assert (len(report.queued), len(report.started)) == (3, 2)
    assert len(h.scheduler.tick().started) == 0
    assert [run.status for run in h.runs("hourly")].count("queued") == 1


def test_after_fires_only_when_the_upstream_job_succeeded(jobs_project: Path,
                                                         harness: MakeHarness) -> None:
    (jobs_project / "fail_load").write_text("")
    h = harness()
    h.scheduler.start()
    h.clock.set(datetime(2026, 3, 28, 1, 30, tzinfo=UTC))
    h.scheduler.tick()
    assert [status for _, status in h.settle()] == ["failed"]
    assert h.scheduler.tick().queued == []
    assert h.runs("report") == []

    (jobs_project / "fail_load").unlink()
    h.clock.set(datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    h.scheduler.tick()
    assert [status for _, status in h.settle()] == ["success"]
    report = h.scheduler.tick()
    assert len(report.queued) == 1 and report.started == report.queued
    assert [status for _, status in h.settle()] == ["success"]
    assert h.scheduler.tick().queued == []  # one upstream success, one downstream run
    (downstream,) = h.runs("report")
    daily = next(run for run in h.runs("daily") if run.status == "success")
    assert (downstream.reason, downstream.interval_end) == ("after", daily.interval_end)
    # daily's own run of interval_log (Paris time) and report's (UTC): the same instant.
    assert sorted(warehouse_rows(jobs_project, "select interval_end from interval_log")) == [
        ("2026-03-29T01:00:00+00:00",), ("2026-03-29T03:00:00+02:00",)]


def test_on_file_fires_once_per_debounce_window(jobs_project: Path,
                                                harness: MakeHarness) -> None:
    h = harness()
    h.scheduler.start()
    landing = jobs_project / "landing"
    for name in ("a.csv", "b.csv", "c.csv"):
        (landing / name).write_text("id\n1\n")
    (landing / "notes.txt").write_text("not matched by landing/*.csv")
    watcher = h.scheduler.watchers["landing"]
    deadline = time.monotonic() + 20
    while len(watcher.pending) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(watcher.pending) == ["landing/a.csv", "landing/b.csv", "landing/c.csv"]
    assert h.scheduler.tick().queued == []  # the 60 s window is still open
    h.clock.advance(seconds=61)
    report = h.scheduler.tick()
    assert len(report.queued) == 1
    assert h.scheduler.tick().queued == []
    (run,) = h.runs("landing")
    assert run.message == "3 files landed: landing/a.csv, landing/b.csv, landing/c.csv"
    assert [status for _, status in h.settle()] == ["success"]

    (landing / "d.csv").write_text("id\n2\n")
    deadline = time.monotonic() + 20
    while not watcher.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    h.clock.advance(seconds=61)
    assert len(h.scheduler.tick().queued) == 1
    assert [run.message for run in h.runs("landing")][-1] == "1 files landed: landing/d.csv"


def test_retry_then_circuit_breaker_pauses_and_resume_clears_it(
        jobs_project: Path, harness: MakeHarness) -> None:
    set_jobs(jobs_project, """
  daily:
    schedule: "0 6 * * *"
    retries: 1
    retry_delay: 10m
    pause_after_failures: 2
    on_failure: log
    steps: [{task: load_events}]
""")
    (jobs_project / "fail_load").write_text("")
    h = harness(datetime(2026, 11, 1, 5, 0, tzinfo=UTC))
    h.scheduler.start()
    for day in (1, 2):
        h.clock.set(datetime(2026, 11, day, 6, 0, tzinfo=UTC))
        h.scheduler.tick()
        assert [status for _, status in h.settle()] == ["failed"]
        assert h.scheduler.tick().started == []  # the retry waits for its delay
        h.clock.advance(minutes=11)
        assert len(h.scheduler.tick().started) == 1
        assert [status for _, status in h.settle()] == ["failed"]
    state = records.job_state(h.store, "daily")
    assert state.paused and state.consecutive_failures == 2
    assert "circuit breaker after 2 consecutive failed runs" in (state.paused_reason or "")
    assert h.scheduler.flush(timeout=30)  # alerts go out in the background
    events = [(row["event"], row["action"], row["status"])
              for row in notifications(h.store, source="job", name="daily")]
    assert sorted(events) == [("circuit_open", "log", "sent"), ("failure", "log", "sent"),
                              ("failure", "log", "sent")]
    h.clock.set(datetime(2026, 11, 3, 6, 0, tzinfo=UTC))
    assert h.scheduler.tick().queued == []  # paused: nothing starts

    resumed = run_cli("jobs", "resume", "daily", cwd=jobs_project)
    assert resumed.returncode == 0, resumed.stderr
    assert not records.job_state(h.store, "daily").paused
    (jobs_project / "fail_load").unlink()
    report = h.scheduler.tick()  # the fire missed while paused is caught up, not dropped
    assert len(report.queued) == 1
    assert [status for _, status in h.settle()] == ["success"]
    assert records.job_state(h.store, "daily").consecutive_failures == 0


def test_a_second_scheduler_is_refused(jobs_project: Path, harness: MakeHarness) -> None:
    h = harness()
    h.scheduler.start()
    second = run_cli("schedule", "--once", cwd=jobs_project)
    assert second.returncode == 2
    assert f"another scheduler is running (pid {os.getpid()}" in second.stderr
    h.scheduler.close()
    third = run_cli("schedule", "--once", cwd=jobs_project)
    assert third.returncode == 0, third.stderr


def test_a_job_run_left_by_a_crash_is_queued_again(jobs_project: Path) -> None:
    project = load_project(jobs_project)
    store = open_history(project)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    job_run_id = records.queue_job_run(store, "daily", "schedule", now=time.time())
    store._write("UPDATE job_runs SET status = 'running', pid = ?, host = ? WHERE id = ?",
                 (dead.pid, os.uname()[1], job_run_id))
    store.close()
    result = run_cli("schedule", "--once", cwd=jobs_project)
    assert result.returncode == 0, result.stderr
    assert "daily: queued (resume)" in result.stdout
    store = HistoryStore(store.path)
    runs = {run.id: run for run in records.job_runs(store, job="daily")}
    assert runs[job_run_id].status == "interrupted"
    (resumed,) = [run for run in runs.values() if run.reason == "resume"]
    assert (resumed.status, resumed.attempt) == ("success", 2)
    store.close()


def test_sigterm_stops_the_scheduler_and_records_the_cancelled_job_run(
        jobs_project: Path) -> None:
    set_jobs(jobs_project, """
  manual:
    steps: [{task: load_events}]
""")
    (jobs_project / "hang_on").write_text("none")  # the manual run has no interval: it hangs
    project = load_project(jobs_project)
    store = open_history(project)
    job_run_id = records.queue_job_run(store, "manual", "manual", now=time.time())
    process = subprocess.Popen([sys.executable, "-m", "eltkit.cli", "schedule", "--tick", "0.2"],
                               cwd=jobs_project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "NO_COLOR": "1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = records.job_run(store, job_run_id)
        steps = records.steps_of(store, job_run_id)
        if run.status == "running" and steps:
            break
        time.sleep(0.2)
    assert records.job_run(store, job_run_id).status == "running"
    time.sleep(1.0)  # let the task start
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=90)
    assert process.returncode == 0, stderr
    assert "scheduler stopping" in stdout
    final = records.job_run(store, job_run_id)
    assert final.status == "cancelled", final
    assert [step["status"] for step in records.steps_of(store, job_run_id)] == ["cancelled"]
    assert records.scheduler_holder(store) is None
    # Stopped with the scheduler: not a failure of the job (no retry, no alert, no breaker).
    assert records.job_state(store, "manual").consecutive_failures == 0
    store.close()


def test_jobs_lists_next_fire_and_pause_state(jobs_project: Path) -> None:
    paused = run_cli("jobs", "pause", "daily", cwd=jobs_project)
    assert paused.returncode == 0 and paused.stdout.strip() == "daily: paused"
    listing = run_cli("jobs", "--json", cwd=jobs_project)
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["daily"]["paused"] is True
    assert rows["daily"]["next_fire"].endswith(":30:00+01:00") or \
        rows["daily"]["next_fire"].endswith(":30:00+02:00")
    assert rows["report"]["triggers"] == ["after daily"]
    assert rows["landing"]["triggers"] == ["files landing/*.csv"]
    unknown = run_cli("jobs", "resume", "nope", cwd=jobs_project)
    assert unknown.returncode == 2 and "no job 'nope'" in unknown.stderr


def test_a_job_run_past_its_max_duration_alerts_once(jobs_project: Path,
                                                    harness: MakeHarness) -> None:
    set_jobs(jobs_project, """
  daily:
    schedule: "0 6 * * *"
    max_duration: 1s
    on_failure: log
    steps: [{task: load_events}]
""")
    (jobs_project / "hang_on").write_text("2026")
    h = harness(datetime(2026, 11, 1, 5, 0, tzinfo=UTC))
    h.scheduler.start()
    h.clock.set(datetime(2026, 11, 1, 6, 0, tzinfo=UTC))
    assert len(h.scheduler.tick().started) == 1
    time.sleep(2.5)  # real seconds: the run's duration is measured by the wall clock
    h.scheduler.tick()
    h.scheduler.tick()
    assert h.scheduler.flush(timeout=30)
    events = [(row["event"], row["action"]) for row in
              notifications(h.store, source="job", name="daily")]
    assert events == [("overdue", "log")]
    assert records.job_run(h.store, h.runs("daily")[0].id).status == "running"


def test_on_file_glob_keeps_star_within_one_folder() -> None:
    assert glob_matches("landing/*.csv", "landing/a.csv")
    assert not glob_matches("landing/*.csv", "landing/sub/a.csv")
    assert not glob_matches("landing/*.csv", "landing/a.csv.tmp")
    assert glob_matches("landing/*/*.csv", "landing/2026-11-01/a.csv")


def test_schedule_once_from_cron_fires_for_files_that_landed_between_ticks(
        jobs_project: Path) -> None:
    set_jobs(jobs_project, """
  landing:
    on_file: {path: "landing/*.csv", debounce: 1s}
    steps: [{task: load_events}]
""")
    first = run_cli("schedule", "--once", cwd=jobs_project)
    assert first.returncode == 0, first.stderr
    assert "queued" not in first.stdout
    time.sleep(0.1)
    (jobs_project / "landing" / "orders.csv").write_text("id\n1\n")
    time.sleep(1.5)  # the debounce window, in real time: `--once` runs use the real clock
    second = run_cli("schedule", "--once", cwd=jobs_project)
    assert second.returncode == 0, second.stderr
    assert "landing: queued (on_file)" in second.stdout
    assert "landing: job run landing-" in second.stdout and " success" in second.stdout
    third = run_cli("schedule", "--once", cwd=jobs_project)
    assert "queued" not in third.stdout  # the file was handled once


def test_catchup_skips_an_interval_a_backfill_already_ran(jobs_project: Path,
                                                         harness: MakeHarness) -> None:
    set_jobs(jobs_project, """
  daily:
    schedule: "0 6 * * *"
    steps: [{task: load_events}]
""")
    h = harness(datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    h.scheduler.start()
    h.scheduler.close(cancel_running=False)
    backfill = run_cli("backfill", "daily", "--start", "2026-11-01T06:00", "--end",
                       "2026-11-01T06:00", cwd=jobs_project)
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    h.clock.set(datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    h.scheduler.start()
    report = h.scheduler.tick()
    (queued,) = [run for run in h.runs("daily") if run.id in report.queued]
    assert queued.interval_end == datetime(2026, 11, 3, 6, 0, tzinfo=UTC).timestamp()
    assert any("already succeeded; not queued" in line for line in h.lines)
