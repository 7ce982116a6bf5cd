"""The sample project end to end, as the README's first command runs it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.conftest import run_cli


def query(project: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(project / "target" / "jaffle.duckdb"), read_only=True) as db:
        return db.execute(sql).fetchall()


def test_build_loads_raw_data_and_builds_every_layer(sample_project: Path) -> None:
    result = run_cli("build", "--json", cwd=sample_project)
    assert result.returncode == 0, result.stdout + result.stderr
    run = json.loads(result.stdout)
    assert run["status"] == "success"
    kinds: dict[str, int] = {}
    for node in run["nodes"]:
        kinds[node["resource_type"]] = kinds.get(node["resource_type"], 0) + 1
    assert kinds["task"] == 3
    assert kinds["seed"] == 3
    assert kinds["snapshot"] == 1
    assert kinds["unit_test"] == 2
    assert kinds["model"] >= 15
    warned = [node["name"] for node in run["nodes"] if node["status"] == "warn"]
    assert warned == ["assert_order_payments_match"]
    raw_completed = query(sample_project,
                          "select count(*) from raw.raw_orders where status = 'completed'")
    assert query(sample_project, "select count(*) from fct_orders") == raw_completed
    assert query(sample_project, "select round(sum(amount) * 100) = (select sum(amount_cents) from"
                                 " raw.raw_orders where status = 'completed') from fct_orders"
                 ) == [(True,)]
    columns = query(sample_project, "select column_name from information_schema.columns"
                                    " where table_name = 'fct_orders' order by ordinal_position")
    assert [c[0] for c in columns] == ["order_id", "customer_id", "amount"]


def test_run_of_marts_after_a_build(sample_project: Path) -> None:
    assert run_cli("build", cwd=sample_project).returncode == 0
    result = run_cli("run", "--select", "marts", "--json", cwd=sample_project)
    assert result.returncode == 0, result.stderr
    names = {node["name"] for node in json.loads(result.stdout)["nodes"]}
    assert {"fct_orders", "fct_customers", "orders_incremental"} <= names
    assert all(not name.startswith("stg_") for name in names)


def test_ls_and_dag_on_the_sample(sample_project: Path) -> None:
    marts = run_cli("ls", "--select", "marts", "--resource-type", "model", cwd=sample_project)
    assert "fct_orders" in marts.lines and "stg_orders" not in marts.lines
    tasks = run_cli("ls", "--select", "task:extract_orders+", "--resource-type", "model",
                    cwd=sample_project)
    assert "fct_orders" in tasks.lines and "stg_orders" in tasks.lines
    assert "stg_customers" not in tasks.lines
    dag = run_cli("dag", "--select", "+fct_orders", cwd=sample_project)
    assert dag.returncode == 0
    assert dag.stdout.index("extract_orders") < dag.stdout.index("fct_orders")
