"""The freshness screen against the sample after a real `eltkit build`, and real checks."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eltkit.project import load_project
from eltkit.schedule.freshness import FreshnessResult, rules
from eltkit.state.store import HistoryStore
from eltkit.tui.app import Settings, make_app
from eltkit.tui.data import history_file
from eltkit.tui.data_freshness import NEVER_CHECKED, SourceFreshness
from eltkit.tui.screens.freshness import FreshnessScreen
from eltkit.tui.screens.runs import RunsScreen
from tests.tui.helpers import (
    app_for,
    notices,
    open_from_runs,
    screen_text,
    table,
    wait_for,
)

pytestmark = pytest.mark.anyio

SOURCES = ["source.jaffle.jaffle.raw_customers", "source.jaffle.jaffle.raw_orders",
           "source.jaffle.jaffle.raw_payments"]


async def test_f_opens_every_source_with_rules_and_f_again_checks_them_now(
        built_sample: Path) -> None:
    app = app_for(built_sample)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_from_runs(pilot, "f", FreshnessScreen)
        assert screen.data is not None
        # The build's freshness gate checked every source with rules: all fresh.
        assert sorted(table(app, "sources").keys) == SOURCES
        built_check = screen.data.last_checked_at
        assert built_check is not None
        text = screen_text(app)
        assert "3 sources with freshness rules  ✓ 3 pass" in text
        assert "✓ pass  jaffle.raw_orders" in text and "12h" in text and "24h" in text
        assert "loaded_at_field _loaded_at" in text
        # f runs `eltkit freshness` as its own process; its results show up live.
        await pilot.press("f")
        await wait_for(pilot, lambda: "started `eltkit freshness`" in notices(app),
                       what="the started notice")
        assert "checking now: eltkit freshness (pid" in screen_text(app)
        await wait_for(pilot, lambda: screen.data is not None
                       and (screen.data.last_checked_at or 0) > built_check, 120,
                       "the new check's results")
        await wait_for(pilot, lambda: screen.checking is None, 60, "the check to end")
        text = screen_text(app)
        assert "3 sources with freshness rules  ✓ 3 pass" in text
        assert "checking now" not in text
        assert "failed" not in notices(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen")
    store = HistoryStore(history_file(load_project(built_sample, parse=False)), readonly=True)
    try:
        latest = store.latest_freshness()
        assert {row["unique_id"]: row["status"] for row in latest} == {
            uid: "pass" for uid in SOURCES}
        assert all(row["checked_at"] > built_check and row["run_id"] is None
                   for row in latest)  # recorded by `eltkit freshness`, not by a run
    finally:
        store.close()
    assert "$ eltkit freshness" in (built_sample / ".eltkit" / "tui-launch.log").read_text()


async def test_a_source_never_checked_says_so(built_sample: Path) -> None:
    history = history_file(load_project(built_sample, parse=False))
    with sqlite3.connect(history) as db:  # a history from before any check
        db.execute("DELETE FROM freshness_checks")
    db.close()
    app = app_for(built_sample)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_from_runs(pilot, "f", FreshnessScreen)
        assert sorted(table(app, "sources").keys) == SOURCES
        text = screen_text(app)
        assert "3 sources with freshness rules  ○ 3 never checked" in text
        assert "○ never checked  jaffle.raw_orders" in text
        assert "never checked: press f to check it now" in text


async def test_checks_written_elsewhere_show_live_with_status_age_and_message(
        built_sample: Path) -> None:
    project = load_project(built_sample, parse=False)
    by_id = {rule.unique_id: rule for rule in rules(project.graph)}
    app = app_for(built_sample)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_from_runs(pilot, "f", FreshnessScreen)
        now = datetime.now(tz=UTC)
        empty_table = datetime(1, 1, 1, tzinfo=UTC)  # what a check of an empty table saw
        writer = HistoryStore(history_file(project))
        try:
            writer.record_freshness([
                FreshnessResult(by_id[SOURCES[0]], "error", empty_table, now,
                                (now - empty_table).total_seconds()),
                FreshnessResult(by_id[SOURCES[1]], "warn", now - timedelta(hours=13), now,
                                13 * 3600.0),
                FreshnessResult(by_id[SOURCES[2]], "runtime error", None, None, None,
                                "CatalogException: Table raw_payments does not exist"),
            ])
        finally:
            writer.close()
        await wait_for(pilot, lambda: screen.data is not None
                       and screen.data.counts.get("warn") == 1, 5, "the new checks")
        # Most urgent first: error, runtime error, warn.
        assert table(app, "sources").keys == [SOURCES[0], SOURCES[2], SOURCES[1]]
        text = screen_text(app)
        assert "✗ 1 error  ✗ 1 runtime error  ! 1 warn" in text
        rows = {name: line for line in text.splitlines()
                for name in ("raw_customers", "raw_orders", "raw_payments")
                if f"jaffle.{name} " in line and "│" not in line}
        assert "✗ error" in rows["raw_customers"] and "never loaded" in rows["raw_customers"]
        assert "! warn" in rows["raw_orders"] and " 13h " in rows["raw_orders"]
        assert "CatalogException: Table raw_payments" in rows["raw_payments"]
        assert "the table is empty" in text  # the highlighted source in full
        table(app, "sources").move_to(SOURCES[1])
        await pilot.pause()
        detail = screen_text(app)
        assert "! jaffle.raw_orders: newest row " in detail
        assert "13h old at the check" in detail
        assert "loaded_at_field _loaded_at" in detail


async def test_a_failing_check_is_reported_in_one_line(built_sample: Path) -> None:
    """`eltkit freshness` that cannot run (an unknown target) says why, and the list stays."""
    project = load_project(built_sample, parse=False)
    app = make_app(project, history_file(project), settings=Settings(poll_seconds=0.2),
                   launch_options=["--target", "nosuch"])
    async with app.run_test(size=(120, 30)) as pilot:
        await open_from_runs(pilot, "f", FreshnessScreen)
        await pilot.press("f")
        await wait_for(pilot, lambda: "eltkit freshness failed" in notices(app), 60,
                       "the failure notice")
        assert "nosuch" in notices(app)
        assert app.screen.checking is None  # type: ignore[attr-defined]
        assert len(table(app, "sources").keys) == 3


async def test_without_a_project_the_check_key_says_what_is_needed(built_sample: Path) -> None:
    history = history_file(load_project(built_sample, parse=False))
    app = make_app(None, history, settings=Settings(poll_seconds=0.2))
    async with app.run_test(size=(100, 24)) as pilot:
        await open_from_runs(pilot, "f", FreshnessScreen)
        assert "no project: the DAG is not available" in screen_text(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: "checks need a project" in notices(app), what="notice")


async def test_a_project_without_rules_says_how_to_add_them(tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_from_runs(pilot, "f", FreshnessScreen)
        assert "no source declares freshness: add `freshness:`" in screen_text(app)
        assert not table(app, "sources").display


def test_age_now_grows_from_the_newest_row_and_status_now_follows_the_thresholds() -> None:
    checked = time.time() - 600
    source = SourceFreshness("source.p.s.t", "s.t", "pass", 12 * 3600.0, 24 * 3600.0,
                             checked_at=checked, newest_at=checked - 11.9 * 3600,
                             age_at_check_s=11.9 * 3600)
    assert source.status_now(checked) == "pass"
    assert source.age_now(checked + 3600) == pytest.approx(12.9 * 3600)
    assert source.status_now(checked + 3600) == "warn"
    assert source.status_now(checked + 13 * 3600) == "error"
    never = SourceFreshness("source.p.s.u", "s.u", NEVER_CHECKED, None, 60.0)
    assert never.age_now(checked) is None and never.status_now(checked) is None
