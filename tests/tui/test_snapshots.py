"""SVG snapshots of every screen at 80x24 and 120x40, from a frozen history.

The history has fixed run ids and times and the app a frozen clock, so the
snapshots are the same on every machine. Update them after a deliberate
change with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look
at the diff report.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from eltkit.tui.screens.dialogs import HelpScreen, MessageScreen
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
    FAILED_RUN,
    RUNNING_RUN,
    app_for,
    open_from_runs,
    wait_for,
    wait_loaded,
    wait_screen,
)

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
SnapCompare = Callable[..., bool]


async def on_runs(pilot: Pilot[Any]) -> None:
    await wait_loaded(pilot, RunsScreen)


async def on_failed_run(pilot: Pilot[Any]) -> None:
    await wait_loaded(pilot, RunsScreen)
    pilot.app.screen.query_one("#runs", VirtualTable).move_to(FAILED_RUN)
    await pilot.press("enter")
    await wait_loaded(pilot, RunScreen)


async def on_running_run(pilot: Pilot[Any]) -> None:
    await wait_loaded(pilot, RunsScreen)
    pilot.app.screen.query_one("#runs", VirtualTable).move_to(RUNNING_RUN)
    await pilot.press("enter")
    await wait_loaded(pilot, RunScreen)


async def on_failed_node(pilot: Pilot[Any]) -> None:
    await on_failed_run(pilot)
    await pilot.press("enter")
    await wait_loaded(pilot, NodeScreen)


async def on_model_sql(pilot: Pilot[Any]) -> None:
    await on_failed_run(pilot)
    pilot.app.screen.query_one("#nodes", VirtualTable).move_to("model.mini.c")
    await pilot.press("enter")
    await wait_loaded(pilot, NodeScreen)
    await pilot.press("2")


async def on_filtered_run(pilot: Pilot[Any]) -> None:
    await on_failed_run(pilot)
    await pilot.press("slash", *"+b", "enter")
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "filter_ids", None) is not None,
                   what="the filter")


async def on_help(pilot: Pilot[Any]) -> None:
    await wait_loaded(pilot, RunsScreen)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", [
    pytest.param(on_runs, id="runs"),
    pytest.param(on_failed_run, id="run-failed"),
    pytest.param(on_running_run, id="run-running"),
    pytest.param(on_failed_node, id="node"),
    pytest.param(on_model_sql, id="node-sql"),
    pytest.param(on_filtered_run, id="run-filtered"),
    pytest.param(on_help, id="help"),
])
def test_screen(fixed_project: Path, snap_compare: SnapCompare, size: tuple[int, int],
                screen: Callable[[Pilot[Any]], Any]) -> None:
    assert snap_compare(app_for(fixed_project, frozen=True), terminal_size=size,
                        run_before=screen)


def test_empty_state(mini_project: Path, snap_compare: SnapCompare) -> None:
    assert snap_compare(app_for(mini_project, frozen=True), run_before=on_runs)


def test_foreign_history_message(mini_project: Path, snap_compare: SnapCompare) -> None:
    history = mini_project / ".eltkit" / "history.db"
    history.parent.mkdir()
    with sqlite3.connect(history) as db:
        db.execute("CREATE TABLE mine (x)")
    app = app_for(mini_project, frozen=True)

    async def on_message(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MessageScreen),
                       what="message")

    # The message names the file: show it relative to the project for a stable image.
    app.history.path = Path(".eltkit/history.db")
    import os

    previous = Path.cwd()
    os.chdir(mini_project)
    try:
        assert snap_compare(app, run_before=on_message)
    finally:
        os.chdir(previous)


def test_run_screen_at_40x12(fixed_project: Path, snap_compare: SnapCompare) -> None:
    assert snap_compare(app_for(fixed_project, frozen=True), terminal_size=(40, 12),
                        run_before=on_failed_run)


# -- freshness and lineage, on the sample after a real build, with a frozen history ------


async def on_freshness(pilot: Pilot[Any]) -> None:
    await open_from_runs(pilot, "f", FreshnessScreen)


async def on_lineage_nodes(pilot: Pilot[Any]) -> None:
    await open_from_runs(pilot, "enter", RunScreen)
    pilot.app.screen.query_one("#nodes", VirtualTable).move_to("model.jaffle.int_orders_enriched")
    await pilot.press("l")
    await wait_loaded(pilot, LineageScreen)


async def on_lineage_columns(pilot: Pilot[Any]) -> None:
    await on_lineage_nodes(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LineageScreen)
    await wait_for(pilot, lambda: screen.columns is not None, 30, "the column lineage")
    await pilot.press("2")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", [
    pytest.param(on_freshness, id="freshness"),
    pytest.param(on_lineage_nodes, id="lineage-nodes"),
    pytest.param(on_lineage_columns, id="lineage-columns"),
])
def test_sample_screen(fixed_sample: Path, snap_compare: SnapCompare, size: tuple[int, int],
                       screen: Callable[[Pilot[Any]], Any]) -> None:
    assert snap_compare(app_for(fixed_sample, frozen=True), terminal_size=size,
                        run_before=screen)


# -- jobs and SLAs, on the frozen sample with frozen job runs and SLAs in every state ------


async def on_jobs(pilot: Pilot[Any]) -> None:
    await open_from_runs(pilot, "J", JobsScreen)
    pilot.app.screen.query_one("#jobs", VirtualTable).move_to("landing_files")
    await pilot.pause()


async def on_job_runs(pilot: Pilot[Any]) -> None:
    await on_jobs(pilot)
    await pilot.press("enter")
    screen = await wait_screen(pilot, JobRunsScreen)
    await wait_for(pilot, lambda: screen.steps_of is not None, what="the step runs")


async def on_slas(pilot: Pilot[Any]) -> None:
    await open_from_runs(pilot, "S", SlaScreen)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", [
    pytest.param(on_jobs, id="jobs"),
    pytest.param(on_job_runs, id="job-runs"),
    pytest.param(on_slas, id="slas"),
])
def test_jobs_and_sla_screen(fixed_jobs_sample: Path, snap_compare: SnapCompare,
                             size: tuple[int, int], screen: Callable[[Pilot[Any]], Any]) -> None:
    assert snap_compare(app_for(fixed_jobs_sample, frozen=True), terminal_size=size,
                        run_before=screen)
