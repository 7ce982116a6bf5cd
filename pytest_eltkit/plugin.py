"""The pytest plugin entry point (``pytest11``: ``eltkit = "pytest_eltkit.plugin"``).

Hooks only; the work lives in one module per concern: ``options`` (flags and
ini keys), ``session`` (the prepared project per worker), ``fixtures``,
``harness``, ``tables``/``diff`` (readable comparisons) and ``dbt_tests``.
Importing this module imports no dbt or DuckDB code, so a test suite that does
not use the fixtures pays nothing for the plugin being installed.
"""

from __future__ import annotations

from collections.abc import Generator
from importlib import metadata
from typing import Any

import pytest

from pytest_eltkit.fixtures import (  # noqa: F401 - fixtures are found on the plugin module
    MARKER,
    MARKER_HELP,
    eltkit,
    eltkit_class,
    eltkit_module,
    eltkit_project,
)
from pytest_eltkit.options import Settings, add_options
from pytest_eltkit.state import KEPT_PROPERTY, STATE, PluginState, state_of

_REPORTED = ("eltkit", "dbt-core", "dbt-duckdb", "duckdb")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}{MARKER_HELP[len(MARKER):]}")
    config.addinivalue_line("markers", "eltkit_dbt_test: a dbt data test or unit test "
                            "collected by --eltkit-dbt-tests")
    state = PluginState(Settings.from_config(config))
    config.stash[STATE] = state
    config.pluginmanager.register(_KeptFiles(state), "eltkit-kept-files")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.session is not None:
        state.session.close()
        state.session = None


def pytest_report_header(config: pytest.Config) -> str:
    return "eltkit: " + ", ".join(f"{name} {_version(name)}" for name in _REPORTED)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Add dbt tests before -k, -m and --lf filter the items."""
    if state_of(config).settings.dbt_tests:
        from pytest_eltkit.dbt_tests import collect

        items.extend(collect(session))


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any,
                              right: Any) -> list[str] | None:
    from pytest_eltkit.diff import explain

    return explain(op, left, right)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = state_of(item.config)
    if report.failed:
        state.failed.add(item.nodeid)
    if report.when == "teardown" and state.kept_pending:
        report.user_properties.extend((KEPT_PROPERTY, str(p)) for p in state.kept_pending)
        state.kept_pending.clear()
    return report


class _KeptFiles:
    """Collects kept folders from test reports, xdist workers' reports included (they
    reach the controller's hooks), and lists them after the run."""

    def __init__(self, state: PluginState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == KEPT_PROPERTY:
                self.state.kept.append((report.nodeid, str(value)))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.state.kept:
            return
        terminalreporter.section("eltkit: kept DuckDB file, target/ and logs/ of failed tests")
        for nodeid, path in self.state.kept:
            terminalreporter.write_line(f"{nodeid}: {path}")
