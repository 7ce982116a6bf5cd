"""The fixtures: one project per worker, one database per test (or module, or class).

pytest-mock's habit: one generator serves every scope (``eltkit``,
``eltkit_class``, ``eltkit_module``), so the scopes cannot drift apart. A wider
scope builds once and lets many tests assert on the same tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_eltkit.state import session_for, state_of

MARKER = "eltkit"
MARKER_HELP = (
    "eltkit(select=None, exclude=None, vars=None, command='build', "
    "indirect_selection='buildable'): run this selection into the test's database before "
    "the test body (a failed run fails the test's setup with the run's summary)")


@pytest.fixture(scope="session")
def eltkit_project(pytestconfig: pytest.Config) -> Any:
    """The worker's prepared project: a private copy, parsed once, seeds in a template."""
    return session_for(pytestconfig)


@pytest.fixture
def eltkit(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A pipeline harness bound to a fresh DuckDB file for this test."""
    yield from _harness(request)


@pytest.fixture(scope="class")
def eltkit_class(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One harness (one database) shared by the tests of a class: build once, assert many."""
    yield from _harness(request)


@pytest.fixture(scope="module")
def eltkit_module(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One harness (one database) shared by the tests of a module: build once, assert many."""
    yield from _harness(request)


def _harness(request: pytest.FixtureRequest) -> Iterator[Any]:
    from pytest_eltkit.harness import Pipeline

    session = request.getfixturevalue("eltkit_project")
    node = request.node
    pipeline = Pipeline(session, session.new_workspace(node.nodeid.replace("::", "-")))
    marker = node.get_closest_marker(MARKER)
    if marker is not None:
        run_marker(pipeline, marker)
    yield pipeline
    _finish(request, pipeline)


def run_marker(pipeline: Any, marker: pytest.Mark) -> None:
    __tracebackhide__ = True
    options = dict(marker.kwargs)
    if marker.args:
        options.setdefault("select", marker.args[0])
    command = options.pop("command", "build")
    if command not in ("run", "build", "test"):
        raise pytest.UsageError(f"@pytest.mark.eltkit(command={command!r}): use 'run', "
                                "'build' or 'test'")
    result = getattr(pipeline, command)(**options)
    if not result.ok:
        pytest.fail(f"@pytest.mark.eltkit: {command} failed before the test body\n"
                    + result.summary(), pytrace=False)


def _finish(request: pytest.FixtureRequest, pipeline: Any) -> None:
    """Delete the harness's files, or keep them when its test failed and the user asked."""
    state = state_of(request.config)
    nodeid = request.node.nodeid
    failed = any(f == nodeid or f.startswith(nodeid + "::") for f in state.failed)
    root: Path = pipeline.workspace.root
    if failed and state.settings.keep_failed:
        dest = state.settings.keep_dir / "".join(
            ch if ch.isalnum() or ch in "-_." else "_" for ch in nodeid)[:120]
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(root, dest)
        state.kept_pending.append(dest)
    shutil.rmtree(root, ignore_errors=True)
