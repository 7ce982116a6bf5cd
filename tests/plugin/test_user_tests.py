"""A user's pipeline tests, passing and failing, as the user sees them in the terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from tests.plugin.conftest import ORDERS, junit_outcomes

USER_TESTS = f'''
import subprocess
import sys

import pytest

ORDERS = {ORDERS}


def test_completed_orders_only(eltkit):
    eltkit.given_source("jaffle", "raw_orders", rows=ORDERS)
    result = eltkit.build(select="+fct_orders")
    assert result.ok, result.summary()
    assert "extract_orders" not in result
    assert eltkit.table("fct_orders", order_by="order_id") == [
        {{"order_id": 1, "customer_id": 7, "amount": 12.0}},
    ]
    # Nothing keeps the file open after the build: another process can write it.
    probe = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1]).close()",
         str(eltkit.database)], capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr


def test_wrong_expectation(eltkit):
    eltkit.given_source("jaffle", "raw_orders", rows=ORDERS)
    assert eltkit.run(select="stg_orders fct_orders").ok
    assert eltkit.table("fct_orders", order_by="order_id") == [
        {{"order_id": 1, "customer_id": 7, "amount": 12.5}},
        {{"order_id": 2, "customer_id": 7, "amount": 5.0}},
    ]


def test_duplicate_orders_fail_the_build(eltkit):
    eltkit.given_source("jaffle", "raw_orders", rows=ORDERS + ORDERS)
    result = eltkit.build(select="+fct_orders")
    assert result.ok, result.summary()


@pytest.mark.eltkit(select="stg_order_status_labels")
def test_marker_builds_before_the_body(eltkit):
    # The view exists only because the marker built it; its rows come from the seed.
    assert eltkit.table("stg_order_status_labels").count() == 5


@pytest.mark.eltkit(select="stg_order_status_labels")
class TestOneBuildForTheClass:
    seen = []

    def test_first(self, eltkit_class):
        self.seen.append((eltkit_class.database, len(eltkit_class.runs)))
        assert eltkit_class.table("stg_order_status_labels").count() == 5

    def test_second(self, eltkit_class):
        self.seen.append((eltkit_class.database, len(eltkit_class.runs)))
        assert self.seen[0] == self.seen[1] == (eltkit_class.database, 1)


def test_unknown_source(eltkit):
    eltkit.given_source("jaffle", "raw_orderz", rows=[{{"id": 1}}])


def test_unknown_column(eltkit):
    eltkit.given_source("jaffle", "raw_orders", rows=[{{"id": 1, "amount": 3}}])


def test_selection_matches_nothing(eltkit):
    eltkit.build(select="fct_orderz")
'''


@pytest.mark.dbt
def test_user_tests_pass_fail_and_explain(
        pytester: pytest.Pytester, run_user_tests: Callable[..., pytest.RunResult]) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    kept = pytester.path / "kept"
    result = run_user_tests("-v", "--eltkit-keep-failed", f"--eltkit-keep-dir={kept}")
    out = result.stdout.str()
    outcomes = junit_outcomes(pytester.path / "junit.xml")
    assert outcomes == {
        "test_user::test_completed_orders_only": "passed",
        "test_user::test_wrong_expectation": "failed",
        "test_user::test_duplicate_orders_fail_the_build": "failed",
        "test_user::test_marker_builds_before_the_body": "passed",
        "test_user.TestOneBuildForTheClass::test_first": "passed",
        "test_user.TestOneBuildForTheClass::test_second": "passed",
        "test_user::test_unknown_source": "failed",
        "test_user::test_unknown_column": "failed",
        "test_user::test_selection_matches_nothing": "failed",
    }, out

    # The table diff: per row, per column, with Python and DuckDB types.
    result.stdout.fnmatch_lines([
        '*fct_orders order by "order_id": 1 row(s) in the table, 2 expected, compared in '
        'this order*',
        "*row 0:*",
        "*    amount: table 12.0 (float, DOUBLE) != expected 12.5 (float)*",
        "*row 1: missing from the table: {order_id: 2, customer_id: 7, amount: 5.0}*",
    ])
    # The failed build names the failing tests, dbt's message, compiled SQL and log tail.
    result.stdout.fnmatch_lines([
        "*eltkit build --select +fct_orders: failed*",
        "*ERROR     test source_unique_jaffle_raw_orders_id (*): Got 2 results, configured "
        "to fail if != 0*",
        "*compiled SQL: */target/compiled/jaffle/models/staging/_sources.yml/"
        "source_unique_jaffle_raw_orders_id.sql*",
        "*SKIPPED   model stg_orders*",
        "*not run: task extract_orders (source jaffle.raw_orders given by the test)*",
        "*dbt log tail (*/logs/dbt.log):*",
        "*[[]error] Failure in test source_unique_jaffle_raw_orders_id (models/staging/"
        "_sources.yml)*",
    ])
    # Bad input: one line naming what is wrong and what exists.
    result.stdout.fnmatch_lines([
        "*HarnessError: project jaffle has no source jaffle.raw_orderz; did you mean "
        "jaffle.raw_orders? (sources are: jaffle.raw_customers, jaffle.raw_orders, "
        "jaffle.raw_payments)*"])
    result.stdout.fnmatch_lines([
        "*GivenRowsError: source jaffle.raw_orders has no column 'amount'; its columns are "
        "id, customer_id, order_date, status, amount_cents, _loaded_at (declared in "
        "models/staging/_sources.yml)*"])
    result.stdout.fnmatch_lines([
        "*NothingSelectedError: build(select='fct_orderz') matches no node of project jaffle*"])

    # --eltkit-keep-failed: failed tests' files are kept and listed; passed ones are not.
    kept_dirs = {path.name: path for path in kept.iterdir()}
    assert any("test_wrong_expectation" in name for name in kept_dirs), kept_dirs
    assert not any("test_completed_orders_only" in name for name in kept_dirs), kept_dirs
    wrong = next(path for name, path in kept_dirs.items() if "test_wrong_expectation" in name)
    result.stdout.fnmatch_lines(["*eltkit: kept DuckDB file, target/ and logs/ of failed tests*",
                                 f"test_user.py::test_wrong_expectation: {wrong}"])
    assert (wrong / "target" / "compiled").is_dir()
    connection = duckdb.connect(str(wrong / "warehouse.duckdb"), read_only=True)
    try:
        assert connection.execute("select order_id, amount from fct_orders").fetchall() == [
            (1, 12.0)]
    finally:
        connection.close()


@pytest.mark.dbt
def test_project_that_does_not_parse_stops_the_session_once(
        pytester: pytest.Pytester, run_user_tests: Callable[..., pytest.RunResult]) -> None:
    from tests.plugin.conftest import copy_sample

    project = copy_sample(pytester.path / "broken")
    model = project / "models" / "marts" / "fct_orders.sql"
    model.write_text(model.read_text() + "\nunion all select * from {{ ref('no_such_model') }}\n")
    pytester.makepyfile(test_a="def test_one(eltkit):\n    pass\n\n"
                               "def test_two(eltkit):\n    pass\n\n"
                               "def test_three(eltkit):\n    pass\n")
    result = run_user_tests(project=project)
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, out
    assert out.count("eltkit: dbt could not parse") == 1, out
    assert "no_such_model" in out
    assert Path(pytester.path / "junit.xml").read_text().count("<testcase") <= 1
