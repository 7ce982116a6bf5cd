"""Start a job run in its own process and watch it.

Each job run is `eltkit job-run ID` in a child process: the scheduler stays
small and alive whatever a job does (a segfault in a driver, a leak, a hang),
and a job run reacts to SIGTERM exactly like `eltkit run` does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class LaunchedRun:
    job_run_id: str
    job: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]

    def poll(self) -> int | None:
        code = self.process.poll()
        if code is not None and not self._log.closed:
            self._log.close()
        return code

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def wait(self, timeout: float | None = None) -> int:
        code = self.process.wait(timeout)
        self._log.close()
        return code


class ProcessLauncher:
    """Launches `python -m eltkit.cli job-run` for the project at ``root``."""

    def __init__(self, root: Path, log_dir: Path, trigger: str = "schedule",
                 project_args: tuple[str, ...] = ()) -> None:
        """``project_args``: the scheduler's own --target/--profiles-dir/--vars, so its
        job runs see the project exactly as it does."""
        self.root = root
        self.log_dir = log_dir
        self.trigger = trigger
        self.project_args = project_args

    def start(self, job_run_id: str, job: str) -> LaunchedRun:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{job_run_id}.log"
        log = log_path.open("ab")
        env = {**os.environ, "NO_COLOR": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "eltkit.cli", "job-run", "--project", str(self.root),
             *self.project_args, "--trigger", self.trigger, job_run_id],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=self.root,
        )
        return LaunchedRun(job_run_id, job, process, log_path, log)
