"""`eltkit health`: success rates, slow nodes, row-count drift and schema changes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from eltkit.health import compute_health, diff_columns, parse_window
from eltkit.state.health import latest_model_columns, record_model_columns
from eltkit.state.store import HistoryStore
from tests.conftest import run_cli

DAY = 86400.0
WEEK = 7 * DAY


class Seeder:
    """Writes runs, node results and job runs with chosen times into a real history file."""

    def __init__(self, store: HistoryStore, now: float) -> None:
        self.store = store
        self.now = now
        self.count = 0

    def run(self, *, ago: float, status: str = "success", job: str | None = None,
            command: str = "build", trigger: str = "cli",
            nodes: tuple[tuple[str, str, float | None, int | None], ...] = ()) -> str:
        """One finished run ``ago`` seconds before now, with successful ``nodes``
        given as (unique_id, resource_type, duration_s, rows_affected)."""
        self.count += 1
        run_id = f"run-{self.count:03d}"
        started = self.now - ago
        self.store._write(
            "INSERT INTO runs (id, command, selection, trigger, job, status, started_at,"
            " finished_at, heartbeat_at, pid, host, user, project_dir)"
            " VALUES (?, ?, '{}', ?, ?, ?, ?, ?, ?, 1, 'h', 'u', '.')",
            (run_id, command, trigger, job, status, started, started + 60, started + 60))
        self.store._write_many(
            "INSERT INTO node_results (run_id, unique_id, name, resource_type, status,"
            " attempts, started_at, finished_at, duration_s, rows_affected)"
            " VALUES (?, ?, ?, ?, 'success', 1, ?, ?, ?, ?)",
            [(run_id, uid, uid.rsplit(".", 1)[-1], kind, started, started + 30, took, rows)
             for uid, kind, took, rows in nodes])
        return run_id

    def job_run(self, job: str, status: str, *, ago: float) -> None:
        self.count += 1
        finished = None if status in ("queued", "running") else self.now - ago
        self.store._write(
            "INSERT INTO job_runs (id, job, reason, status, queued_at, finished_at)"
            " VALUES (?, ?, 'schedule', ?, ?, ?)",
            (f"job-{self.count:03d}", job, status, self.now - ago - 60, finished))


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[HistoryStore, float]:
    now = time.time()
    store = HistoryStore(tmp_path / ".eltkit" / "history.db")
    seed = Seeder(store, now)
    # Success rates: four nightly runs in the window (one failed), one before it.
    seed.run(ago=10 * DAY, status="failed", job="nightly")
    for ago, status in ((4 * DAY, "success"), (3 * DAY, "failed"), (2 * DAY, "success"),
                        (DAY, "success")):
        seed.run(ago=ago, status=status, job="nightly")
    seed.run(ago=DAY, status="success", command="run")
    seed.run(ago=DAY / 2, status="cancelled", command="run")
    seed.run(ago=DAY / 3, status="failed", command="run", trigger="dev")  # not counted
    seed.run(ago=60, status="running", command="run")  # not finished: not counted
    for status in ("success", "success", "failed", "skipped", "running"):
        seed.job_run("nightly", status, ago=DAY)

    # Durations and rows: five earlier successes (two before the window: still the
    # baseline), then the latest.
    history: dict[str, tuple[tuple[float | None, int | None], ...]] = {
        "model.p.slow": ((10, None), (11, None), (9, None), (10, None), (12, None), (25, None)),
        "model.p.steady": ((10, None), (10, None), (10, None), (10, None), (10, None),
                           (15, None)),
        "model.p.tiny": ((0.1, None),) * 5 + ((0.5, None),),  # 5x, but 0.4 s is noise
        "task.grew": ((1, 100), (1, 100), (1, 90), (1, 110), (1, 100), (1, 150)),
        "task.shrank": ((1, 100),) * 5 + ((1, 50),),
        "task.wobbles": ((1, 100),) * 5 + ((1, 120),),
        "task.from_zero": ((1, 0),) * 5 + ((1, 10),),
    }
    for index in range(6):
        ago = (9 - index) * DAY if index < 2 else (6 - index) * DAY
        seed.run(ago=ago, nodes=tuple(
            (uid, uid.split(".")[0], *samples[index]) for uid, samples in history.items()))
    # Too few earlier runs to judge, however odd the latest is.
    seed.run(ago=3 * DAY, nodes=(("model.p.new", "model", 1.0, 10),))
    seed.run(ago=2 * DAY, nodes=(("model.p.new", "model", 1.0, 10),))
    seed.run(ago=DAY, nodes=(("model.p.new", "model", 90.0, 1000),))
    # A failure slower than anything is not a success: the latest success still counts.
    store._write("INSERT INTO node_results (run_id, unique_id, name, resource_type, status,"
                 " finished_at, duration_s) VALUES ('run-001', 'model.p.steady', 'steady',"
                 " 'model', 'error', ?, 500)", (now - 60,))

    # Columns: unchanged (not stored again), changed, reordered only, changed long ago.
    first = [["id", "INTEGER"], ["amount", "DOUBLE"]]
    record_model_columns(store, "run-010", {"model.p.fct": first, "model.p.old": first,
                                            "model.p.order": first}, at=now - 20 * DAY)
    record_model_columns(store, "run-011", {"model.p.old": [["id", "BIGINT"]]},
                         at=now - 15 * DAY)
    assert record_model_columns(store, "run-012", {"model.p.fct": first}, at=now - 3 * DAY) == 0
    record_model_columns(store, "run-013", {
        "model.p.fct": [["ID", "BIGINT"], ["amount_usd", "DOUBLE"]],
        "model.p.order": list(reversed(first)), "model.p.old": [["id", "BIGINT"]]},
        at=now - 2 * DAY)
    return store, now


def test_figures_from_a_seeded_history(seeded: tuple[HistoryStore, float]) -> None:
    store, now = seeded
    report = compute_health(store, WEEK, now=now)

    rates = {(r.job or r.command, r.counted): (r.succeeded, r.total, r.statuses)
             for r in report.success_rates}
    assert rates == {
        ("nightly", "runs"): (3, 4, {"failed": 1, "success": 3}),
        ("nightly", "job_runs"): (2, 3, {"failed": 1, "success": 2}),
        ("run", "runs"): (1, 2, {"cancelled": 1, "success": 1}),
        # The six duration runs and three "new" runs: builds without a job.
        ("build", "runs"): (7, 7, {"success": 7}),
    }
    nightly = next(r for r in report.success_rates if r.job == "nightly" and r.counted == "runs")
    assert nightly.rate == 0.75 and nightly.label == "job nightly"

    assert [(n.name, n.duration_s, n.median_s, n.samples) for n in report.slow_nodes] == [
        ("slow", 25.0, 10.0, 5)]
    assert report.slow_nodes[0].ratio == 2.5

    drift = {d.name: (d.rows, d.average, d.change_percent) for d in report.row_drift}
    assert drift == {"grew": (150, 100.0, 50.0), "shrank": (50, 100.0, -50.0),
                     "from_zero": (10, 0.0, None)}

    changes = [(c.unique_id, c.run_id, c.previous_run_id, c.added, c.removed, c.retyped)
               for c in report.schema_changes]
    assert changes == [(
        "model.p.fct", "run-013", "run-010",
        [{"name": "amount_usd", "type": "DOUBLE"}],
        [{"name": "amount", "type": "DOUBLE"}],
        [{"name": "ID", "from": "INTEGER", "to": "BIGINT"}],
    )]
    # A shorter window leaves out what happened before it.
    short = compute_health(store, 1.5 * DAY, now=now)
    assert short.schema_changes == []
    assert [(r.job or r.command, r.total) for r in short.success_rates
            if r.counted == "runs"] == [("nightly", 1), ("build", 2), ("run", 2)]


def test_unchanged_columns_are_stored_once(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.db")
    columns = {"model.p.a": [["id", "INTEGER"]]}
    assert record_model_columns(store, "r1", columns) == 1
    assert record_model_columns(store, "r2", columns) == 0
    assert record_model_columns(store, "r3", {"model.p.a": [["id", "BIGINT"]]}) == 1
    assert latest_model_columns(store) == {"model.p.a": [["id", "BIGINT"]]}


def test_diff_ignores_order_and_case() -> None:
    assert diff_columns([["id", "INTEGER"], ["b", "VARCHAR"]],
                        [["B", "VARCHAR"], ["ID", "INTEGER"]]) == ([], [], [])


def test_cli_json_and_text_on_a_seeded_history(seeded: tuple[HistoryStore, float],
                                               mini_project: Path) -> None:
    store, _ = seeded
    target = mini_project / ".eltkit" / "history.db"
    target.parent.mkdir(exist_ok=True)
    store._connection.execute(f"VACUUM INTO '{target}'")
    result = run_cli("health", "--json", "--window", "7d", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["window_s"] == WEEK
    assert [node["name"] for node in data["slow_nodes"]] == ["slow"]
    assert {d["name"]: d["change_percent"] for d in data["row_drift"]} == {
        "grew": 50.0, "shrank": -50.0, "from_zero": None}
    assert [c["name"] for c in data["schema_changes"]] == ["fct"]
    text = run_cli("health", cwd=mini_project)
    assert text.returncode == 0, text.stderr
    assert "job nightly" in text.stdout and "75.0 %" in text.stdout
    assert "retyped ID INTEGER -> BIGINT" in text.stdout
    assert "+50.0 %" in text.stdout


def test_a_real_column_change_between_two_builds(mini_project: Path) -> None:
    first = run_cli("build", cwd=mini_project)
    assert first.returncode == 0, first.stdout + first.stderr
    model = mini_project / "models" / "sub" / "b.sql"
    model.write_text("{{ config(materialized='table') }}\n"
                     "select cast(id as integer) as id, 'x' as label from {{ ref('a') }}\n")
    second = run_cli("run", "-s", "b", "--json", cwd=mini_project)
    assert second.returncode == 0, second.stdout + second.stderr
    run = json.loads(second.stdout)
    # dbt-duckdb reports no rows for table models: the run fills them from the catalog.
    assert [node["rows_affected"] for node in run["nodes"]] == [5]

    result = run_cli("health", "--json", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)["schema_changes"]
    assert [(c["name"], c["run_id"], c["added"], c["removed"], c["retyped"])
            for c in changes] == [
        ("b", run["id"], [{"name": "label", "type": "VARCHAR"}], [],
         [{"name": "id", "from": "BIGINT", "to": "INTEGER"}])]


@pytest.mark.parametrize("window", ["abc", "0", "-3d", "7 weeks", ""])
def test_bad_window_exits_2(mini_project: Path, window: str) -> None:
    result = run_cli("health", "--window", window, cwd=mini_project)
    assert result.returncode == 2
    assert "Invalid value for '--window'" in result.stderr
    assert "Traceback" not in result.stderr


def test_parse_window() -> None:
    assert parse_window("7d") == WEEK
    assert parse_window("36h") == 36 * 3600
    with pytest.raises(ValueError, match="write it like 30s, 15m, 26h or 2d"):
        parse_window("a week")


def test_no_history_and_a_foreign_history_file(mini_project: Path) -> None:
    empty = run_cli("health", cwd=mini_project)
    assert empty.returncode == 0 and "no runs yet" in empty.stdout
    history = mini_project / ".eltkit" / "history.db"
    history.parent.mkdir(exist_ok=True)
    history.write_text("not a database")
    broken = run_cli("health", cwd=mini_project)
    assert broken.returncode == 2
    assert str(history) in broken.stderr and "Traceback" not in broken.stderr
