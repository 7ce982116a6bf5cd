"""Run policies end to end: dbt retries, pools, --wait, vars reaching dbt and tasks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import run_cli


def _nodes(stdout: str) -> dict[str, dict[str, object]]:
    return {node["name"]: node for node in json.loads(stdout)["nodes"]}


def test_failed_dbt_node_is_retried_alone(mini_project: Path) -> None:
    # The first attempt fails (DuckDB's error()), the retry succeeds: a hook outside the
    # model's transaction counts attempts in a table of the warehouse.
    (mini_project / "models" / "flaky.sql").write_text(
        "{{ config(materialized='table', pre_hook=before_begin("
        "'create table if not exists attempts (n int); insert into attempts values (1)')) }}\n"
        "select case when (select count(*) from attempts) < 2 then error('transient failure')"
        " else 1 end as id\n")
    (mini_project / "models" / "steady.sql").write_text("select 1 as id\n")
    (mini_project / "eltkit.yml").write_text(
        "dbt: {profiles_dir: .}\ntasks: [tasks.py]\nrun: {dbt_retries: 1}\n")
    result = run_cli("run", "-s", "flaky", "steady", "--json", cwd=mini_project)
    assert result.returncode == 0, result.stdout
    nodes = _nodes(result.stdout)
    assert nodes["flaky"]["status"] == "success"
    assert nodes["flaky"]["attempts"] == 2
    assert nodes["steady"]["attempts"] == 1
    logs = run_cli("history", json.loads(result.stdout)["id"], "--logs", "flaky",
                   cwd=mini_project)
    assert "transient failure" in logs.stdout


def test_pool_of_one_runs_tasks_one_at_a_time(mini_project: Path) -> None:
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace('tags=["extract"]', 'tags=["extract"], pool="api"'))
    (mini_project / "eltkit.yml").write_text(
        "dbt: {profiles_dir: .}\ntasks: [tasks.py]\nrun: {pools: {api: 1}}\n")
    result = run_cli("run", "-s", "tag:extract", "--json", cwd=mini_project,
                     env={"MINI_SLEEP": "1"})
    assert result.returncode == 0, result.stderr
    nodes = _nodes(result.stdout)
    first, second = sorted((nodes["load_t1"], nodes["load_t2"]),
                           key=lambda node: str(node["started_at"]))
    assert str(first["finished_at"]) <= str(second["started_at"])


def test_undeclared_pool_is_a_config_error(mini_project: Path) -> None:
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace('tags=["export"]', 'tags=["export"], pool="x"'))
    result = run_cli("run", cwd=mini_project)
    assert result.returncode == 2
    assert "uses pool 'x', which eltkit.yml does not declare" in result.stderr


def test_wait_queues_behind_a_running_run(mini_project: Path) -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "eltkit.cli", "run", "-s", "task:load_t2"], cwd=mini_project,
        env={**os.environ, "MINI_SLEEP": "4"}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        lock = mini_project / "target" / "mini.duckdb.eltkit.lock"
        for _ in range(200):
            if lock.exists() and "pid" in lock.read_text():
                break
            subprocess.run(["sleep", "0.1"], check=True)
        second = run_cli("run", "-s", "task:load_t1", "--wait", "--json", cwd=mini_project)
        assert second.returncode == 0, second.stderr
        assert first.wait(60) == 0
    finally:
        first.kill()
    runs = json.loads(run_cli("history", "--json", cwd=mini_project).stdout)
    assert [run["status"] for run in runs] == ["success", "success"]


def test_vars_reach_dbt_and_tasks(mini_project: Path) -> None:
    (mini_project / "models" / "sub" / "b.sql").write_text(
        "select *, '{{ var(\"day\", \"none\") }}' as day from {{ ref('a') }}\n")
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace(
        '    ctx.log.info("loaded 5 rows into raw.t1")',
        '    ctx.log.info("loaded 5 rows into raw.t1 for %s", ctx.vars.get("day"))'))
    result = run_cli("run", "-s", "+b", "--vars", '{"day": "2026-11-01"}', "--json",
                     cwd=mini_project)
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(mini_project / "target" / "mini.duckdb"), read_only=True) as db:
        assert db.execute("select distinct day from b").fetchall() == [("2026-11-01",)]
    logs = run_cli("history", json.loads(result.stdout)["id"], "--logs", "load_t1",
                   cwd=mini_project)
    assert "for 2026-11-01" in logs.stdout
