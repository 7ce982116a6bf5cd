"""Helpers for driving the TUI in tests: build the app, wait for data, read the screen."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.screen import Screen

from eltkit.project import load_project
from eltkit.run.runner import history_path
from eltkit.state.store import HistoryStore
from eltkit.tui.app import EltkitApp, Settings, make_app
from eltkit.tui.format import Clock
from eltkit.tui.screens.runs import RunsScreen
from eltkit.tui.widgets.virtual_table import VirtualTable

ScreenT = TypeVar("ScreenT", bound=Screen[Any])

#: The frozen history: three runs on 2026-11-20, the screens see 11:00:30 UTC.
BASE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp()
FROZEN_NOW = BASE + 2 * 3600 + 30
SUCCESS_RUN = "20261120T090000-aaaaaa"
FAILED_RUN = "20261120T100000-bbbbbb"
RUNNING_RUN = "20261120T110000-cccccc"

MINI_NODES = [
    ("task.load_t1", "load_t1", "task"), ("task.load_t2", "load_t2", "task"),
    ("model.mini.a", "a", "model"), ("model.mini.b", "b", "model"),
    ("model.mini.c", "c", "model"), ("task.export_c", "export_c", "task"),
    ("test.mini.not_null_a_id.c1cebc1440", "not_null_a_id", "test"),
    ("test.mini.unique_a_id.f6a5f640da", "unique_a_id", "test"),
    ("test.mini.relationships_c_id__id__ref_a_.2d10039799",
     "relationships_c_id__id__ref_a_", "test"),
]
DURATIONS = {"load_t1": 0.4, "load_t2": 1.2, "a": 0.8, "b": 0.6, "c": 1.5, "export_c": 0.3,
             "not_null_a_id": 0.2, "unique_a_id": 0.2, "relationships_c_id__id__ref_a_": 0.3}


def frozen_settings() -> Settings:
    return Settings(clock=Clock(now=lambda: FROZEN_NOW, tz=UTC))


def app_for(project: Path, *, frozen: bool = False, poll_seconds: float = 0.2) -> EltkitApp:
    loaded = load_project(project, parse=False)
    settings = frozen_settings() if frozen else Settings()
    settings.poll_seconds = poll_seconds
    return make_app(loaded, history_path(loaded), settings=settings)


def screen_text(app: EltkitApp) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def squeezed(app: EltkitApp) -> str:
    """The screen with runs of spaces squeezed: rows read the same at any width."""
    return "\n".join(" ".join(line.split()) for line in screen_text(app).splitlines())


def flat(app: EltkitApp) -> str:
    """The whole screen as one line: text that wraps reads the same at any width."""
    return " ".join(screen_text(app).split())


def notices(app: EltkitApp) -> str:
    """Every notification shown so far, in one line."""
    return " | ".join(str(n.message) for n in app._notifications)


def table(app: EltkitApp, name: str) -> VirtualTable:
    """The list ``#name`` of the screen on top."""
    return app.screen.query_one(f"#{name}", VirtualTable)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0,
                   what: str = "condition") -> float:
    """Pause until ``condition()``; returns how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; screen:\n"
                                 + screen_text(pilot.app))  # type: ignore[arg-type]
        await pilot.pause(0.02)
    took = time.monotonic() - started
    await pilot.pause()
    return took


async def wait_loaded(pilot: Pilot[Any], screen_type: type, loads: int = 1,
                      timeout: float = 10.0) -> None:
    app = pilot.app

    def ready() -> bool:
        return isinstance(app.screen, screen_type) and getattr(app.screen, "loads", 0) >= loads

    await wait_for(pilot, ready, timeout, f"{screen_type.__name__} to load")
    await pilot.pause()


async def wait_screen(pilot: Pilot[Any], screen_type: type[ScreenT]) -> ScreenT:
    """Wait until a ``screen_type`` is on top with its data; return it."""
    await wait_loaded(pilot, screen_type)
    screen = pilot.app.screen
    assert isinstance(screen, screen_type)
    return screen


async def open_from_runs(pilot: Pilot[Any], keys: str | tuple[str, ...],
                         screen_type: type[ScreenT]) -> ScreenT:
    """The runs screen loaded, then ``keys`` open a ``screen_type``: wait for its data."""
    await wait_loaded(pilot, RunsScreen)
    await pilot.press(*((keys,) if isinstance(keys, str) else keys))
    return await wait_screen(pilot, screen_type)


def write_fixed_history(path: Path) -> None:
    """Three runs of the mini project with fixed ids, times and durations.

    The schema comes from the store itself; rows are written with SQL so that
    ids and times are the same every time. The running run belongs to this
    process with a fresh heartbeat, so it is not marked interrupted.
    """
    HistoryStore(path).close()
    host, pid = socket.gethostname(), os.getpid()
    db = sqlite3.connect(path)
    runs = [
        (SUCCESS_RUN, "build", {"select": [], "exclude": [], "selector": None}, "schedule",
         "nightly", "success", BASE, BASE + 7.5, "9 success"),
        (FAILED_RUN, "build", {"select": [], "exclude": [], "selector": None}, "cli", None,
         "failed", BASE + 3600, BASE + 3600 + 4.2, "1 error, 3 skipped, 5 success"),
        (RUNNING_RUN, "run", {"select": ["+c"], "exclude": [], "selector": None}, "cli", None,
         "running", BASE + 7200, None, None),
    ]
    for run_id, command, selection, trigger, job, status, started, finished, message in runs:
        db.execute(
            "INSERT INTO runs (id, command, selection, trigger, job, status, started_at,"
            " finished_at, heartbeat_at, pid, host, user, project_dir, target, threads, vars,"
            " message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, command, json.dumps(selection), trigger, job, status, started, finished,
             time.time() + 10**6 if status == "running" else started, pid, host, "analyst",
             "/srv/mini", "dev", 4, "{}", message))
    order = ["load_t1", "load_t2", "a", "not_null_a_id", "unique_a_id", "b", "c",
             "relationships_c_id__id__ref_a_", "export_c"]
    rows: list[tuple[Any, ...]] = []
    for index, (uid, name, rtype) in enumerate(MINI_NODES):
        start = BASE + order.index(name) * 0.5
        rows.append((SUCCESS_RUN, uid, name, rtype, "success", 1, start,
                     start + DURATIONS[name], DURATIONS[name], 5 if name == "load_t1" else None,
                     None))
        start += 3600
        if name == "load_t2":
            rows.append((FAILED_RUN, uid, name, rtype, "error", 3, start, start + 0.9, 0.9,
                         None, "RuntimeError: flaky API: attempt 3 failed"))
        elif name in ("c", "export_c", "relationships_c_id__id__ref_a_"):
            rows.append((FAILED_RUN, uid, name, rtype, "skipped", 0, None, None, None, None,
                         "skipped: upstream load_t2 failed"))
        else:
            rows.append((FAILED_RUN, uid, name, rtype, "success", 1, start,
                         start + DURATIONS[name], DURATIONS[name], None, None))
        start += 3600
        if name in ("load_t1", "a"):
            rows.append((RUNNING_RUN, uid, name, rtype, "success", 1, start,
                         start + DURATIONS[name], DURATIONS[name], None, None))
        elif name == "load_t2":
            rows.append((RUNNING_RUN, uid, name, rtype, "running", 1, BASE + 7200 + 20.0,
                         None, None, None, None))
        elif name in ("b", "c", "not_null_a_id", "unique_a_id",
                      "relationships_c_id__id__ref_a_"):
            rows.append((RUNNING_RUN, uid, name, rtype, "pending", 0, None, None, None,
                         None, None))
        del index
    db.executemany(
        "INSERT INTO node_results (run_id, unique_id, name, resource_type, status, attempts,"
        " started_at, finished_at, duration_s, rows_affected, message)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    logs = [
        (FAILED_RUN, "task.load_t2", BASE + 3600.5, "WARNING",
         "attempt 1 failed: RuntimeError: flaky API: attempt 1 failed; retrying in 0.2s"),
        (FAILED_RUN, "task.load_t2", BASE + 3600.8, "WARNING",
         "attempt 2 failed: RuntimeError: flaky API: attempt 2 failed; retrying in 0.2s"),
        (FAILED_RUN, "task.load_t2", BASE + 3601.1, "ERROR",
         "RuntimeError: flaky API: attempt 3 failed"),
    ]
    db.executemany("INSERT INTO logs (run_id, unique_id, at, level, message) VALUES (?,?,?,?,?)",
                   logs)
    db.commit()
    db.close()


#: The frozen sample history: one build at 09:00, freshness checked at 10:50.
SAMPLE_RUN = "20261120T090000-dddddd"
FRESHNESS_CHECKED_AT = FROZEN_NOW - 600
HOUR = 3600.0


def write_fixed_sample_history(path: Path, graph: Any) -> None:
    """A successful build of the whole sample and a freshness check, at fixed times.

    The check saw raw_customers 11h55m old (pass; ten minutes later it is past
    its 12h warn_after) and raw_orders 13h old (warn); raw_payments was never
    checked. Nodes come from the sample's own DAG, so the lineage screen shows
    real relatives with statuses.
    """
    HistoryStore(path).close()
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO runs (id, command, selection, trigger, job, status, started_at,"
        " finished_at, heartbeat_at, pid, host, user, project_dir, target, threads, vars,"
        " message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (SAMPLE_RUN, "build", json.dumps({"select": [], "exclude": [], "selector": None}),
         "schedule", "nightly", "success", BASE, BASE + 42.0, BASE + 42.0, os.getpid(),
         socket.gethostname(), "analyst", "/srv/jaffle", "dev", 4, "{}", "all passed"))
    rows = []
    runnable = ("task", "model", "seed", "snapshot", "test", "unit_test")
    for index, uid in enumerate(sorted(u for u, n in graph.nodes.items()
                                       if n.resource_type in runnable)):
        node = graph.nodes[uid]
        start = BASE + index * 0.5
        rows.append((SAMPLE_RUN, uid, node.name, node.resource_type, "success", 1, start,
                     start + 0.4, 0.4, None, None))
    db.executemany(
        "INSERT INTO node_results (run_id, unique_id, name, resource_type, status, attempts,"
        " started_at, finished_at, duration_s, rows_affected, message)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    checked = FRESHNESS_CHECKED_AT
    checks = [("source.jaffle.jaffle.raw_customers", "jaffle.raw_customers", "pass",
               11 * HOUR + 55 * 60),
              ("source.jaffle.jaffle.raw_orders", "jaffle.raw_orders", "warn", 13 * HOUR)]
    for uid, label, status, age in checks:
        newest = datetime.fromtimestamp(checked - age, tz=UTC).isoformat()
        db.execute(
            "INSERT INTO freshness_checks (checked_at, unique_id, source, status, max_loaded_at,"
            " age_s, warn_after_s, error_after_s, message, run_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (checked, uid, label, status, newest, age, 12 * HOUR, 24 * HOUR, None, None))
    db.commit()
    db.close()
