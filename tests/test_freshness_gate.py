"""The freshness gate: nodes downstream of a stale source are skipped, with the reason.

Real runs of the sample project on DuckDB: its extract tasks backdate `_loaded_at`
when ELTKIT_SAMPLE_STALE_HOURS is set, which makes a source warn- or error-stale.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from eltkit.config import load_config
from eltkit.errors import ConfigError
from eltkit.project import load_project
from eltkit.run.plan import make_plan
from eltkit.schedule.freshness import RUNTIME_ERROR, FreshnessResult
from eltkit.schedule.gate import RunGate, fails_gate, plan_gate, require_checkable
from eltkit.schedule.gate_config import gate_level
from eltkit.warehouse import Target
from tests.conftest import CliResult, run_cli

STALE = "ELTKIT_SAMPLE_STALE_HOURS"


def run_json(project: Path, *args: str, env: dict[str, str] | None = None) -> tuple[
        CliResult, dict[str, Any]]:
    result = run_cli(*args, "--json", cwd=project, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result, json.loads(result.stdout)


def make_stale(project: Path, task: str, hours: int) -> None:
    """Reload one raw table with `_loaded_at` ``hours`` in the past (no model runs)."""
    result = run_cli("run", "-s", f"task:{task}", cwd=project, env={STALE: str(hours)})
    assert result.returncode == 0, result.stdout + result.stderr


def models_downstream_of(project: Path, source: str) -> set[str]:
    """The models a run builds below ``source`` (ephemeral ones are never run)."""
    result = run_cli("ls", "-s", f"source:{source}+", "--resource-type", "model", "--json",
                     cwd=project)
    assert result.returncode == 0, result.stderr
    nodes = [json.loads(line) for line in result.lines]
    return {node["name"] for node in nodes if node.get("materialized") != "ephemeral"}


def by_status(run: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for node in run["nodes"]:
        found.setdefault(node["status"], set()).add(node["name"])
    return found


def checks_of(project: Path, run_id: str) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(project / ".eltkit" / "history.db") as db:
        rows = db.execute("SELECT source, status, message FROM freshness_checks"
                          " WHERE run_id = ?", (run_id,)).fetchall()
    return {source: (status, message) for source, status, message in rows}


# -- real runs --------------------------------------------------------------------------------


def test_error_stale_source_skips_exactly_its_downstream(built_sample: Path) -> None:
    make_stale(built_sample, "extract_orders", 30)
    result, run = run_json(built_sample, "run", "--exclude", "tag:extract",
                           "--freshness-gate", "error")
    assert result.returncode == 1, result.stderr
    assert run["status"] == "failed"
    expected = models_downstream_of(built_sample, "jaffle.raw_orders")
    assert {"stg_orders", "fct_orders", "customer_ltv"} <= expected
    statuses = by_status(run)
    assert statuses["skipped"] == expected
    assert set(statuses) == {"skipped", "success"}
    assert {"stg_customers", "stg_payments", "stg_country_codes"} <= statuses["success"]
    reason = re.compile(r"^skipped: source jaffle\.raw_orders is error-stale: age 30h\d\dm > "
                        r"24h \(freshness gate: error\)$")
    for node in run["nodes"]:
        if node["status"] == "skipped":
            assert reason.match(node["message"]), node["message"]
    # The check is recorded like `eltkit freshness`, with the run's id.
    checks = checks_of(built_sample, run["id"])
    assert {source: status for source, (status, _) in checks.items()} == {
        "jaffle.raw_orders": "error", "jaffle.raw_customers": "pass",
        "jaffle.raw_payments": "pass"}
    # ... and the reason is in `eltkit history RUN_ID` and the run's log.
    shown = run_cli("history", run["id"], cwd=built_sample)
    assert "source jaffle.raw_orders is error-stale: age 30h" in shown.stdout
    logged = run_cli("history", run["id"], "--logs", "run", cwd=built_sample)
    assert f"skipping {len(expected)} downstream nodes" in logged.stdout

    # The same stale warehouse with the gate off: everything runs, nothing is checked.
    result, run = run_json(built_sample, "run", "--exclude", "tag:extract",
                           "--freshness-gate", "off")
    assert result.returncode == 0, result.stderr
    assert set(by_status(run)) == {"success"}
    assert expected <= by_status(run)["success"]
    assert checks_of(built_sample, run["id"]) == {}


def test_a_source_the_run_loads_is_checked_after_its_task(built_sample: Path) -> None:
    # The sample's own eltkit.yml turns the gate on: no flag needed.
    assert load_config(built_sample / "eltkit.yml").freshness.gate == "error"
    make_stale(built_sample, "extract_orders", 30)
    # Stale before the run, but the run reloads it first: checked after, it is fresh.
    result, run = run_json(built_sample, "run", "-s", "task:extract_orders+")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(by_status(run)) == {"success"}
    checks = checks_of(built_sample, run["id"])
    assert checks["jaffle.raw_orders"] == ("pass", None)
    with sqlite3.connect(built_sample / ".eltkit" / "history.db") as db:
        checked = dict(db.execute("SELECT source, checked_at FROM freshness_checks"
                                  " WHERE run_id = ?", (run["id"],)).fetchall())
        started, finished = db.execute(
            "SELECT started_at, finished_at FROM node_results WHERE run_id = ?"
            " AND name = 'extract_orders'", (run["id"],)).fetchone()
    assert checked["jaffle.raw_orders"] >= finished  # after the task that loads it
    assert checked["jaffle.raw_customers"] <= started  # no loader in the run: before it

    # A reload that is itself stale: the task succeeds, everything downstream is skipped.
    result, run = run_json(built_sample, "run", "-s", "task:extract_orders+",
                           env={STALE: "30"})
    assert result.returncode == 1
    statuses = by_status(run)
    assert statuses["success"] == {"extract_orders"}
    assert statuses["skipped"] == models_downstream_of(built_sample, "jaffle.raw_orders")
    assert checks_of(built_sample, run["id"])["jaffle.raw_orders"][0] == "error"


def test_warn_gate_from_eltkit_yml_and_the_flag_overriding_it(built_sample: Path) -> None:
    config = built_sample / "eltkit.yml"
    config.write_text(config.read_text().replace("gate: error", "gate: warn"))
    make_stale(built_sample, "extract_customers", 13)
    result, run = run_json(built_sample, "run", "--exclude", "tag:extract")
    assert result.returncode == 1
    expected = models_downstream_of(built_sample, "jaffle.raw_customers")
    assert by_status(run)["skipped"] == expected
    skipped = [node for node in run["nodes"] if node["status"] == "skipped"]
    assert all(re.search(r"source jaffle\.raw_customers is warn-stale: age 13h\d\dm > 12h "
                         r"\(freshness gate: warn\)", node["message"]) for node in skipped)
    # A warn-stale source passes an error gate: the flag wins over eltkit.yml.
    result, run = run_json(built_sample, "run", "--exclude", "tag:extract",
                           "--freshness-gate", "error")
    assert result.returncode == 0, result.stderr
    assert set(by_status(run)) == {"success"}
    assert checks_of(built_sample, run["id"])["jaffle.raw_customers"][0] == "warn"


def test_failing_freshness_query_is_a_recorded_runtime_error_and_gates(
        built_sample: Path) -> None:
    with duckdb.connect(str(built_sample / "target" / "jaffle.duckdb")) as db:
        db.execute("drop table raw.raw_payments")
    result, run = run_json(built_sample, "run", "--exclude", "tag:extract")
    assert result.returncode == 1
    expected = models_downstream_of(built_sample, "jaffle.raw_payments")
    statuses = by_status(run)
    assert statuses["skipped"] == expected
    assert statuses["success"] and "error" not in statuses  # the others ran and passed
    for node in run["nodes"]:
        if node["status"] == "skipped":
            assert node["message"].startswith(
                "skipped: source jaffle.raw_payments freshness check failed (runtime error): ")
            assert "raw_payments" in node["message"].split("(runtime error): ", 1)[1]
    status, message = checks_of(built_sample, run["id"])["jaffle.raw_payments"]
    assert status == "runtime error" and message and "raw_payments" in message


def test_fresh_sample_build_passes_its_own_gate(built_sample: Path) -> None:
    """The README's first command with the gate on: the build that the fixture ran."""
    with sqlite3.connect(built_sample / ".eltkit" / "history.db") as db:
        (run_id, status), = db.execute("SELECT id, status FROM runs").fetchall()
    assert status == "success"
    assert {source: status for source, (status, _) in checks_of(built_sample, run_id).items()
            } == {"jaffle.raw_orders": "pass", "jaffle.raw_customers": "pass",
                  "jaffle.raw_payments": "pass"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_tui_shows_the_skip_reason(built_sample: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from eltkit.tui.screens.run import RunScreen
    from eltkit.tui.screens.runs import RunsScreen
    from tests.tui.helpers import app_for, screen_text, wait_for, wait_loaded

    make_stale(built_sample, "extract_orders", 30)
    result = run_cli("run", "-s", "stg_orders", cwd=built_sample)
    assert result.returncode == 1
    # The summary names the stale source once.
    assert re.search(r"SKIPPED 1 node: source jaffle\.raw_orders is error-stale", result.stdout)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    app = app_for(built_sample)
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_loaded(pilot, RunsScreen)
        await pilot.press("enter")
        await wait_loaded(pilot, RunScreen)
        await wait_for(pilot, lambda: "error-stale" in screen_text(app), what="the reason")
        assert "source jaffle.raw_orders is error-stale: age 30h" in screen_text(app)


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "expected"), [
    ("freshness:\n  gate: maybe\n",
     r"eltkit\.yml:\d+: freshness\.gate: Input should be 'off', 'warn' or 'error'"),
    ("freshness:\n  gate: true\n",
     r"eltkit\.yml:\d+: freshness\.gate: .*write the gate as warn or error"),
    ("freshness:\n  gat: error\n",
     r"eltkit\.yml:\d+: freshness\.gat: unknown key; allowed here: gate"),
    ("freshness: error\n", r"eltkit\.yml:\d+: freshness: "),
])
def test_bad_gate_config_exits_2_naming_file_and_line(sample_project: Path, setting: str,
                                                      expected: str) -> None:
    config = sample_project / "eltkit.yml"
    text = config.read_text()
    start = text.index("freshness:")
    config.write_text(text[:start] + setting)
    line = text[:start].count("\n") + 1
    result = run_cli("run", cwd=sample_project)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert re.search(expected, result.stderr), result.stderr
    assert f"eltkit.yml:{line}" in result.stderr or f"eltkit.yml:{line + 1}" in result.stderr


def test_bad_gate_flag_exits_2(sample_project: Path) -> None:
    result = run_cli("build", "--freshness-gate", "maybe", cwd=sample_project)
    assert result.returncode == 2
    assert "'maybe' is not one of 'off', 'warn', 'error'" in result.stderr


def test_yaml_off_is_the_word_off(tmp_path: Path) -> None:
    path = tmp_path / "eltkit.yml"
    path.write_text("freshness:\n  gate: off\n")  # YAML 1.1 reads a bare off as false
    assert load_config(path).freshness.gate == "off"
    path.write_text("dbt: {}\n")
    assert load_config(path).freshness.gate == "off"  # the default


def test_gate_on_a_target_eltkit_cannot_check_is_a_config_error(sample_template: Path) -> None:
    project = load_project(sample_template, parse=False)
    gate = plan_gate(make_plan(project.graph, "run", project.graph.nodes), "error")
    assert gate is not None
    postgres = Target("jaffle", "prod", "postgres", None, 4)
    with pytest.raises(ConfigError, match=r"^eltkit\.yml: freshness\.gate is error, but eltkit "
                       r"checks freshness on DuckDB targets only and target prod is postgres; "
                       r"set freshness: \{gate: off\} or pass --freshness-gate off$"):
        require_checkable(gate, postgres, "eltkit.yml")


# -- the rules, without a run ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "level", "gated"), [
    ("pass", "warn", False), ("warn", "warn", True), ("error", "warn", True),
    ("runtime error", "warn", True), ("pass", "error", False), ("warn", "error", False),
    ("error", "error", True), ("runtime error", "error", True), ("error", "off", False),
    ("runtime error", "off", False),
])
def test_which_statuses_fail_which_gate(status: str, level: str, gated: bool) -> None:
    assert fails_gate(status, level) is gated


def test_dev_and_pytest_runs_are_ungated_unless_asked() -> None:
    assert gate_level("error", None, "cli") == "error"
    assert gate_level("error", None, "schedule") == "error"
    assert gate_level("error", None, "dev") == "off"
    assert gate_level("error", None, "pytest") == "off"
    assert gate_level("error", "warn", "pytest") == "warn"
    assert gate_level("warn", "off", "cli") == "off"
    with pytest.raises(ConfigError, match="must be one of off, warn, error, not 'maybe'"):
        gate_level("off", "maybe", "cli")


def test_run_gate_checks_each_source_once_after_its_loaders(sample_template: Path) -> None:
    """The gate a run's coordinator calls, on an in-memory warehouse: sources with a
    planned loader wait for it; ages are taken at the run's data interval end."""
    project = load_project(sample_template, parse=False)
    plan = make_plan(project.graph, "run", project.graph.nodes)
    gate = plan_gate(plan, "error")
    assert gate is not None
    assert gate.producers["source.jaffle.jaffle.raw_orders"] == {"task.extract_orders"}
    as_of = datetime(2026, 3, 2, 6, 0)  # a backfill: this interval ended long ago
    db = duckdb.connect()
    db.execute("ATTACH ':memory:' AS jaffle")
    db.execute("CREATE SCHEMA jaffle.raw")
    for table, age in (("raw_orders", timedelta(hours=30)), ("raw_customers", timedelta(hours=1))):
        db.execute(f"CREATE TABLE jaffle.raw.{table} (_loaded_at TIMESTAMP)")
        db.execute(f"INSERT INTO jaffle.raw.{table} VALUES (?)", [as_of - age])
    recorded: list[FreshnessResult] = []
    logged: list[str] = []
    run_gate = RunGate(gate, db.cursor, recorded.extend, logged.append,
                       as_of.replace(tzinfo=UTC))

    assert run_gate(None) == {}  # every source waits for its extract task
    assert recorded == []
    skips = run_gate("task.extract_orders")
    assert set(skips) == set(gate.downstream["source.jaffle.jaffle.raw_orders"])
    assert set(skips.values()) == {"skipped: source jaffle.raw_orders is error-stale: "
                                   "age 30h > 24h (freshness gate: error)"}
    assert run_gate("task.extract_customers") == {}  # 1h old at the interval's end
    assert run_gate("task.extract_orders") == {}  # checked once only
    skips = run_gate("task.extract_payments")  # its table does not exist
    assert [r.status for r in recorded] == ["error", "pass", RUNTIME_ERROR]
    assert all("raw_payments freshness check failed (runtime error)" in reason
               for reason in skips.values())
    assert len(logged) == 2
