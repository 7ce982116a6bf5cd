"""The SLA screen: live states from the real evaluation, re-evaluated as time and runs go."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from eltkit.project import load_project
from eltkit.sla.nodes import sla_nodes
from eltkit.state.slas import latest_evaluations
from eltkit.state.store import HistoryStore
from eltkit.tui.app import Settings, make_app
from eltkit.tui.data import Catalog, history_file
from eltkit.tui.data_slas import read_slas
from eltkit.tui.format import Clock
from eltkit.tui.screens.runs import RunsScreen
from eltkit.tui.screens.slas import SlaScreen
from tests.conftest import run_cli
from tests.tui.fixed_jobs import add_slas
from tests.tui.helpers import (
    FROZEN_NOW,
    app_for,
    flat,
    open_from_runs,
    screen_text,
    squeezed,
    table,
    wait_for,
)

pytestmark = pytest.mark.anyio

HOUR = 3600.0


def app_at(project: Path, now: list[float]):  # type: ignore[no-untyped-def]
    """The app with a clock the test moves: ``now[0]``."""
    loaded = load_project(project, parse=False)
    return make_app(loaded, history_file(loaded),
                    settings=Settings(poll_seconds=0.2, clock=Clock(now=lambda: now[0])))


def state_of(screen: SlaScreen, name: str) -> str | None:
    if screen.data is None:
        return None
    return next((sla.state for sla in screen.data.slas if sla.name == name), None)


async def test_S_shows_each_sla_state_due_finish_reason_and_escalation(
        fixed_jobs_sample: Path) -> None:
    app = app_for(fixed_jobs_sample, frozen=True)
    async with app.run_test(size=(160, 36)) as pilot:
        screen = await open_from_runs(pilot, "S", SlaScreen)
        # Most urgent first; each state has its own glyph, so the list reads without colour.
        assert table(app, "slas").keys == ["finance_close", "exec_report", "ops_daily",
                                        "marketing_dashboard"]
        text = squeezed(app)
        assert "4 SLAs ✗ 1 missed ! 1 at risk · 1 pending ✓ 1 met" in text
        assert "evaluated 11:00:30" in text
        assert "✗ missed finance_close 10:00:02 ~11:40:31 1/2 fired fct_payments" in text
        assert "! at risk exec_report 11:30:00 ~11:40:31 0/1 fired fct_orders and its tests " \
               "would finish at 11:40" in text
        assert "· pending ops_daily 11-21 10:00 ~11:00:31 - stg_orders" in text
        assert "✓ met marketing_dashboard 11-21 08:00 ✓ 09:00:41 0/3 fired all 11 nodes" in text
        # The highlighted SLA in full: the step the scheduler fired, and the next one's time.
        whole = flat(app)
        assert "✗ finance_close missed (max_staleness); due 2026-11-20 10:00 UTC (1h ago)" in whole
        assert "older than max_staleness 1h00m since 10:00" in whole
        assert "escalation: ✓ 1. at once log fired · 2. after 2h command ./page-oncall.sh " \
               "at 12:00:02 (in 59m32s)" in whole
        table(app, "slas").move_to("exec_report")
        await pilot.pause()
        whole = flat(app)
        assert "! exec_report at risk (deadline 30 9,11 * * * UTC); due 2026-11-20 11:30 UTC " \
               "(in 29m30s)" in whole
        assert "10m31s after the deadline 11:30" in whole
        assert "escalation: · 1. after 15m log at 11:15:30 (in 15m)" in whole
        table(app, "slas").move_to("marketing_dashboard")
        await pilot.pause()
        assert "escalation (when it slips): · 1. at once log · 2. after 30m webhook " \
               "$ELTKIT_ALERT_WEBHOOK · 3. after 1h command ./page-oncall.sh" in flat(app)
        assert screen.data is not None and screen.data.evaluated_at == FROZEN_NOW
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen")
    store = HistoryStore(fixed_jobs_sample / ".eltkit" / "history.db", readonly=True)
    try:  # the screen recorded its evaluations (one per SLA), as `eltkit sla` does
        assert {row["sla"]: row["state"] for row in latest_evaluations(store)} == {
            "finance_close": "missed", "exec_report": "at risk", "ops_daily": "pending",
            "marketing_dashboard": "met"}
        notifications = store._read("SELECT count(*) FROM notifications")[0][0]
        assert notifications == 1  # the fixture's escalation; the screen notified nobody
    finally:
        store.close()


async def test_a_deadline_passing_without_any_write_is_seen(
        built_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Time alone turns an SLA missed: the screen evaluates on a timer, not only on writes."""
    monkeypatch.setattr(SlaScreen, "REEVALUATE_SECONDS", 0.3)
    add_slas(built_sample, '  orders_fresh:\n    select: "fct_orders"\n    max_staleness: 1h\n')
    now = [time.time()]
    app = app_at(built_sample, now)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await open_from_runs(pilot, "S", SlaScreen)
        assert state_of(screen, "orders_fresh") == "met"
        version = app.version
        now[0] += 2 * HOUR  # nothing is written: only the clock moves
        await wait_for(pilot, lambda: state_of(screen, "orders_fresh") == "missed", 10,
                       "the miss")
        assert app.version == version  # no history change caused it
        text = squeezed(app)
        assert "✗ missed orders_fresh" in text
        assert "✓ met marketing_dashboard" in text


async def test_a_run_written_elsewhere_re_evaluates_at_once(
        built_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SlaScreen, "REEVALUATE_SECONDS", 3600.0)  # only history changes
    add_slas(built_sample, '  orders_fresh:\n    select: "stg_orders"\n    max_staleness: 1h\n')
    project = load_project(built_sample, parse=False)
    nodes = sla_nodes(project, "orders_fresh", project.config.slas["orders_fresh"])
    now = [time.time() + 2 * HOUR]  # the build is two hours old: stale
    app = app_at(built_sample, now)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await open_from_runs(pilot, "S", SlaScreen)
        assert state_of(screen, "orders_fresh") == "missed"
        # Another process records a fresh build of the SLA's nodes, a minute ago.
        finished = now[0] - 60
        with sqlite3.connect(history_file(project)) as db:
            db.execute(
                "INSERT INTO runs (id, command, selection, trigger, status, started_at,"
                " finished_at, heartbeat_at, pid, host, user, project_dir, threads, vars)"
                " VALUES ('later-run', 'build', ?, 'cli', 'success', ?, ?, ?, 1, 'h', 'u',"
                " '.', 1, '{}')",
                (json.dumps({"select": ["stg_orders"]}), finished - 5, finished, finished))
            db.executemany(
                "INSERT INTO node_results (run_id, unique_id, name, resource_type, status,"
                " attempts, started_at, finished_at, duration_s) VALUES"
                " ('later-run', ?, ?, 'model', 'success', 1, ?, ?, 1.0)",
                [(uid, uid.rsplit(".", 1)[-1], finished - 1, finished) for uid in nodes])
        db.close()
        await wait_for(pilot, lambda: state_of(screen, "orders_fresh") == "met", 10,
                       "the fresh build to count")
        assert "✓ met orders_fresh" in squeezed(app)


async def test_a_project_without_slas_points_at_the_docs(tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_from_runs(pilot, "S", SlaScreen)
        text = flat(app)
        assert "no SLAs declared: add `slas:` to eltkit.yml" in text
        assert "see docs/freshness-and-slas.md" in text
        assert not table(app, "slas").display


async def test_an_sla_config_error_is_one_line_with_the_last_recorded_states(
        built_sample: Path) -> None:
    recorded = run_cli("sla", cwd=built_sample)  # the history holds an evaluation now
    assert recorded.returncode == 0, recorded.stderr
    add_slas(built_sample, '  typo:\n    select: "fct_ordres"\n    deadline: "08:00"\n')
    app = app_for(built_sample)
    # Wide enough for the error line, which names the (long) path of the temporary eltkit.yml.
    async with app.run_test(size=(260, 30)) as pilot:
        screen = await open_from_runs(pilot, "S", SlaScreen)
        assert screen.data is not None and screen.data.recorded
        lines = [line for line in squeezed(app).splitlines() if "slas.typo.select" in line]
        assert len(lines) == 1, squeezed(app)
        assert "eltkit.yml:" in lines[0] and "fct_ordres" in lines[0]
        assert "the states above are the last recorded ones, not live" in flat(app)
        assert table(app, "slas").keys == ["marketing_dashboard"]
        assert "✓ met marketing_dashboard" in squeezed(app)


async def test_slas_before_any_history_say_what_to_do(sample_project: Path) -> None:
    history = sample_project / ".eltkit" / "history.db"
    assert not history.exists()
    app = app_for(sample_project)
    async with app.run_test(size=(120, 24)) as pilot:
        await open_from_runs(pilot, "S", SlaScreen)
        assert "no run history yet: SLAs are judged by the runs that built their models" \
            in flat(app)
    assert not history.exists()


async def test_without_a_project_the_sla_screen_says_what_is_needed(
        fixed_jobs_sample: Path) -> None:
    history = history_file(load_project(fixed_jobs_sample, parse=False))
    app = make_app(None, history, settings=Settings(poll_seconds=0.2))
    async with app.run_test(size=(100, 24)) as pilot:
        await open_from_runs(pilot, "S", SlaScreen)
        assert "no project: SLAs are declared in eltkit.yml" in flat(app)


async def test_states_read_without_colour_and_at_40x12(fixed_jobs_sample: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With NO_COLOR each state still has its own glyph; a tiny terminal still shows them."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = app_for(fixed_jobs_sample, frozen=True)
    assert app.no_color
    async with app.run_test(size=(40, 12)) as pilot:
        await open_from_runs(pilot, "S", SlaScreen)
        lines = squeezed(app).splitlines()
        glyphs = {name: next(line[0] for line in lines if f" {name} " in f"{line} ")
                  for name in ("finance_close", "exec_report", "ops_daily",
                               "marketing_dashboard")}
        assert glyphs == {"finance_close": "✗", "exec_report": "!", "ops_daily": "·",
                          "marketing_dashboard": "✓"}, lines  # four states, four glyphs
        await pilot.press("escape", "J")
        await wait_for(pilot, lambda: getattr(app.screen, "loads", 0) > 0
                       and "landing_files" in screen_text(app), what="the jobs at 40x12")
        assert "‖ PAUSED" in screen_text(app) or "‖ 1 paused" in screen_text(app)


def test_a_read_only_history_is_evaluated_without_recording(fixed_jobs_sample: Path) -> None:
    project = load_project(fixed_jobs_sample, parse=False)
    store = HistoryStore(history_file(project), readonly=True)
    try:
        before = store._read("SELECT count(*) FROM sla_evaluations")[0][0]
        data = read_slas(store, Catalog(project), FROZEN_NOW + 2 * HOUR)
        assert data.unrecorded and data.error is None
        # Two hours later the pending one is still pending; nothing could be written.
        assert {sla.name: sla.state for sla in data.slas}["ops_daily"] == "pending"
        assert store._read("SELECT count(*) FROM sla_evaluations")[0][0] == before
    finally:
        store.close()
