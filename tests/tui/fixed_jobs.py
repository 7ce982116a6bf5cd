"""A frozen history of jobs and SLAs on the sample, for the jobs and SLA screens' snapshots.

On top of the frozen sample history (one build at 09:00 on 2026-11-20, the
screens see 11:00:30 UTC): the build is the step run of a `daily_marts` job
run, `ingest` ran at 05:00 Paris time, `landing_files` failed three times and
the circuit breaker paused it, and a scheduler holds the lock. Four SLAs sit
in each state; the ``finance_close`` miss has escalated once, through the
library's own ``check_slas(..., notify=True)`` at the frozen time.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eltkit.project import load_project
from eltkit.sla.monitor import check_slas
from eltkit.state.store import HistoryStore
from tests.tui.helpers import BASE, FROZEN_NOW, SAMPLE_RUN

HOUR = 3600.0
#: 2026-11-20 04:00 UTC: ingest's 05:00 Europe/Paris fire.
INGEST_FIRE = BASE - 5 * HOUR
INGEST_JOB_RUN = "ingest-20261120T040000-aaaaaa"
INGEST_STEP_RUN = "20261120T040001-eeeeee"
MARTS_JOB_RUN = "daily_marts-20261120T090000-bbbbbb"
LANDING_JOB_RUNS = ["landing_files-20261120T101500-cccccc",
                    "landing_files-20261120T101000-cccccb",
                    "landing_files-20261120T100500-ccccca"]
LANDING_STEP_RUN = "20261120T101501-ffffff"
LANDING_ERROR = "ConnectionError: orders API unreachable (after 3 attempts)"
CIRCUIT_BREAKER = ("paused by the circuit breaker after 3 consecutive failed runs; "
                   "`eltkit jobs resume landing_files` to start it again")

#: Added to the sample's `slas:`, one SLA a state at 11:00:30 (marketing_dashboard is met).
EXTRA_SLAS = """\
  finance_close:   # missed: fct_payments was built at 09:00, over 1h ago
    select: "fct_payments"
    max_staleness: 1h
    escalation:
      - {after: 0m, notify: log}
      - {after: 2h, notify: {command: "./page-oncall.sh"}}
  exec_report:     # at risk: due 11:30, fct_orders takes 40 minutes
    select: "fct_orders"
    deadline: "30 9,11 * * *"
    escalation:
      - {after: 15m, notify: log}
  ops_daily:       # pending: due 10:00 tomorrow
    select: "stg_orders"
    deadline: "10:00"
"""


def add_slas(project: Path, text: str = EXTRA_SLAS) -> None:
    """Append SLAs to the `slas:` section of the sample's eltkit.yml."""
    config = project / "eltkit.yml"
    head, tail = config.read_text().split("\nfreshness:", 1)
    config.write_text(f"{head}\n{text}freshness:{tail}")


def write_fixed_jobs_history(project: Path) -> None:
    """Job runs, job state and a scheduler lock at fixed times; SLA evaluations at 11:00:30."""
    path = project / ".eltkit" / "history.db"
    db = sqlite3.connect(path)
    job_runs: list[tuple[Any, ...]] = [
        (INGEST_JOB_RUN, "ingest", "schedule", INGEST_FIRE - 24 * HOUR, INGEST_FIRE,
         "success", 1, INGEST_FIRE, INGEST_FIRE + 1, INGEST_FIRE + 9, "1 step succeeded"),
        (MARTS_JOB_RUN, "daily_marts", "after", INGEST_FIRE - 24 * HOUR, INGEST_FIRE,
         "success", 1, BASE - 1, BASE, BASE + 42, "4 steps succeeded"),
    ]
    for index, job_run_id in enumerate(LANDING_JOB_RUNS):
        started = BASE + 1.25 * HOUR - index * 300
        job_runs.append((job_run_id, "landing_files", "on_file", None, None, "failed", 1,
                         started - 1, started, started + 3,
                         f"step 1 (task extract_orders) failed: {LANDING_ERROR}"))
    db.executemany(
        "INSERT INTO job_runs (id, job, reason, interval_start, interval_end, status, attempt,"
        " queued_at, started_at, finished_at, message) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        job_runs)
    db.executemany(
        "INSERT INTO job_state (job, paused, paused_reason, consecutive_failures, cursor,"
        " after_cursor, file_cursor, updated_at) VALUES (?,?,?,?,?,?,?,?)",
        [("ingest", 0, None, 0, INGEST_FIRE, None, None, INGEST_FIRE),
         ("daily_marts", 0, None, 0, None, BASE - 1, None, BASE + 42),
         ("landing_files", 1, CIRCUIT_BREAKER, 3, None, None, BASE + 1.25 * HOUR,
          BASE + 1.25 * HOUR + 3)])
    db.execute("INSERT INTO scheduler_lock (id, pid, host, started_at, heartbeat_at)"
               " VALUES (1, 4242, 'etl-box', ?, ?)", (BASE - 6 * HOUR, FROZEN_NOW - 3))
    # The build at 09:00 is daily_marts' step; ingest and landing_files each have one.
    db.execute("UPDATE runs SET job = 'daily_marts', job_run_id = ? WHERE id = ?",
               (MARTS_JOB_RUN, SAMPLE_RUN))
    _step_run(db, INGEST_STEP_RUN, "ingest", INGEST_JOB_RUN, INGEST_FIRE + 1, "success",
              {"select": ["tag:extract"], "exclude": [], "selector": None},
              [(f"task.extract_{name}", f"extract_{name}", "success", None)
               for name in ("customers", "orders", "payments")])
    _step_run(db, LANDING_STEP_RUN, "landing_files", LANDING_JOB_RUNS[0],
              BASE + 1.25 * HOUR + 1, "failed",
              {"select": ["task:extract_orders"], "exclude": [], "selector": None},
              [("task.extract_orders", "extract_orders", "error", LANDING_ERROR)])
    # fct_orders took 40 minutes on the two days before: exec_report's finish is predicted
    # after its 11:30 deadline.
    for day, run_id in ((2, "20261118T090000-999998"), (1, "20261119T090000-999999")):
        started = BASE - day * 24 * HOUR
        _step_run(db, run_id, None, None, started, "success",
                  {"select": ["fct_orders"], "exclude": [], "selector": None},
                  [("model.jaffle.fct_orders", "fct_orders", "success", None)],
                  duration=2400.0)
    db.commit()
    db.close()
    add_slas(project)
    loaded = load_project(project, parse=False)
    store = HistoryStore(path)
    try:
        check_slas(loaded, store, datetime.fromtimestamp(FROZEN_NOW, UTC), notify=True)
    finally:
        store.close()


def _step_run(db: sqlite3.Connection, run_id: str, job: str | None, job_run_id: str | None,
              started: float, status: str, selection: dict[str, Any],
              nodes: list[tuple[str, str, str, str | None]], duration: float = 0.4) -> None:
    finished = started + duration * len(nodes) + 0.1
    trigger = "schedule" if job else "cli"
    db.execute(
        "INSERT INTO runs (id, command, selection, trigger, job, job_run_id, status,"
        " started_at, finished_at, heartbeat_at, pid, host, user, project_dir, target,"
        " threads, vars, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (run_id, "run", json.dumps(selection), trigger, job, job_run_id, status, started,
         finished, finished, 4242, "etl-box", "analyst", "/srv/jaffle", "dev", 4, "{}",
         None))
    rows = []
    for index, (uid, name, node_status, message) in enumerate(nodes):
        start = started + index * duration
        rows.append((run_id, uid, name, uid.split(".", 1)[0], node_status, 1, start,
                     start + duration, duration, None, message))
    db.executemany(
        "INSERT INTO node_results (run_id, unique_id, name, resource_type, status, attempts,"
        " started_at, finished_at, duration_s, rows_affected, message)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
