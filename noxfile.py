"""Developer sessions: `nox -s tests`, `nox -s lint typecheck`, `nox -s bench`."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

SOURCES = ["eltkit", "pytest_eltkit", "tests", "benchmarks", "sample_dbt_project", "noxfile.py"]


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, in parallel on every core (pytest-xdist)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", *SOURCES)


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy")
    session.run("mypy", "--strict", "benchmarks")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against dbt itself; writes docs/benchmarks.md. `-- --quick` for a smoke run."""
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks.run", *session.posargs)
