"""The scheduler's own cost: one tick over many jobs, and a job run's start-up.

1. Tick: a project with N cron jobs (N = 10, 100, 500) on the mini test project;
   a tick with nothing due, and the tick that finds every job due and queues it.
   No process is started (a launcher that only records), so the figure is the
   scheduler's bookkeeping alone: what it costs every few seconds, all day.
2. Job run overhead: `eltkit trigger` of the sample's ingest job against
   `eltkit run -s tag:extract` (the same two tasks), each run twice in a row; the
   first trigger of a new data interval pays dbt's re-parse (vars changed).

    python -m benchmarks.bench_jobs [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results_jobs.json"


class _NeverEnding:
    """Stands for a job run's process that is still running."""

    def __init__(self, job: str) -> None:
        self.job = job
        self.process = SimpleNamespace(pid=0)
        self.log_path = Path("/dev/null")

    def poll(self) -> int | None:
        return None

    def terminate(self) -> None:
        pass

    def kill(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> int:
        return 0


class RecordingLauncher:
    """Starts no process: the benchmark times the scheduler's bookkeeping, not the jobs."""

    def start(self, job_run_id: str, job: str) -> Any:
        return _NeverEnding(job)


def tick_figures(jobs: int, repeat: int) -> dict[str, float]:
    from eltkit.jobs.clock import FakeClock
    from eltkit.jobs.scheduler import Scheduler
    from eltkit.project import load_project
    from eltkit.run.runner import open_history

    with tempfile.TemporaryDirectory() as folder:
        root = Path(shutil.copytree(REPO / "tests" / "projects" / "mini", Path(folder) / "p"))
        lines = [f"  job{i}:\n    schedule: '{i % 60} * * * *'\n    steps: [run]\n"
                 for i in range(jobs)]
        config = root / "eltkit.yml"
        config.write_text(config.read_text() + "jobs:\n" + "".join(lines))
        project = load_project(root)
        store = open_history(project)
        clock = FakeClock(datetime(2026, 11, 1, 12, 0, 30, tzinfo=UTC))
        scheduler = Scheduler(project, store, RecordingLauncher(), clock=clock,
                              echo=lambda line: None)
        scheduler.start()
        idle = []
        for _ in range(repeat):
            started = time.perf_counter()
            scheduler.tick()
            idle.append(time.perf_counter() - started)
        clock.advance(hours=1)
        started = time.perf_counter()
        report = scheduler.tick()
        due = time.perf_counter() - started
        assert len(report.queued) == jobs, (len(report.queued), jobs)
        scheduler.running.clear()
        scheduler.close(cancel_running=False)
        store.close()
    return {"jobs": jobs, "idle_tick_ms": round(statistics.median(idle) * 1000, 2),
            "all_due_tick_ms": round(due * 1000, 2)}


def job_run_overhead(repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(shutil.copytree(REPO / "sample_dbt_project", Path(folder) / "sample",
                                    ignore=shutil.ignore_patterns("target", "logs", "*.duckdb",
                                                                  ".eltkit")))
        run([sys.executable, "-m", "eltkit.cli", "build"], root)
        figures: dict[str, Any] = {}
        for label, args in (("trigger ingest", ["trigger", "ingest"]),
                            ("run -s tag:extract", ["run", "-s", "tag:extract"])):
            times = [run([sys.executable, "-m", "eltkit.cli", *args], root)
                     for _ in range(repeat)]
            figures[label] = {"first_s": round(times[0], 2),
                              "then_median_s": round(statistics.median(times[1:]), 2)}
    return figures


def run(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    completed = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    sizes = (10, 100) if options.quick else (10, 100, 500)
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "ticks": [tick_figures(size, repeat=5 if options.quick else 20) for size in sizes],
        "job_run": job_run_overhead(repeat=3),
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
