"""`eltkit ls` reuses a current manifest without importing dbt, and reparses when stale."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import run_cli


def _without_dbt(tmp_path: Path) -> dict[str, str]:
    """An environment where `import dbt` fails loudly, to prove dbt is not imported."""
    stub = tmp_path / "stub" / "dbt"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('dbt was imported')\n")
    return {"PYTHONPATH": str(stub.parent)}


def test_current_manifest_needs_no_dbt(mini_project: Path, tmp_path: Path) -> None:
    result = run_cli("ls", "-s", "+c", cwd=mini_project, env=_without_dbt(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "c" in result.lines


def test_edited_model_triggers_a_parse(mini_project: Path, tmp_path: Path) -> None:
    model = mini_project / "models" / "sub" / "b.sql"
    model.write_text("{{ config(tags=['fresh']) }}\nselect * from {{ ref('a') }}\n")
    blocked = run_cli("ls", cwd=mini_project, env=_without_dbt(tmp_path))
    assert blocked.returncode != 0
    assert "dbt was imported" in blocked.stderr
    parsed = run_cli("ls", "-s", "tag:fresh", cwd=mini_project)
    assert parsed.lines == ["b"]


def test_deleted_model_triggers_a_parse(mini_project: Path, tmp_path: Path) -> None:
    (mini_project / "models" / "sub" / "c.sql").unlink()
    (mini_project / "tasks.py").write_text(
        (mini_project / "tasks.py").read_text().replace('depends_on=["c"]', 'depends_on=["b"]'))
    os.utime(mini_project / "tasks.py", (1, 1))  # an old mtime: only the file set changed
    (mini_project / "models" / "schema.yml").write_text(
        (mini_project / "models" / "schema.yml").read_text().split("  - name: c")[0])
    os.utime(mini_project / "models" / "schema.yml", (1, 1))
    result = run_cli("ls", "--resource-type", "model", cwd=mini_project)
    assert result.lines == ["a", "b"]


def test_no_parse_flag_uses_the_manifest_as_it_is(mini_project: Path, tmp_path: Path) -> None:
    (mini_project / "models" / "sub" / "b.sql").write_text("select 1 as id\n")
    result = run_cli("ls", "--no-parse", "-s", "b", cwd=mini_project, env=_without_dbt(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.lines == ["b"]


def test_other_target_triggers_a_parse(mini_project: Path, tmp_path: Path) -> None:
    blocked = run_cli("ls", "--vars", "{x: 1}", cwd=mini_project, env=_without_dbt(tmp_path))
    assert "dbt was imported" in blocked.stderr


def test_files_landing_for_an_on_file_job_need_no_parse(jobs_project: Path,
                                                        tmp_path: Path) -> None:
    no_dbt = _without_dbt(tmp_path)
    (jobs_project / "landing" / "orders.csv").write_text("id\n1\n")
    result = run_cli("ls", cwd=jobs_project, env=no_dbt)
    assert result.returncode == 0, result.stderr
    assert "interval_log" in result.lines
    # Any other new file in the project still counts.
    (jobs_project / "notes.sql").write_text("select 1\n")
    blocked = run_cli("ls", cwd=jobs_project, env=no_dbt)
    assert "dbt was imported" in blocked.stderr
