"""Shared fixtures: copies of real projects, parsed once, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# pytester drives the pytest plugin's tests (tests/plugin/). pytest accepts
# pytest_plugins only in a top-level conftest, so it is declared here.
pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"
SAMPLE_PROJECT = REPO / "sample_dbt_project"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 300) -> CliResult:
    """Run `eltkit ARGS` as a user would: a separate process in ``cwd``."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "eltkit.cli", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def _copy_without_outputs(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(
        "target", "logs", "*.duckdb", "*.duckdb.wal", "__pycache__"))
    return dest


def _parsed_template(tmp_path_factory: pytest.TempPathFactory, source: Path, name: str) -> Path:
    template = _copy_without_outputs(source, tmp_path_factory.mktemp(name) / source.name)
    result = run_cli("ls", "--resource-type", "model", cwd=template)
    assert result.returncode == 0, result.stderr
    return template


@pytest.fixture(scope="session")
def mini_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/projects/mini, parsed once per session (manifest in its target/)."""
    return _parsed_template(tmp_path_factory, PROJECTS / "mini", "mini")


@pytest.fixture
def mini_project(mini_template: Path, tmp_path: Path) -> Path:
    """A private, already-parsed copy of the minimal project."""
    return Path(shutil.copytree(mini_template, tmp_path / "mini"))


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project, parsed once per session."""
    return _parsed_template(tmp_path_factory, SAMPLE_PROJECT, "sample")


@pytest.fixture
def sample_project(sample_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(sample_template, tmp_path / "sample_dbt_project"))


@pytest.fixture(scope="session")
def built_sample_template(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project after one `eltkit build`: raw data, models, history."""
    built = Path(shutil.copytree(sample_template, tmp_path_factory.mktemp("built") / "sample"))
    result = run_cli("build", cwd=built)
    assert result.returncode == 0, result.stdout + result.stderr
    return built


@pytest.fixture
def built_sample(built_sample_template: Path, tmp_path: Path) -> Path:
    """A private copy of the built sample project (warehouse and history included)."""
    return Path(shutil.copytree(built_sample_template, tmp_path / "sample_dbt_project"))


@pytest.fixture(scope="session")
def jobs_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/projects/jobs (a task and a model that record their data interval), parsed."""
    return _parsed_template(tmp_path_factory, PROJECTS / "jobs", "jobs")


@pytest.fixture
def jobs_project(jobs_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(jobs_template, tmp_path / "jobs"))


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    return run_cli


@pytest.fixture
def chdir(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    previous = Path.cwd()

    def change(path: Path) -> None:
        os.chdir(path)

    yield change
    os.chdir(previous)
