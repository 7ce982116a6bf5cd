"""The lineage screen: opened from a run and from a node, against real builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltkit.project import load_project
from eltkit.state.store import HistoryStore
from eltkit.tui.data import history_file
from eltkit.tui.screens.freshness import FreshnessScreen
from eltkit.tui.screens.lineage import LineageScreen
from eltkit.tui.screens.node import NodeScreen
from eltkit.tui.screens.run import RunScreen
from eltkit.tui.widgets.virtual_table import VirtualTable
from tests.tui.helpers import (
    app_for,
    flat,
    open_from_runs,
    screen_text,
    squeezed,
    table,
    wait_for,
    wait_loaded,
    wait_screen,
)

pytestmark = pytest.mark.anyio


async def open_lineage(pilot, unique_id: str) -> LineageScreen:  # type: ignore[no-untyped-def]
    """Runs -> the latest run -> highlight ``unique_id`` -> l."""
    await open_from_runs(pilot, "enter", RunScreen)
    assert pilot.app.screen.query_one("#nodes", VirtualTable).move_to(unique_id)
    await pilot.press("l")
    screen = await wait_screen(pilot, LineageScreen)
    assert screen.unique_id == unique_id
    return screen


async def columns_of(pilot, screen: LineageScreen) -> str:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: screen.columns is not None or screen.columns_error is not None,
                   30, "the column lineage")
    await pilot.press("2")
    await pilot.pause()
    return screen_text(pilot.app)


async def test_l_on_a_run_shows_upstream_and_downstream_across_tasks_and_dbt(
        built_sample: Path) -> None:
    app = app_for(built_sample)
    async with app.run_test(size=(120, 34)) as pilot:
        screen = await open_lineage(pilot, "model.jaffle.fct_orders")
        rows = table(app, "lineage-nodes")
        # Data flows down the list: the farthest upstream first, the node, then downstream.
        assert rows.keys == ["task.extract_orders", "source.jaffle.jaffle.raw_orders",
                             "model.jaffle.stg_orders", "model.jaffle.fct_orders",
                             "exposure.jaffle.marketing_dashboard"]
        assert rows.cursor_key == "model.jaffle.fct_orders"
        assert "lineage of model fct_orders  3 upstream, 1 downstream" in screen_text(app)
        lines = squeezed(app).splitlines()
        for line in ("↑3 extract_orders task ✓ success", "↑2 jaffle.raw_orders source",
                     "↑1 stg_orders model ✓ success", "● fct_orders model ✓ success",
                     "↓1 marketing_dashboard exposure"):
            assert line in lines, line
        # Enter on a relative shows its lineage; Esc comes back.
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen)
                       and app.screen.unique_id == "model.jaffle.stg_orders"
                       and app.screen.loads > 0, what="stg_orders' lineage")
        graph = load_project(built_sample, parse=False).graph
        below = [u for u in graph.downstream_of(["model.jaffle.stg_orders"])
                 if not graph.nodes[u].is_test]
        assert len(below) > 5 and "model.jaffle.fct_orders" in below
        assert f"lineage of model stg_orders  2 upstream, {len(below)} downstream" in \
            screen_text(app)
        assert set(table(app, "lineage-nodes").keys) == {"task.extract_orders",
                                               "source.jaffle.jaffle.raw_orders",
                                               "model.jaffle.stg_orders", *below}
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="fct_orders' lineage")
        # Columns: each traced through staging to the source column it starts from.
        text = await columns_of(pilot, screen)
        assert "3 columns, derived with sqlglot (duckdb)" in text
        lines = [line.strip() for line in text.splitlines()]
        amount = lines.index("amount")
        assert lines[amount + 1] == "└── stg_orders.amount_cents"
        assert lines[amount + 2] == "└── jaffle.raw_orders.amount_cents  ◆ source"
        assert "└── jaffle.raw_orders.id  ◆ source" in lines
        await pilot.press("1", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="the run")


async def test_l_on_a_node_and_what_has_no_column_lineage(tui_project: Path) -> None:
    """The mini project: models read `select *` of sources that declare no columns."""
    app = app_for(tui_project)
    async with app.run_test(size=(110, 30)) as pilot:
        # The failed run: load_t2 failed, c was skipped.
        await open_from_runs(pilot, "enter", RunScreen)
        app.screen.query_one("#nodes", VirtualTable).move_to("model.mini.c")
        await pilot.press("enter")
        await wait_loaded(pilot, NodeScreen)
        await pilot.press("l")
        screen = await wait_screen(pilot, LineageScreen)
        distances = {row.unique_id: row.distance for row in screen.data.rows}  # type: ignore
        assert distances == {"task.load_t1": -4, "source.mini.src.t1": -3, "model.mini.a": -2,
                             "task.load_t2": -2, "source.mini.src.t2": -1, "model.mini.b": -1,
                             "model.mini.c": 0, "task.export_c": 1}
        lines = squeezed(app).splitlines()
        assert "↑2 load_t2 task ✗ error" in lines
        assert "↑1 src.t2 source" in lines  # a source is not run: no status
        assert "● c model - skipped" in lines
        assert "↓1 export_c task - skipped" in lines
        columns = await columns_of(pilot, screen)
        # c is `select * from b join src.t2`: t2 declares no columns, so sqlglot cannot
        # expand the star; the screen says so and what to do.
        assert "`select *` could not be expanded: declare the columns" in columns
        assert "├── b.*  `*`: sqlglot cannot tell which of its columns" in columns
        assert "└── src.t2.*  ◆ source" in columns
        await pilot.press("1")
        table(app, "lineage-nodes").move_to("task.export_c")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen)
                       and app.screen.unique_id == "task.export_c", what="export_c's lineage")
        task_text = await columns_of(pilot, app.screen)  # type: ignore[arg-type]
        assert "no column lineage: column lineage is derived for SQL models; task export_c " \
               "is a task" in task_text
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, NodeScreen), what="the node")


async def test_statuses_on_the_lineage_screen_are_live(tui_project: Path) -> None:
    project = load_project(tui_project, parse=False)
    writer = HistoryStore(history_file(project))
    try:
        run_id = writer.create_run(
            command="run", selection={"select": ["+c"]}, trigger="cli", project_dir=tui_project,
            target="dev", threads=1, vars={},
            nodes=[("model.mini.a", "a", "model"), ("model.mini.b", "b", "model"),
                   ("model.mini.c", "c", "model")])
        app = app_for(tui_project)
        async with app.run_test(size=(110, 30)) as pilot:
            screen = await open_lineage(pilot, "model.mini.b")
            assert screen.run_id == run_id
            assert "↑1  a" in screen_text(app) and "· pending" in screen_text(app)
            writer.node_started(run_id, "model.mini.a", 1)
            await wait_for(pilot, lambda: "▶ running" in screen_text(app), 5, "a running")
            writer.node_finished(run_id, "model.mini.a", "success", duration_s=0.1)
            await wait_for(pilot, lambda: "✓ success" in screen_text(app), 5, "a done")
    finally:
        writer.close()


async def test_freshness_and_lineage_stay_usable_at_40x12(fixed_sample: Path) -> None:
    app = app_for(fixed_sample, frozen=True)
    async with app.run_test(size=(40, 12)) as pilot:
        await open_from_runs(pilot, "f", FreshnessScreen)
        assert "! warn" in screen_text(app)  # the most urgent source stays in view
        await pilot.press("down", "down", "up", "escape", "enter")
        await wait_loaded(pilot, RunScreen)
        app.screen.query_one("#nodes", VirtualTable).move_to("model.jaffle.fct_orders")
        await pilot.press("l")
        screen = await wait_screen(pilot, LineageScreen)
        assert "● fct_orders" in flat(app)
        text = await columns_of(pilot, screen)
        assert "order_id" in text
        await pilot.press("down", "down", "1", "up", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), what="the run")
