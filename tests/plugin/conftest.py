"""Helpers for testing the plugin with pytester: user test files run in a subprocess.

Subprocesses, because dbt keeps process-wide state (adapters, flags) and a
user's session must start clean, as it does in CI. Every run shares one pytest
cache folder, so dbt's partial-parse state from one run serves the next.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

# pytester itself is enabled in tests/conftest.py: pytest refuses pytest_plugins in a
# conftest below the top level when the whole suite runs.

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_dbt_project"

#: Rows of raw_orders used by many user tests: one completed order, one returned.
ORDERS = """[
    {"id": 1, "customer_id": 7, "status": "completed", "amount_cents": 1200,
     "_loaded_at": "2026-11-01 06:00"},
    {"id": 2, "customer_id": 7, "status": "returned", "amount_cents": 500,
     "_loaded_at": "2026-11-01 06:00"},
]"""


@pytest.fixture(scope="session")
def shared_cache(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user sessions' pytest cache: this repo's own cache folder when there is one,
    so dbt's partial-parse state of the sample survives from one test run to the next
    (dbt itself checks it against the files)."""
    cache = getattr(pytestconfig, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("eltkit-plugin-tests"))
    return tmp_path_factory.mktemp("pytest-cache")


@pytest.fixture
def run_user_tests(pytester: pytest.Pytester, shared_cache: Path
                   ) -> Callable[..., pytest.RunResult]:
    """Run pytest on the user's files in a subprocess, against the sample project."""

    def run(*args: str, project: Path | None = SAMPLE) -> pytest.RunResult:
        # "--flag=value": pytest would take a bare path argument into account when it
        # looks for the rootdir, and find this repository's ini file.
        options = ["-p", "no:randomly", "-o", f"cache_dir={shared_cache}",
                   f"--junitxml={pytester.path / 'junit.xml'}"]
        if project is not None:
            options.append(f"--eltkit-project-dir={project}")
        return pytester.runpytest_subprocess(*options, *args, timeout=600)

    return run


def copy_sample(dest: Path) -> Path:
    """The sample project copied into a user's repo root (dbt_project.yml at the top)."""
    shutil.copytree(SAMPLE, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        "target", "logs", "*.duckdb", "*.duckdb.wal", "__pycache__", ".eltkit", "tests_pipeline"))
    return dest


def junit_outcomes(path: Path) -> dict[str, str]:
    """classname::name -> passed / failed / error / skipped, from pytest's JUnit XML."""
    outcomes: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag == "failure" else child.tag
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return outcomes
