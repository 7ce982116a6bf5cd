"""`eltkit ls` and `eltkit dag` as a user runs them: a subprocess in a project."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_ls_lists_dbt_nodes_and_tasks_by_name(mini_project: Path) -> None:
    result = run_cli("ls", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    assert result.lines == [
        "a", "b", "c", "src.t1", "src.t2", "export_c", "load_t1", "load_t2",
        "not_null_a_id", "relationships_c_id__id__ref_a_", "unique_a_id",
    ]


def test_ls_json_has_one_object_a_line_with_ids(mini_project: Path) -> None:
    result = run_cli("ls", "--select", "+c", "--json", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.lines]
    by_id = {row["unique_id"]: row for row in rows}
    assert set(by_id) >= {"model.mini.a", "model.mini.b", "model.mini.c", "task.load_t1",
                          "source.mini.src.t1", "source.mini.src.t2"}
    assert by_id["task.load_t1"]["resource_type"] == "task"
    assert by_id["source.mini.src.t1"]["depends_on"] == ["task.load_t1"]
    assert all({"unique_id", "resource_type", "name"} <= set(row) for row in rows)


def test_task_selection_reaches_models_downstream(mini_project: Path) -> None:
    result = run_cli("ls", "-s", "task:load_t1+", "--resource-type", "model", cwd=mini_project)
    assert result.lines == ["a", "b", "c"]


def test_task_depending_on_a_model_is_its_child(mini_project: Path) -> None:
    result = run_cli("ls", "-s", "c+", "--resource-type", "task", cwd=mini_project)
    assert result.lines == ["export_c"]


def test_project_flag_works_from_anywhere(mini_project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("ls", "--project", str(mini_project), "-s", "tag:extract", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.lines == ["load_t1", "load_t2"]


def test_project_is_found_from_a_subfolder(mini_project: Path) -> None:
    result = run_cli("ls", "-s", "b", cwd=mini_project / "models" / "sub")
    assert result.lines == ["b"]


def test_plain_dbt_project_without_eltkit_yml(mini_project: Path) -> None:
    (mini_project / "eltkit.yml").unlink()
    result = run_cli("ls", "--resource-type", "task", "--resource-type", "model",
                     cwd=mini_project)
    assert result.returncode == 0, result.stderr
    assert result.lines == ["a", "b", "c"]


def test_output_selector_and_path_match_dbt_formats(mini_project: Path) -> None:
    selectors = run_cli("ls", "-s", "c", "source:src", "--output", "selector", cwd=mini_project)
    assert "mini.sub.c" in selectors.lines
    assert "source:mini.src.t1" in selectors.lines
    paths = run_cli("ls", "-s", "c", "--output", "path", "--resource-type", "model",
                    cwd=mini_project)
    assert paths.lines == ["models/sub/c.sql"]


def test_unknown_node_name_warns_and_selects_nothing(mini_project: Path) -> None:
    result = run_cli("ls", "-s", "no_such_model", cwd=mini_project)
    assert result.returncode == 0
    assert result.stdout == ""
    assert "does not match any enabled nodes" in result.stderr


def test_dag_layers_put_parents_first(mini_project: Path) -> None:
    result = run_cli("dag", "-s", "+c+", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    order = [text.index(name) for name in ("load_t1", "src.t1", "● a", "● b", "● c", "export_c")]
    assert order == sorted(order)
    assert "← b, src.t2" in text


def test_dag_json_layers(mini_project: Path) -> None:
    result = run_cli("dag", "--json", "-s", "task:load_t1+", cwd=mini_project)
    layers = json.loads(result.stdout)
    assert layers == [["task.load_t1"], ["source.mini.src.t1"], ["model.mini.a"],
                      ["model.mini.b"], ["model.mini.c"], ["task.export_c"]]


def test_dag_tree_marks_repeated_nodes(mini_project: Path) -> None:
    result = run_cli("dag", "--format", "tree", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    assert "(see above)" in result.stdout
    assert "mini: 8 nodes" in result.stdout
