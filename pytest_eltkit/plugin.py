"""The pytest plugin entry point.

Fixtures that build pipelines against DuckDB arrive with the plugin proper;
for now the plugin only reports the versions a pipeline test depends on, so a
CI log says which dbt and DuckDB produced a result. It imports no dbt code,
keeping pytest start-up unaffected for projects that do not use it.
"""

from __future__ import annotations

from importlib import metadata

import pytest

_REPORTED = ("eltkit", "dbt-core", "dbt-duckdb", "duckdb")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def pytest_report_header(config: pytest.Config) -> str:
    return "eltkit: " + ", ".join(f"{name} {_version(name)}" for name in _REPORTED)
