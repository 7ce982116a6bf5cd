"""Actions from the TUI start real `eltkit` processes: start, retry, cancel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eltkit.state.store import HistoryStore
from eltkit.tui.screens.dialogs import ConfirmScreen, StartScreen
from eltkit.tui.screens.run import RunScreen
from eltkit.tui.screens.runs import RunsScreen
from tests.tui.helpers import (
    app_for,
    notices,
    open_from_runs,
    screen_text,
    table,
    wait_for,
    wait_loaded,
)

pytestmark = pytest.mark.anyio


def store_of(project: Path) -> HistoryStore:
    return HistoryStore(project / ".eltkit" / "history.db", readonly=True)


async def test_retry_confirms_then_runs_eltkit_retry_in_its_own_process(
        tui_project: Path) -> None:
    store = store_of(tui_project)
    failed = store.runs()[0]
    assert failed.status == "failed"
    app = app_for(tui_project)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_from_runs(pilot, "enter", RunScreen)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "Retry what failed or never finished" in screen_text(app)
        assert failed.id in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("n")  # no: nothing starts
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="run screen")
        await pilot.pause(0.3)
        assert len(store.runs()) == 2
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: "tui-launch.log" in notices(app),
                       what="the started notice")
        await pilot.press("escape")  # back to the runs: the retry shows up there, live
        await wait_loaded(pilot, RunsScreen)

        def retry_finished() -> bool:
            runs = store.runs()
            return len(runs) == 3 and runs[0].status != "running"

        await wait_for(pilot, retry_finished, 120, "the retry to finish")
        retry = store.runs()[0]
        assert (retry.trigger, retry.retry_of, retry.status) == ("retry", failed.id, "success")
        assert {n.name for n in store.nodes(retry.id)} == {
            "load_t2", "c", "export_c", "relationships_c_id__id__ref_a_"}
        await wait_for(pilot, lambda: table(app, "runs").keys[:1] == [retry.id], 10, "retry row")
        assert f"retry of {failed.id}" in screen_text(app)
    store.close()
    assert "eltkit retry" in (tui_project / ".eltkit" / "tui-launch.log").read_text()


async def test_cancel_confirms_then_stops_a_running_run(tui_project: Path) -> None:
    env = {**os.environ, "MINI_SLEEP": "60", "NO_COLOR": "1"}
    process = subprocess.Popen([sys.executable, "-m", "eltkit.cli", "run"], cwd=tui_project,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = store_of(tui_project)
    try:
        app = app_for(tui_project)
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_loaded(pilot, RunsScreen)

            def load_t2_running() -> bool:
                runs = store.runs()
                return len(runs) == 3 and any(
                    n.name == "load_t2" and n.status == "running" for n in store.nodes(runs[0].id))

            await wait_for(pilot, load_t2_running, 60, "load_t2 to run")
            running = store.runs()[0]
            await wait_for(pilot, lambda: table(app, "runs").cursor_key == running.id, 10,
                           "the running run selected")
            assert "▶ running" in screen_text(app)
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
            assert "Cancel run" in screen_text(app)
            assert isinstance(app.screen, ConfirmScreen)
            assert f"Cancel run {running.id} (pid {process.pid})" in app.screen.question
            await pilot.press("y")
            await wait_for(pilot, lambda: store.run(running.id).status != "running", 30,
                           "the run to stop")
            assert store.run(running.id).status == "cancelled"
            await wait_for(pilot, lambda: "⊘ cancelled" in screen_text(app), 10, "cancelled row")
        assert process.wait(timeout=30) != 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        store.close()


async def test_start_a_run_of_a_selection(tui_project: Path) -> None:
    store = store_of(tui_project)
    app = app_for(tui_project)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, StartScreen), what="start dialog")
        await pilot.press(*"run --select load_t1", "enter")
        started = time.monotonic()
        await wait_for(pilot, lambda: len(store.runs()) == 3
                       and store.runs()[0].status != "running", 120, "the run to finish")
        run = store.runs()[0]
        assert (run.command, run.selection["select"], run.status, run.trigger) == (
            "run", ["load_t1"], "success", "tui")
        assert [n.name for n in store.nodes(run.id)] == ["load_t1"]
        await wait_for(pilot, lambda: "--select load_t1" in screen_text(app), 10, "the new run")
        assert time.monotonic() - started < 60
    store.close()


async def test_retry_of_a_successful_run_says_there_is_nothing_to_retry(
        tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        await pilot.press("down", "r", "c")
        await pilot.pause(0.1)
        messages = notices(app)
        assert "nothing to retry" in messages and "is not running (success)" in messages
        assert isinstance(app.screen, RunsScreen)


def test_what_to_start_is_read_like_the_command_line(tmp_path: Path) -> None:
    from eltkit.errors import EltkitError
    from eltkit.tui.actions import Launcher, parse_start

    assert parse_start("+fct_orders tag:daily") == ["run", "--select", "+fct_orders",
                                                    "tag:daily"]
    assert parse_start("build -s marts --exclude x") == ["build", "-s", "marts", "--exclude",
                                                         "x"]
    assert parse_start("--select a") == ["run", "--select", "a"]
    assert parse_start("") == ["run"]
    with pytest.raises(EltkitError, match="cannot read"):
        parse_start("'unclosed")
    launcher = Launcher(tmp_path, tmp_path, ["--target", "prod"], python="py")
    assert launcher.command(["retry", "R1"]) == [
        "py", "-m", "eltkit.cli", "retry", "R1", "--project", str(tmp_path), "--target", "prod"]
