"""`eltkit backfill`: one real run per interval, its vars in the warehouse, resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from eltkit.project import load_project
from eltkit.run.runner import open_history
from eltkit.state import jobs as records
from tests.conftest import run_cli
from tests.jobs_helpers import set_jobs, warehouse_rows

DAILY_UTC = """
  daily:
    schedule: "0 0 * * *"
    steps:
      - run: {select: "load_events+"}
"""


def test_backfill_runs_each_interval_with_its_vars_and_resumes_after_a_crash(
        jobs_project: Path) -> None:
    set_jobs(jobs_project, DAILY_UTC)
    (jobs_project / "hang_on").write_text("2026-10-03")
    args = [sys.executable, "-m", "eltkit.cli", "backfill", "daily", "--start", "2026-10-01",
            "--end", "2026-10-05"]
    process = subprocess.Popen(args, cwd=jobs_project, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    store = open_history(load_project(jobs_project))
    third = datetime_ts("2026-10-03T00:00:00+00:00")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        hanging = [run for run in records.job_runs(store, job="daily")
                   if run.interval_start == third and run.status == "running"]
        if hanging and records.steps_of(store, hanging[0].id):
            break
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)  # a crash, not a clean stop
    process.wait()
    store.close()
    (jobs_project / "hang_on").unlink()

    resumed = run_cli("backfill", "daily", "--start", "2026-10-01", "--end", "2026-10-05",
                      cwd=jobs_project)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "backfill daily: 3 of 5 intervals to run (2 already succeeded)" in resumed.stdout
    assert warehouse_rows(jobs_project, "select interval_start, interval_end from interval_log"
                                       " order by 1") == [
        (f"2026-10-0{day}T00:00:00+00:00", f"2026-10-0{day + 1}T00:00:00+00:00")
        for day in range(1, 6)]
    # The task saw the same intervals, each exactly once despite the crash.
    assert warehouse_rows(jobs_project, "select interval_start, count(*) from raw.events"
                                       " group by 1 order by 1") == [
        (f"2026-10-0{day}T00:00:00+00:00", 1) for day in range(1, 6)]
    store = open_history(load_project(jobs_project))
    statuses = sorted(run.status for run in records.job_runs(store, job="daily"))
    store.close()
    assert statuses == ["interrupted"] + ["success"] * 5


def datetime_ts(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


def test_dry_run_force_and_newest_first(jobs_project: Path) -> None:
    set_jobs(jobs_project, DAILY_UTC)
    first = run_cli("backfill", "daily", "--start", "2026-10-01", "--end", "2026-10-02",
                    cwd=jobs_project)
    assert first.returncode == 0, first.stdout + first.stderr
    plan = run_cli("backfill", "daily", "--start", "2026-10-01", "--end", "2026-10-03",
                   "--dry-run", "--newest-first", cwd=jobs_project)
    assert plan.returncode == 0, plan.stderr
    assert plan.lines == [
        "RUN   2026-10-03 00:00 -> 2026-10-04 00:00 UTC  (to run)",
        "SKIP  2026-10-02 00:00 -> 2026-10-03 00:00 UTC  (already succeeded)",
        "SKIP  2026-10-01 00:00 -> 2026-10-02 00:00 UTC  (already succeeded)",
        "dry run: 1 of 3 intervals would run",
    ]
    forced = run_cli("backfill", "daily", "--start", "2026-10-01", "--end", "2026-10-03",
                     "--dry-run", "--force", "--json", cwd=jobs_project)
    assert [item["why"] for item in json.loads(forced.stdout)["intervals"]] == [
        "forced", "forced", "to run"]
    # A dry run runs nothing: the warehouse still has the first two intervals only.
    assert len(warehouse_rows(jobs_project, "select * from interval_log")) == 2


def test_a_failing_interval_fails_the_backfill_and_the_rest_still_run(
        jobs_project: Path) -> None:
    set_jobs(jobs_project, DAILY_UTC)
    (jobs_project / "fail_load").write_text("")
    result = run_cli("backfill", "daily", "--start", "2026-10-01", "--end", "2026-10-02",
                     "--json", cwd=jobs_project, env={"ELTKIT_IGNORED": os.devnull})
    assert result.returncode == 1
    assert [item["status"] for item in json.loads(result.stdout)["intervals"]] == [
        "failed", "failed"]
