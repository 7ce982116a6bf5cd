"""`eltkit run/build/test/retry/history` end to end: real tasks, real dbt, real DuckDB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CliResult, run_cli


def history(project: Path, run_id: str | None = None) -> object:
    args = ["history", "--json"] + ([run_id] if run_id else [])
    result = run_cli(*args, cwd=project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def statuses(project: Path, run_id: str) -> dict[str, str]:
    data = history(project, run_id)
    assert isinstance(data, dict)
    return {node["name"]: node["status"] for node in data["nodes"]}


def warehouse_rows(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / "target" / "mini.duckdb"), read_only=True) as db:
        return db.execute(sql).fetchall()


def run_json(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[
        CliResult, dict[str, object]]:
    result = run_cli(*args, "--json", cwd=project, env=env)
    return result, json.loads(result.stdout)


def test_build_runs_tasks_and_dbt_and_records_everything(mini_project: Path) -> None:
    result, data = run_json(mini_project, "build")
    assert result.returncode == 0, result.stderr
    assert data["status"] == "success"
    assert data["trigger"] == "cli"
    nodes = {node["name"]: node for node in data["nodes"]}  # type: ignore[union-attr]
    assert set(nodes) == {"load_t1", "load_t2", "a", "b", "c", "export_c", "not_null_a_id",
                          "unique_a_id", "relationships_c_id__id__ref_a_"}
    assert all(node["status"] == "success" for node in nodes.values())
    assert nodes["load_t1"]["rows_affected"] == 5
    # Order: the task loading t1 finished before model a started, a before b, c before export.
    assert nodes["load_t1"]["finished_at"] <= nodes["a"]["started_at"]
    assert nodes["a"]["finished_at"] <= nodes["b"]["started_at"]
    assert nodes["c"]["finished_at"] <= nodes["export_c"]["started_at"]
    assert warehouse_rows(mini_project, "select count(*) from c") == [(3,)]
    runs = history(mini_project)
    assert isinstance(runs, list) and runs[0]["id"] == data["id"]
    assert {"id", "status", "trigger", "command", "selection", "started_at",
            "finished_at"} <= set(runs[0])
    logs = run_cli("history", str(data["id"]), "--logs", "export_c", cwd=mini_project)
    assert "exported 3 rows of c" in logs.stdout


def test_run_prints_progress_and_a_summary(mini_project: Path) -> None:
    result = run_cli("run", "--select", "+b", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    assert "[1/3]" in result.stdout and "[3/3]" in result.stdout
    assert "elapsed" in result.stdout
    assert "SUCCESS: 3 passed, 0 failed, 0 skipped" in result.stdout


def test_test_command_runs_only_tests(mini_project: Path) -> None:
    assert run_cli("run", cwd=mini_project).returncode == 0
    result, data = run_json(mini_project, "test", "--select", "a")
    assert result.returncode == 0, result.stderr
    kinds = {node["resource_type"] for node in data["nodes"]}  # type: ignore[union-attr]
    assert kinds == {"test"}


def test_failing_model_skips_its_downstream_and_exits_1(mini_project: Path) -> None:
    (mini_project / "models" / "sub" / "b.sql").write_text(
        "select * from {{ ref('a') }} where no_such_column = 1\n")
    result = run_cli("build", cwd=mini_project)
    assert result.returncode == 1
    assert "ERROR model b (models/sub/b.sql)" in result.stdout
    assert "no_such_column" in result.stdout
    run_id = history(mini_project)[0]["id"]  # type: ignore[index]
    status = statuses(mini_project, run_id)
    assert status["a"] == "success"
    assert status["unique_a_id"] == "success"
    assert status["b"] == "error"
    assert status["c"] == "skipped"
    assert status["relationships_c_id__id__ref_a_"] == "skipped"
    assert status["export_c"] == "skipped"
    assert status["load_t2"] == "success"


def test_flaky_task_is_retried_until_it_succeeds(mini_project: Path) -> None:
    result, data = run_json(mini_project, "run", "-s", "task:load_t2",
                            env={"MINI_FAIL_TIMES": "2"})
    assert result.returncode == 0, result.stderr
    (node,) = data["nodes"]  # type: ignore[misc]
    assert node["status"] == "success"
    assert node["attempts"] == 3
    assert (mini_project / "target" / "load_t2_attempts").read_text() == "3"


def test_task_failing_every_attempt_fails_the_run(mini_project: Path) -> None:
    result, data = run_json(mini_project, "run", env={"MINI_FAIL_TIMES": "5"})
    assert result.returncode == 1
    nodes = {node["name"]: node for node in data["nodes"]}  # type: ignore[union-attr]
    assert nodes["load_t2"]["status"] == "error"
    assert nodes["load_t2"]["attempts"] == 3
    assert "flaky API: attempt 3 failed" in nodes["load_t2"]["message"]
    assert nodes["c"]["status"] == "skipped"
    assert nodes["a"]["status"] == "success"  # independent of the failed task


def test_hanging_task_is_stopped_at_its_timeout(mini_project: Path) -> None:
    started = time.monotonic()
    result, data = run_json(mini_project, "run", "-s", "task:load_t2",
                            env={"MINI_HANG": "1", "MINI_TIMEOUT": "1"})
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    (node,) = data["nodes"]  # type: ignore[misc]
    assert node["status"] == "timed_out"
    assert node["attempts"] == 3
    assert "timed out after 1s" in node["message"]
    assert elapsed < 60  # three 1 s attempts, not the 60 s default


def test_missing_source_table_fails_the_model(mini_project: Path) -> None:
    result, data = run_json(mini_project, "run", "-s", "a")
    assert result.returncode == 1
    (node,) = data["nodes"]  # type: ignore[misc]
    assert node["status"] == "error"
    assert "t1" in node["message"]


def test_selection_matching_nothing_runs_nothing(mini_project: Path) -> None:
    result = run_cli("run", "-s", "tag:nope", cwd=mini_project)
    assert result.returncode == 0
    assert "nothing to run" in result.stderr
    assert run_cli("history", cwd=mini_project).stdout.startswith("no runs yet")


def test_fail_fast_skips_the_rest(mini_project: Path) -> None:
    # load_t2 fails at once; model a does not need it but waits behind the slow load_t1.
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace(
        '    ctx.warehouse.execute("create schema if not exists raw")\n'
        '    ctx.warehouse.execute("create or replace table raw.t1',
        '    time.sleep(3)\n    ctx.warehouse.execute("create schema if not exists raw")\n'
        '    ctx.warehouse.execute("create or replace table raw.t1', 1))
    assert "time.sleep(3)" in tasks.read_text()
    result, data = run_json(mini_project, "run", "--fail-fast",
                            env={"MINI_FAIL_TIMES": "5"})
    assert result.returncode == 1
    nodes = {node["name"]: node for node in data["nodes"]}  # type: ignore[union-attr]
    assert nodes["load_t2"]["status"] == "error"
    assert nodes["load_t1"]["status"] == "success"  # already running: it finishes
    assert nodes["a"]["status"] == "skipped"
    assert "--fail-fast (task.load_t2 failed)" in nodes["a"]["message"]


def test_retry_reruns_exactly_what_failed_and_its_downstream(mini_project: Path) -> None:
    first = run_cli("run", env={"MINI_FAIL_TIMES": "3"}, cwd=mini_project)
    assert first.returncode == 1
    result, data = run_json(mini_project, "retry")
    assert result.returncode == 0, result.stderr
    assert data["trigger"] == "retry"
    names = {node["name"] for node in data["nodes"]}  # type: ignore[union-attr]
    assert names == {"load_t2", "c", "export_c"}
    assert run_cli("retry", cwd=mini_project).stdout.startswith("nothing to retry")


def _start_run(project: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "eltkit.cli", "run"], cwd=project, text=True,
        env={**os.environ, "NO_COLOR": "1", **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _wait_for_running(project: Path, name: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (project / ".eltkit" / "history.db").exists():
            runs = history(project)
            if runs:
                run_id = runs[0]["id"]  # type: ignore[index]
                if statuses(project, run_id).get(name) == "running":
                    return str(run_id)
        time.sleep(0.2)
    raise AssertionError(f"{name} never started running")


def test_sigkill_leaves_an_interrupted_run_that_retry_completes(mini_project: Path) -> None:
    process = _start_run(mini_project, {"MINI_SLEEP": "30"})
    run_id = _wait_for_running(mini_project, "load_t2")
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    runs = history(mini_project)
    assert runs[0]["id"] == run_id and runs[0]["status"] == "interrupted"  # type: ignore[index]
    status = statuses(mini_project, run_id)
    assert status["load_t2"] == "interrupted"
    assert status["load_t1"] == "success"
    unfinished = {name for name, value in status.items() if value != "success"}
    assert {"load_t2", "c", "export_c"} <= unfinished
    result, data = run_json(mini_project, "retry")
    assert result.returncode == 0, result.stderr
    assert data["retry_of"] == run_id
    assert {node["name"] for node in data["nodes"]} == unfinished  # type: ignore[union-attr]
    assert warehouse_rows(mini_project, "select count(*) from c") == [(3,)]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_cancels_the_run_cleanly(mini_project: Path, signum: int) -> None:
    process = _start_run(mini_project, {"MINI_SLEEP": "30"})
    run_id = _wait_for_running(mini_project, "load_t2")
    process.send_signal(signum)
    assert process.wait(30) == 1
    runs = history(mini_project)
    assert runs[0]["id"] == run_id and runs[0]["status"] == "cancelled"  # type: ignore[index]
    status = statuses(mini_project, run_id)
    assert status["load_t2"] == "cancelled"
    assert status["export_c"] == "cancelled"


def test_second_run_on_the_same_warehouse_is_refused(mini_project: Path) -> None:
    process = _start_run(mini_project, {"MINI_SLEEP": "30"})
    try:
        _wait_for_running(mini_project, "load_t2")
        second = run_cli("run", "-s", "task:load_t1", cwd=mini_project)
        assert second.returncode == 2
        assert "is in use by eltkit run" in second.stderr
        assert "--wait" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def test_warehouse_held_by_another_program(mini_project: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
         " time.sleep(60)", str(mini_project / "target" / "mini.duckdb")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = run_cli("run", "-s", "task:load_t1", cwd=mini_project)
        assert result.returncode == 2
        assert "is locked by another process" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, None])
def test_corrupt_or_foreign_history_is_never_overwritten(mini_project: Path,
                                                         content: bytes | None) -> None:
    path = mini_project / ".eltkit" / "history.db"
    path.parent.mkdir()
    if content is None:
        import sqlite3

        with sqlite3.connect(path) as other:
            other.execute("create table invoices (id integer)")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    for args in (("run", "-s", "task:load_t1"), ("history",)):
        result = run_cli(*args, cwd=mini_project)
        assert result.returncode == 2, result.stderr
        assert "history" in result.stderr and "move it aside" in result.stderr
        assert "Traceback" not in result.stderr
    assert path.read_bytes() == before
