"""What the TUI shows when things go wrong: no history, a bad file, a dead run, a tiny terminal."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from eltkit.state.schema import APPLICATION_ID
from eltkit.state.store import HistoryStore
from eltkit.tui.screens.dialogs import MessageScreen
from eltkit.tui.screens.node import NodeScreen
from eltkit.tui.screens.run import RunScreen
from eltkit.tui.screens.runs import RunsScreen
from eltkit.tui.widgets.virtual_table import VirtualTable
from tests.conftest import run_cli
from tests.tui.helpers import app_for, screen_text, wait_for, wait_loaded

pytestmark = pytest.mark.anyio


async def test_no_history_yet_says_what_to_do_then_shows_the_first_run(
        mini_project: Path) -> None:
    history = mini_project / ".eltkit" / "history.db"
    assert not history.exists()
    app = app_for(mini_project)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        assert "no runs yet: start one with `eltkit run`" in screen_text(app)
        assert not history.exists()  # looking does not create the file
        store = HistoryStore(history)
        run_id = store.create_run(command="run", selection={}, trigger="cli",
                                  project_dir=mini_project, target="dev", threads=1, vars={},
                                  nodes=[("model.mini.a", "a", "model")])
        table = app.screen.query_one("#runs", VirtualTable)
        await wait_for(pilot, lambda: table.keys == [run_id], 3, "the first run")
        assert "no runs yet" not in screen_text(app)
        store.close()


async def test_a_foreign_sqlite_file_gets_a_clear_message_not_a_traceback(
        mini_project: Path) -> None:
    history = mini_project / ".eltkit" / "history.db"
    history.parent.mkdir()
    with sqlite3.connect(history) as db:
        db.execute("CREATE TABLE mine (x)")
    app = app_for(mini_project)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MessageScreen), what="message")
        text = screen_text(app)
        assert "The run history cannot be read" in text
        assert "not an eltkit run history" in text.replace("\n", " ")
        assert "Quit" in text
    with sqlite3.connect(history) as db:  # untouched
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("mine",)]


async def test_a_history_from_a_newer_eltkit_says_upgrade(mini_project: Path) -> None:
    history = mini_project / ".eltkit" / "history.db"
    HistoryStore(history).close()
    with sqlite3.connect(history) as db:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 99")
    app = app_for(mini_project)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MessageScreen), what="message")
        text = " ".join(screen_text(app).split())
        assert "written by a newer eltkit" in text and "upgrade eltkit" in text


async def test_a_locked_history_says_so_and_recovers_when_released(
        mini_project: Path) -> None:
    history = mini_project / ".eltkit" / "history.db"
    HistoryStore(history).close()
    holder = sqlite3.connect(history, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        app = app_for(mini_project)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, MessageScreen), 10, "message")
            text = " ".join(screen_text(app).split())
            assert "locked by another program" in text and "tries again" in text
            holder.execute("COMMIT")
            holder.close()
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), 10, "recovery")
            await wait_for(pilot, lambda: "no runs yet" in screen_text(app), 5, "empty state")
    finally:
        holder.close()


async def test_a_damaged_file_gets_a_message_and_recovers_when_replaced(
        mini_project: Path) -> None:
    history = mini_project / ".eltkit" / "history.db"
    history.parent.mkdir()
    history.write_bytes(b"this is not a database at all" * 200)
    app = app_for(mini_project)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MessageScreen), what="message")
        assert "damaged" in " ".join(screen_text(app).split())
        history.unlink()  # the user moves it aside, as the message says
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), 5, "recovery")
        await wait_for(pilot, lambda: "no runs yet" in screen_text(app), 3, "empty state")


async def test_a_run_whose_process_died_shows_as_interrupted(mini_project: Path) -> None:
    history = mini_project / ".eltkit" / "history.db"
    store = HistoryStore(history)
    run_id = store.create_run(command="build", selection={}, trigger="cli",
                              project_dir=mini_project, target="dev", threads=1, vars={},
                              nodes=[("model.mini.a", "a", "model")])
    store.node_started(run_id, "model.mini.a", 1)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store._write("UPDATE runs SET pid = ? WHERE id = ?", (dead.pid, run_id))
    store.close()
    app = app_for(mini_project)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: "↯ interrupted" in screen_text(app), 5, "interrupted")
        await pilot.press("enter")
        await wait_loaded(pilot, RunScreen)
        text = screen_text(app)
        assert "↯ interrupted  build" in text
        assert "stopped without finishing" in text
        assert "↯ interrupted  a" in text
    assert HistoryStore(history, readonly=True).run(run_id).status == "interrupted"
    assert os.path.exists(history)


async def test_resizing_to_40x12_keeps_every_screen_working(tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert "✗ failed" in screen_text(app)
        await pilot.press("enter")
        await wait_loaded(pilot, RunScreen)
        await pilot.pause()
        assert "failed" in screen_text(app)
        await pilot.press("enter")
        await wait_loaded(pilot, NodeScreen)
        for key in ("2", "3", "4", "1", "question_mark", "escape"):
            await pilot.press(key)
            await pilot.pause()
        assert "load_t2" in screen_text(app)
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert "RuntimeError: flaky API" in screen_text(app)
        await pilot.resize_terminal(40, 12)
        await pilot.press("escape", "slash", *"+c", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen)
                       and app.screen.filter_ids is not None, what="filter at 40x12")
        assert len(app.screen.query_one("#nodes", VirtualTable).keys) == 8


async def test_no_color_renders_in_monochrome(tui_project: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(tui_project)
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        filtered = app.screen._compositor.render_strips()
        for line_filter in app.get_line_filters():
            filtered = [strip.apply_filter(line_filter, app.styles.background)
                        for strip in filtered]
        colours = {segment.style.color.triplet for strip in filtered for segment in strip
                   if segment.style and segment.style.color and segment.style.color.triplet}
        assert all(r == g == b for r, g, b in colours), colours  # greys only
        assert "✗ failed" in screen_text(app)  # glyphs carry the status without colour


def test_eltkit_tui_outside_a_project_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("tui", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "--project" in result.stderr
    assert "Traceback" not in result.stderr
    helped = run_cli("tui", "--help", cwd=tmp_path)
    assert "Watch runs live" in helped.stdout
