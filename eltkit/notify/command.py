"""Run a notification command with the event as JSON on stdin.

No shell: the command is split with shlex and run directly, so an event's
text can never be interpreted as shell syntax. It runs in the project root
(``./page-oncall.sh`` means the script beside eltkit.yml) in its own process
group, so a timeout kills the script and anything it started.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
from pathlib import Path

from eltkit.notify.config import CommandAction
from eltkit.notify.delivery import Delivery
from eltkit.notify.event import Event

_SHOWN_CHARS = 200


def run_command(action: CommandAction, event: Event, payload: bytes, *, cwd: Path) -> Delivery:
    """Run ``action.command`` in ``cwd``; exit 0 within the timeout means sent."""
    label = f"command {action.command}"
    try:
        argv = shlex.split(action.command)
    except ValueError as exc:
        return Delivery("command", "failed", 0, f"{label}: cannot split it ({exc})")
    if not argv:
        return Delivery("command", "failed", 0, f"{label}: the command is empty")
    env = {**os.environ, "ELTKIT_EVENT_SOURCE": event.source,
           "ELTKIT_EVENT_NAME": event.name, "ELTKIT_EVENT_KIND": event.kind}
    try:
        process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError:
        return Delivery("command", "failed", 0, f"{label}: {_not_found(argv[0], cwd)}")
    except PermissionError:
        return Delivery("command", "failed", 0,
                        f"{label}: {argv[0]} is not executable (chmod +x it)")
    except OSError as exc:
        return Delivery("command", "failed", 0, f"{label}: cannot start it ({exc.strerror})")

    try:
        _, stderr = process.communicate(payload, timeout=action.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        _, stderr = process.communicate()
        return Delivery("command", "failed", 1,
                        _with_last_line(f"{label}: timed out after {action.timeout:g}s", stderr))
    code = process.returncode
    if code != 0:
        ended = f"killed by signal {-code}" if code < 0 else f"exit {code}"
        return Delivery("command", "failed", 1, _with_last_line(f"{label}: {ended}", stderr))
    return Delivery("command", "sent", 1, f"{label}: exit 0")


def _not_found(program: str, cwd: Path) -> str:
    """Say where the program was looked for: a bare name on PATH, a path from the root."""
    if "/" not in program:
        return f"{program} not found on PATH"
    where = "" if Path(program).is_absolute() else f" (relative to {cwd})"
    return f"{program} not found{where}"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    # ProcessLookupError: it ended on its own between the timeout and the kill.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _with_last_line(message: str, stderr: bytes | None) -> str:
    """``message`` and the last non-blank line of stderr: usually the reason it failed."""
    lines = [line.strip() for line in (stderr or b"").decode(errors="replace").splitlines()]
    last = next((line for line in reversed(lines) if line), "")
    return f"{message}: {last[:_SHOWN_CHARS]}" if last else message
