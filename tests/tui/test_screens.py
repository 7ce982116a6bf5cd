"""Pilot tests of each screen against a history written by real `eltkit build` runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import Sparkline, TabbedContent

from eltkit.project import load_project
from eltkit.run.runner import history_path
from eltkit.state.store import HistoryStore
from eltkit.tui.screens.dialogs import HelpScreen
from eltkit.tui.screens.freshness import FreshnessScreen
from eltkit.tui.screens.job_runs import JobRunsScreen
from eltkit.tui.screens.jobs import JobsScreen
from eltkit.tui.screens.lineage import LineageScreen
from eltkit.tui.screens.node import NodeScreen
from eltkit.tui.screens.run import RunScreen
from eltkit.tui.screens.runs import RunsScreen
from eltkit.tui.screens.slas import SlaScreen
from eltkit.tui.widgets.virtual_table import VirtualTable
from tests.tui.helpers import (
    app_for,
    open_from_runs,
    screen_text,
    wait_for,
    wait_loaded,
    wait_screen,
)

pytestmark = pytest.mark.anyio


def recorded_runs(project: Path) -> list[tuple[str, str]]:
    store = HistoryStore(project / ".eltkit" / "history.db", readonly=True)
    try:
        return [(run.id, run.status) for run in store.runs()]
    finally:
        store.close()


async def test_runs_screen_lists_real_runs_latest_first_and_selected(
        tui_project: Path) -> None:
    runs = recorded_runs(tui_project)
    assert [status for _, status in runs] == ["failed", "success"]
    app = app_for(tui_project)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        table = app.screen.query_one("#runs", VirtualTable)
        assert table.keys == [run_id for run_id, _ in runs]
        assert table.cursor_key == runs[0][0]  # the latest run is selected
        text = screen_text(app)
        assert "✗ failed" in text and "✓ success" in text
        assert "9/9" in text and "build" in text and "everything" in text
        assert "Start run" in text and "Help" in text  # the footer lists the keys


async def test_enter_opens_the_run_in_dag_order_with_the_failure_in_view(
        tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_runs(pilot, "enter", RunScreen)
        table = screen.query_one("#nodes", VirtualTable)
        keys = table.keys
        # DAG order: every node after its parents.
        graph = load_project(tui_project, parse=False).graph
        for uid in keys:
            for parent in graph.parents[uid]:
                if parent in keys:
                    assert keys.index(parent) < keys.index(uid), (parent, uid)
        # The cursor starts on the failure, and its error is on screen.
        assert table.cursor_key == "task.load_t2"
        text = screen_text(app)
        assert "✗ task load_t2: RuntimeError: flaky API" in text
        assert "✓ 5 success  ✗ 1 error  - 3 skipped" in text
        assert "failed  build everything" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen")


async def test_filter_by_a_dbt_selector_and_clear_it(tui_project: Path) -> None:
    expected = set(load_project(tui_project, parse=False).select(["+c"]).selected)
    app = app_for(tui_project)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_runs(pilot, "enter", RunScreen)
        table = screen.query_one("#nodes", VirtualTable)
        everything = set(table.keys)
        await pilot.press("slash", *"+c", "enter")
        await wait_for(pilot, lambda: screen.filter_ids is not None, what="the filter")
        await pilot.pause()
        assert set(table.keys) == expected & everything
        assert "export_c" not in {key.split(".")[-1] for key in table.keys}
        assert f"filter: +c ({len(expected & everything)} of 9 nodes)" in screen_text(app)
        # A selector with an error is reported and leaves the filter as it was.
        await pilot.press("slash", "ctrl+a", *"tag:", "enter")
        await wait_for(pilot, lambda: "tag:" in " ".join(
            str(n.message) for n in app._notifications), what="the error notification")
        assert set(table.keys) == expected & everything
        await pilot.press("escape", "escape")  # close the input, then clear the filter
        await wait_for(pilot, lambda: screen.filter_ids is None, what="the filter cleared")
        assert set(table.keys) == everything


async def test_next_failure_jumps_to_the_failed_node(tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_runs(pilot, "enter", RunScreen)
        table = screen.query_one("#nodes", VirtualTable)
        table.move_cursor(row=len(table.keys) - 1)
        await pilot.pause()
        assert table.cursor_key != "task.load_t2"
        await pilot.press("n")
        assert table.cursor_key == "task.load_t2"
        table.move_cursor(row=0)
        await pilot.press("p")
        assert table.cursor_key == "task.load_t2"


async def test_open_a_node_shows_sql_compiled_sql_logs_history_and_relatives(
        tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_from_runs(pilot, ("down", "enter"), RunScreen)  # the successful run
        screen.query_one("#nodes", VirtualTable).move_to("model.mini.c")
        await pilot.press("enter")
        await wait_loaded(pilot, NodeScreen)
        text = screen_text(app)
        assert "✓ success  model c" in text
        assert "file       models/sub/c.sql" in text
        assert "upstream (2)" in text and "model b" in text and "source src.t2" in text
        assert "downstream (1)" in text and "task export_c" in text
        assert "tests (1)" in text and "✓ success     test relationships_c_id__id__ref_a_" in text
        assert app.screen.query_one("#history", Sparkline).data  # durations of past runs
        await pilot.press("2")
        assert "ref('b')" in screen_text(app)
        await pilot.press("3")
        compiled = screen_text(app)
        assert "target/compiled/mini/models/sub/c.sql" in compiled and '"b"' in compiled
        assert app.screen.query_one("#node-tabs", TabbedContent).active == "compiled"
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen")


async def test_node_logs_show_what_the_task_logged(tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_from_runs(pilot, ("down", "enter"), RunScreen)
        screen.query_one("#nodes", VirtualTable).move_to("task.export_c")
        await pilot.press("enter")
        await wait_loaded(pilot, NodeScreen)
        await pilot.press("4")
        assert "exported 3 rows of c" in screen_text(app)
        await pilot.press("2")
        assert "def export_c" in screen_text(app) or "tasks.py" in screen_text(app)


async def test_help_lists_every_key_of_every_screen(tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(120, 120)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = screen_text(app)
        for screen_type in (RunsScreen, RunScreen, NodeScreen, LineageScreen, FreshnessScreen,
                            JobsScreen, JobRunsScreen, SlaScreen):
            for binding in screen_type.BINDINGS:
                assert isinstance(binding, Binding)
                assert (binding.tooltip or binding.description) in text, binding
        for words in ("Filter the nodes by a dbt selector", "Jump to the next failed node",
                      "Retry failed nodes", "Cancel the run: SIGINT", "Start a run", "Compiled",
                      "Logs", "Quit", "Freshness of sources", "Lineage of the node",
                      "Check now: run `eltkit freshness`",
                      "Lineage: upstream, downstream, columns",
                      "Jobs (J on the runs)", "SLAs (S on the runs)",
                      "Run the job now with `eltkit trigger`"):
            assert words in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen")


async def test_a_change_written_by_another_process_shows_within_a_second(
        tui_project: Path) -> None:
    app = app_for(tui_project, poll_seconds=0.5)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        writer = HistoryStore(history_path(load_project(tui_project, parse=False)))
        try:
            run_id = writer.create_run(
                command="run", selection={"select": ["a"]}, trigger="schedule",
                project_dir=tui_project, target="dev", threads=1, vars={},
                nodes=[("model.mini.a", "a", "model")], job="hourly")
            table = app.screen.query_one("#runs", VirtualTable)
            took = await wait_for(pilot, lambda: run_id in table.keys, 2.0, "the new run")
            assert took < 1.0
            assert table.cursor_key == run_id  # the latest stays selected
            assert "schedule:hourly" in screen_text(app)
            await pilot.press("enter")
            screen = await wait_screen(pilot, RunScreen)
            writer.node_started(run_id, "model.mini.a", 1)
            took = await wait_for(pilot, lambda: "▶ running" in screen_text(app), 2.0,
                                  "node a running")
            assert took < 1.0
            writer.node_finished(run_id, "model.mini.a", "success", duration_s=0.5)
            writer.finish_run(run_id, "success", "1 success")
            took = await wait_for(pilot, lambda: screen.data is not None
                                  and screen.data.run.status == "success", 2.0, "success")
            assert took < 1.0
            assert "✓ success  run --select a" in screen_text(app)
        finally:
            writer.close()


def test_history_json_still_reads_what_the_tui_shows(tui_project: Path) -> None:
    """The TUI's store additions leave the CLI's reading of the same file unchanged."""
    from tests.conftest import run_cli

    result = run_cli("history", "--json", cwd=tui_project)
    assert result.returncode == 0, result.stderr
    assert [run["status"] for run in json.loads(result.stdout)] == ["failed", "success"]
