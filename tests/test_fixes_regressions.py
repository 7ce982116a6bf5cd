"""Regression tests for behaviour found wrong in review: each names what it guards."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.conftest import run_cli
from tests.test_manifest_reuse import _without_dbt


def test_concurrent_extract_transactions_take_turns(sample_project: Path) -> None:
    """Extract tasks that wrap their loads in begin/commit never conflict with each other."""
    result = run_cli("run", "-s", "tag:extract", "--json", cwd=sample_project)
    assert result.returncode == 0, result.stderr
    nodes = json.loads(result.stdout)["nodes"]
    assert {node["name"]: node["attempts"] for node in nodes} == {
        "extract_customers": 1, "extract_orders": 1, "extract_payments": 1}
    with duckdb.connect(str(sample_project / "target" / "jaffle.duckdb"), read_only=True) as db:
        loaded = {db.execute(f"select max(_loaded_at) from raw.{table}").fetchone()[0]
                  for table in ("raw_customers", "raw_orders", "raw_payments")}
    assert len(loaded) == 1  # one data interval for the whole run, shared by every task


def test_failure_summary_points_at_a_real_dbt_log(mini_project: Path) -> None:
    (mini_project / "models" / "a.sql").write_text("select nonsense from nowhere\n")
    result = run_cli("run", "-s", "a", cwd=mini_project)
    assert result.returncode == 1
    log_line = next(line for line in result.lines if line.strip().startswith("log: "))
    log = Path(log_line.strip().removeprefix("log: "))
    assert log.is_file() and "nowhere" in log.read_text()


def test_unquoted_date_in_vars(mini_project: Path) -> None:
    result = run_cli("ls", "-s", "a", "--resource-type", "model", "--vars", "day: 2026-11-01",
                     cwd=mini_project)
    assert result.returncode == 0, result.stderr
    assert result.lines == ["a"]


def test_history_logs_needs_a_known_node(mini_project: Path) -> None:
    assert run_cli("run", "-s", "task:load_t1", cwd=mini_project).returncode == 0
    no_run = run_cli("history", "--logs", "load_t1", cwd=mini_project)
    assert no_run.returncode == 2 and "needs a RUN_ID" in no_run.stderr
    run_id = json.loads(run_cli("history", "--json", cwd=mini_project).stdout)[0]["id"]
    unknown = run_cli("history", run_id, "--logs", "nope", cwd=mini_project)
    assert unknown.returncode == 2 and "has no node 'nope'" in unknown.stderr
    known = run_cli("history", run_id, "--logs", "load_t1", cwd=mini_project)
    assert "loaded 5 rows" in known.stdout


def test_eltkit_yml_above_the_dbt_folder_owns_it(tmp_path: Path, mini_project: Path) -> None:
    outer = tmp_path / "repo"
    outer.mkdir()
    mini_project.rename(outer / "dbt")
    (outer / "dbt" / "tasks.py").rename(outer / "tasks.py")
    (outer / "dbt" / "eltkit.yml").unlink()
    (outer / "eltkit.yml").write_text(
        "dbt: {project_dir: dbt, profiles_dir: dbt}\ntasks: [tasks.py]\n")
    result = run_cli("ls", "-s", "resource_type:task", cwd=outer / "dbt" / "models")
    assert result.returncode == 0, result.stderr
    assert result.lines == ["export_c", "load_t1", "load_t2"]


def test_custom_history_file_does_not_make_the_manifest_stale(mini_project: Path,
                                                              tmp_path: Path) -> None:
    (mini_project / "eltkit.yml").write_text(
        "dbt: {profiles_dir: .}\ntasks: [tasks.py]\nhistory: runs.sqlite\n")
    assert run_cli("ls", cwd=mini_project).returncode == 0  # reparse once for the new config
    assert run_cli("run", "-s", "task:load_t1", cwd=mini_project).returncode == 0
    assert (mini_project / "runs.sqlite").exists()
    result = run_cli("ls", "-s", "a", cwd=mini_project, env=_without_dbt(tmp_path))
    assert result.returncode == 0, result.stderr


def test_undeclared_pool_records_no_run(mini_project: Path) -> None:
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace('tags=["export"]', 'tags=["export"], pool="x"'))
    assert run_cli("run", cwd=mini_project).returncode == 2
    assert run_cli("history", cwd=mini_project).stdout.startswith("no runs yet")
