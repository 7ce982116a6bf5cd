"""eltkit.yml validation, through the library API."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltkit.config import load_config
from eltkit.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "eltkit.yml"
    path.write_text(text)
    return path


def test_full_config_round_trips(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
dbt:
  project_dir: dbt
  profiles_dir: profiles
  target: prod
  threads: 8
  vars: {day: "2026-11-01"}
tasks: [tasks/extract.py, my_pkg.tasks]
history: .eltkit/history.db
run:
  default_retries: 2
  pools: {warehouse: 1}
jobs:
  nightly: {schedule: "0 5 * * *", steps: [build]}
"""))
    assert config.dbt.project_dir == Path("dbt")
    assert config.dbt.threads == 8
    assert config.dbt.vars == {"day": "2026-11-01"}
    assert config.tasks == ["tasks/extract.py", "my_pkg.tasks"]
    assert config.run.pools == {"warehouse": 1}
    assert config.jobs["nightly"].schedule == "0 5 * * *"
    assert [step.kind for step in config.jobs["nightly"].steps] == ["build"]


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "# nothing yet\n"))
    assert config.dbt.project_dir == Path(".")
    assert config.tasks == []


def test_error_names_the_line_of_the_nested_key(tmp_path: Path) -> None:
    path = write(tmp_path, "dbt:\n  target: dev\n\n  threads: -3\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}:4: dbt.threads: ")
    assert "greater than or equal to 1" in str(raised.value)


def test_several_problems_are_counted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\(and 1 more problem\)"):
        load_config(write(tmp_path, "dbt:\n  threads: x\nbogus: 1\n"))
