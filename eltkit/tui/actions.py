"""What the TUI's actions do: start `eltkit` in its own process, or signal a run.

A run started from the TUI is a separate `eltkit` process in its own session
(``start_new_session``), so closing the TUI, or the SSH connection it runs
in, does not stop it; it records itself in the history like any other run.
Its output goes to ``tui-launch.log`` next to the history file.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eltkit.errors import EltkitError
from eltkit.state.store import RunRecord

RUN_COMMANDS = ("run", "build", "test")


@dataclass(frozen=True)
class Launched:
    argv: list[str]
    pid: int
    log: Path


class Launcher:
    """Starts `eltkit ...` detached from the TUI; reaps it when it ends."""

    def __init__(self, project_root: Path, log_dir: Path, options: list[str] | None = None,
                 python: str = sys.executable) -> None:
        self.project_root = project_root
        self.log_dir = log_dir
        self.options = options or []  # --target/--profiles-dir/--vars the TUI was given
        self.python = python

    def command(self, words: list[str], options_after: int | None = None) -> list[str]:
        """``eltkit WORDS --project ROOT ...``; with ``options_after``, the project options
        go after that many words (a group's options precede its subcommand)."""
        split = len(words) if options_after is None else options_after
        return [self.python, "-m", "eltkit.cli", *words[:split], "--project",
                str(self.project_root), *self.options, *words[split:]]

    def launch(self, words: list[str],
               on_exit: Callable[[int, str], None] | None = None, *,
               options_after: int | None = None) -> Launched:
        """Start ``eltkit WORDS``; ``on_exit(code, last log line)`` runs in a thread at its end."""
        argv = self.command(words, options_after)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / "tui-launch.log"
        with open(log, "ab") as out:
            out.write(f"\n$ eltkit {shlex.join(words)}\n".encode())
            out.flush()
            process = subprocess.Popen(
                argv, cwd=self.project_root, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "NO_COLOR": "1"},
            )
        # Reap it when it ends, so it never lingers as a zombie while the TUI is open.
        def reap() -> None:
            code = process.wait()
            if on_exit is not None:
                on_exit(code, last_line(log))

        threading.Thread(target=reap, name="eltkit-tui-reap", daemon=True).start()
        return Launched(argv, process.pid, log)

    def check_freshness(self, on_exit: Callable[[int, str], None] | None = None) -> Launched:
        """`eltkit freshness`: checks every source with rules and records the results."""
        return self.launch(["freshness"], on_exit)

    def trigger(self, job: str, on_exit: Callable[[int, str], None] | None = None) -> Launched:
        """`eltkit trigger JOB`: a job run now, recorded with the reason `manual`, its
        step runs with the trigger `tui`."""
        return self.launch(["trigger", job, "--trigger", "tui"], on_exit)

    def set_paused(self, job: str, paused: bool,
                   on_exit: Callable[[int, str], None] | None = None) -> Launched:
        """`eltkit jobs pause|resume JOB`: the job's paused flag in the history."""
        return self.launch(["jobs", "pause" if paused else "resume", job], on_exit,
                           options_after=1)

    def start(self, text: str) -> Launched:
        """Start a run; the history records it as started from the TUI."""
        return self.launch([*parse_start(text), "--trigger", "tui"])

    def retry(self, run: RunRecord) -> Launched:
        if run.status == "running":
            raise EltkitError(f"run {run.id} is still running; wait for it or cancel it (c)")
        return self.launch(["retry", run.id])


def last_line(log: Path, tail_bytes: int = 4096) -> str:
    """The last non-empty line of a launch log (an error's one-line message)."""
    try:
        with open(log, "rb") as file:
            file.seek(max(0, log.stat().st_size - tail_bytes))
            lines = file.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def parse_start(text: str) -> list[str]:
    """``build --select +fct_orders`` or just ``+fct_orders`` (a `run` of that selection)."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise EltkitError(f"cannot read {text!r}: {exc}") from exc
    if not words:
        return ["run"]
    if words[0] in RUN_COMMANDS:
        return words
    if words[0].startswith("-"):
        return ["run", *words]
    return ["run", "--select", *words]


def cancel(run: RunRecord) -> str:
    """SIGINT to the run's process: it cancels dbt's queries and records `cancelled`."""
    if run.status != "running":
        raise EltkitError(f"run {run.id} is not running ({run.status})")
    if run.host != socket.gethostname():
        raise EltkitError(f"run {run.id} runs on {run.host}; cancel it there")
    try:
        os.kill(run.pid, signal.SIGINT)
    except ProcessLookupError as exc:
        raise EltkitError(f"run {run.id}: its process {run.pid} is gone; it will show as "
                          "interrupted") from exc
    except PermissionError as exc:
        raise EltkitError(f"run {run.id}: not allowed to signal process {run.pid} "
                          f"(user {run.user})") from exc
    return f"sent SIGINT to run {run.id} (pid {run.pid}); it stops after in-flight queries"
