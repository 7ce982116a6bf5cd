"""Every kind of bad input ends in one clear line, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli


def assert_clean_usage_error(result: CliResult, *fragments: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        ("tg:daily", ("unknown selector method 'tg'", "methods are:")),
        ("+a++", ("malformed selector '+a++'",)),
        ("tag:", ("malformed selector 'tag:'", "write a value")),
        ("@a+", ('"@" prefix and "+" suffix are incompatible',)),
        ("config:view", ("config needs a key",)),
        ("resource_type:table", ("invalid resource_type selector 'table'",)),
        ("a,,b", ("an empty part around ','",)),
        ("source:a.b.c.d", ("invalid source selector value",)),
    ],
)
def test_malformed_selection(mini_project: Path, expression: str,
                             fragments: tuple[str, ...]) -> None:
    assert_clean_usage_error(run_cli("ls", "-s", expression, cwd=mini_project), *fragments)


def test_state_selection_without_state_flag(mini_project: Path) -> None:
    assert_clean_usage_error(run_cli("ls", "-s", "state:modified", cwd=mini_project),
                             "pass --state PATH")


def test_debug_shows_the_traceback(mini_project: Path) -> None:
    result = run_cli("--debug", "ls", "-s", "tg:daily", cwd=mini_project)
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_cycle_through_a_task(mini_project: Path) -> None:
    # load_t1 produces src.t1, which a reads; depending on b closes the loop.
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace(
        '@task(produces=["source:src.t1"], tags=["extract"])',
        '@task(produces=["source:src.t1"], depends_on=["b"], tags=["extract"])'))
    assert "depends_on=[\"b\"]" in tasks.read_text()
    result = run_cli("ls", cwd=mini_project)
    assert_clean_usage_error(result, "dependency cycle:")
    line = result.stderr
    for uid in ("task.load_t1", "source.mini.src.t1", "model.mini.a", "model.mini.b"):
        assert uid in line


def test_task_producing_an_undeclared_source(mini_project: Path) -> None:
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace("source:src.t1", "source:src.t9"))
    assert_clean_usage_error(
        run_cli("ls", cwd=mini_project),
        "tasks.py", "task load_t1 produces 'source:src.t9'", "no dbt YAML declares source",
    )


def test_task_given_a_string_where_a_list_belongs_names_the_users_line(
        mini_project: Path) -> None:
    tasks = mini_project / "tasks.py"
    text = tasks.read_text().replace('produces=["source:src.t1"]', 'produces="source:src.t1"')
    tasks.write_text(text)
    line = next(number for number, content in enumerate(text.splitlines(), start=1)
                if 'produces="source:src.t1"' in content)
    result = run_cli("ls", cwd=mini_project)
    assert_clean_usage_error(result, f"tasks.py:{line}: importing task module",
                             "take a list of strings")
    assert "eltkit/tasks.py" not in result.stderr


def test_task_depending_on_an_unknown_node(mini_project: Path) -> None:
    tasks = mini_project / "tasks.py"
    tasks.write_text(tasks.read_text().replace('depends_on=["c"]', 'depends_on=["cc"]'))
    assert_clean_usage_error(run_cli("ls", cwd=mini_project),
                             "task export_c depends on 'cc'", "names no model")


def test_task_module_that_fails_to_import(mini_project: Path) -> None:
    (mini_project / "tasks.py").write_text("import no_such_dependency_xyz\n")
    assert_clean_usage_error(run_cli("ls", cwd=mini_project),
                             "tasks.py:1", "importing task module tasks.py failed",
                             "No module named 'no_such_dependency_xyz'")


def test_missing_task_module(mini_project: Path) -> None:
    (mini_project / "tasks.py").unlink()
    assert_clean_usage_error(run_cli("ls", cwd=mini_project), "eltkit.yml", "tasks.py",
                             "no such file")


def test_missing_dbt_project_yml(mini_project: Path) -> None:
    (mini_project / "dbt_project.yml").unlink()
    assert_clean_usage_error(run_cli("ls", cwd=mini_project), "eltkit.yml",
                             "no dbt_project.yml", "dbt.project_dir")


def test_no_project_anywhere(tmp_path: Path) -> None:
    assert_clean_usage_error(run_cli("ls", cwd=tmp_path),
                             "no eltkit.yml or dbt_project.yml", "--project")


def test_project_flag_pointing_nowhere(tmp_path: Path) -> None:
    assert_clean_usage_error(run_cli("ls", "--project", str(tmp_path / "nope"), cwd=tmp_path),
                             "no such project folder")


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("dbt:\n  threads: many\n", ("eltkit.yml:2: dbt.threads:", "valid integer")),
        ("dbt:\n  profiles_dir: .\n  treads: 4\n",
         ("eltkit.yml:3: dbt.treads: unknown key", "threads")),
        ("tasks: tasks.py\n", ("eltkit.yml:1: tasks:", "valid list")),
        ("dbt: [1, 2\n", ("eltkit.yml:", "not valid YAML")),
        ("- just\n- a list\n", ("eltkit.yml:1:", "must be a mapping")),
        ("run:\n  pools:\n    warehouse: 0\n", ("eltkit.yml:2: run.pools:", "at least 1 slot")),
    ],
)
def test_malformed_eltkit_yml(mini_project: Path, content: str,
                              fragments: tuple[str, ...]) -> None:
    (mini_project / "eltkit.yml").write_text(content)
    assert_clean_usage_error(run_cli("ls", cwd=mini_project), *fragments)


def test_dbt_parse_error_in_a_model(mini_project: Path) -> None:
    (mini_project / "models" / "sub" / "b.sql").write_text(
        "select * from {{ ref('a') }\n")
    result = run_cli("ls", cwd=mini_project)
    assert_clean_usage_error(result, "dbt could not parse", "models/sub/b.sql")


def test_ref_to_a_missing_model(mini_project: Path) -> None:
    (mini_project / "models" / "sub" / "b.sql").write_text("select * from {{ ref('zz') }}\n")
    assert_clean_usage_error(run_cli("ls", cwd=mini_project), "dbt could not parse", "zz")


def test_selector_missing_from_selectors_yml(mini_project: Path) -> None:
    assert_clean_usage_error(run_cli("ls", "--selector", "nightly", cwd=mini_project),
                             "selectors.yml", "--selector nightly")


def test_bad_vars(mini_project: Path) -> None:
    result = run_cli("ls", "--vars", "[1, 2]", cwd=mini_project)
    assert result.returncode == 2
    assert "--vars" in result.stderr
    assert "Traceback" not in result.stderr
