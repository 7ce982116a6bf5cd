"""End to end in a real terminal: `eltkit tui` in one tmux pane, `eltkit run` in another."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (.ci/run installs it)")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def wait_screen(pane: str, condition: Callable[[str], bool], timeout: float, what: str,
                seen: list[str]) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", pane)
        seen.append(screen)
        if condition(screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; the pane shows:\n{screen}")


def node_status(screen: str, name: str) -> str | None:
    """The status word of a node row (`✓ success  load_t2   task ...`) in a captured screen."""
    for line in screen.splitlines():
        words = line.split()
        if len(words) >= 3 and words[2] == name and words[0] in "✓✗▶·-⊘↯!":
            return words[1]
    return None


def test_tui_follows_a_run_started_in_another_pane(mini_project: Path) -> None:
    session = f"eltkit-tui-{uuid.uuid4().hex[:8]}"
    env = " ".join(f"{key}={shlex.quote(value)}" for key, value in {
        "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none",
        "PATH": os.environ.get("PATH", "")}.items())
    python = shlex.quote(sys.executable)
    tui = f"cd {shlex.quote(str(mini_project))} && env {env} {python} -m eltkit.cli tui"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "50", tui)
    seen: list[str] = []
    try:
        tmux("set-option", "-t", session, "remain-on-exit", "on")
        pane = f"{session}:0.0"
        wait_screen(pane, lambda s: "no runs yet: start one with `eltkit run`" in s, 20,
                    "the empty state", seen)
        # The run goes in a second pane; load_t2 sleeps so there is something to watch.
        run = (f"cd {shlex.quote(str(mini_project))} && env NO_COLOR=1 MINI_SLEEP=3 "
               f"{python} -m eltkit.cli run")
        tmux("split-window", "-t", pane, "-v", "-l", "8", run)
        wait_screen(pane, lambda s: "▶ running" in s and "run " in s, 60, "the running run",
                    seen)
        tmux("send-keys", "-t", pane, "Enter")  # the latest run is selected: open it
        wait_screen(pane, lambda s: node_status(s, "load_t2") == "running", 60,
                    "load_t2 running", seen)
        final = wait_screen(pane, lambda s: "✓ success  run everything" in s, 90,
                            "the final status", seen)
        assert node_status(final, "load_t2") == "success"
        assert node_status(final, "c") == "success"
        assert "6/6 done" in final and "✓ 6 success" in final  # 3 tasks, 3 models
        # Statuses changed on screen while the run went: c was pending, then ran.
        c_states = [node_status(screen, "c") for screen in seen]
        assert "pending" in c_states and c_states[-1] == "success"
        tmux("send-keys", "-t", pane, "q")
        wait_screen(pane, lambda s: "status" not in s or "Pane is dead" in s, 10,
                    "the TUI to quit", seen)
        assert "Traceback" not in tmux("capture-pane", "-p", "-t", pane, "-S", "-200")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
