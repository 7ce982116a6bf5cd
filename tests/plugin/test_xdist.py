"""Two xdist workers: each its own project copy, DuckDB files and target/, no lock errors.

``--dist each`` makes both workers run every test at once, so each test's rows
are written by two processes at the same time; a shared file would show.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# Each test gives its own order ids and reads back only those: a shared database
# would show another test's rows. Each records the files it used.
ISOLATION_TESTS = '''
import os
import pytest

@pytest.mark.parametrize("first_id", [100, 200, 300, 400])
def test_own_database(eltkit, first_id):
    first_id += 1000 * int(os.environ["PYTEST_XDIST_WORKER"][2:])  # gw1 writes other ids
    rows = [{"id": first_id + n, "customer_id": 1, "status": "completed",
             "amount_cents": 100} for n in range(3)]
    eltkit.given_source("jaffle", "raw_orders", rows=rows)
    result = eltkit.run(select="stg_orders fct_orders")
    assert result.ok, result.summary()
    assert eltkit.table("fct_orders", columns=["order_id"], order_by="order_id") == [
        {"order_id": first_id + n} for n in range(3)]
    with open(os.environ["PATHS_FILE"], "a") as out:
        out.write(f"{os.environ.get('PYTEST_XDIST_WORKER')} {eltkit.database} "
                  f"{eltkit.project.dbt_project_dir}\\n")
'''


@pytest.mark.dbt
def test_two_workers_share_no_files(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                    run_user_tests: Callable[..., pytest.RunResult]) -> None:
    paths_file = pytester.path / "paths.txt"
    monkeypatch.setenv("PATHS_FILE", str(paths_file))
    pytester.makepyfile(test_isolation=ISOLATION_TESTS)
    result = run_user_tests("-n", "2", "-p", "xdist", "--dist", "each")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.OK, out
    result.assert_outcomes(passed=8)
    assert "lock" not in out.lower(), out

    lines = [line.split() for line in paths_file.read_text().splitlines()]
    workers = {worker for worker, _, _ in lines}
    databases = [database for _, database, _ in lines]
    projects = {worker: project for worker, _, project in lines}
    assert workers == {"gw0", "gw1"}, lines
    assert len(lines) == 8 and len(set(databases)) == 8, databases
    assert projects["gw0"] != projects["gw1"], projects
    for database in databases:
        assert not Path(database).exists(), "a passing test's database is removed"
