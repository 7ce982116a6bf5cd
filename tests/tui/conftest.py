"""Fixtures for the TUI: a real history from real `eltkit build` runs, and a frozen one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from eltkit.project import load_project
from tests.conftest import run_cli
from tests.tui.fixed_jobs import write_fixed_jobs_history
from tests.tui.helpers import write_fixed_history, write_fixed_sample_history


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _colour_as_configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Textual pops NO_COLOR from the environment; keep each test's app independent of it."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    yield


@pytest.fixture(scope="session")
def history_template(mini_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini project after two real builds: one that passed, then one where load_t2 failed.

    Built once a session; tests get copies (``tui_project``).
    """
    project = Path(shutil.copytree(mini_template, tmp_path_factory.mktemp("tui") / "mini"))
    passed = run_cli("build", cwd=project)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    failed = run_cli("build", cwd=project, env={"MINI_FAIL_TIMES": "1000"})
    assert failed.returncode == 1, failed.stdout + failed.stderr
    return project


@pytest.fixture
def tui_project(history_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(history_template, tmp_path / "mini"))


@pytest.fixture
def fixed_project(mini_template: Path, tmp_path: Path) -> Path:
    """The parsed mini project with a history of frozen ids and times (for snapshots)."""
    project = Path(shutil.copytree(mini_template, tmp_path / "mini"))
    write_fixed_history(project / ".eltkit" / "history.db")
    return project


@pytest.fixture
def fixed_sample(built_sample_template: Path, tmp_path: Path) -> Path:
    """The sample after a real `eltkit build` (compiled SQL, warehouse), with its history
    replaced by a frozen one (fixed run, times and freshness checks) for snapshots."""
    project = Path(shutil.copytree(built_sample_template, tmp_path / "sample_dbt_project"))
    for stale in (project / ".eltkit").glob("history.db*"):
        stale.unlink()
    write_fixed_sample_history(project / ".eltkit" / "history.db",
                               load_project(project, parse=False).graph)
    return project


@pytest.fixture
def fixed_jobs_sample(fixed_sample: Path) -> Path:
    """The frozen sample with frozen job runs, a paused job and SLAs in every state."""
    write_fixed_jobs_history(fixed_sample)
    return fixed_sample
