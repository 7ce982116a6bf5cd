"""--eltkit-dbt-tests: dbt data tests and unit tests as pytest items."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.plugin.conftest import copy_sample, junit_outcomes


@pytest.mark.dbt
def test_dbt_tests_are_items_and_a_failing_one_fails(
        pytester: pytest.Pytester, run_user_tests: Callable[..., pytest.RunResult]) -> None:
    project = copy_sample(pytester.path)  # a user's repo whose root is the dbt project
    (project / "tests" / "assert_no_order_over_100_dollars.sql").write_text(
        "-- fails on purpose: the sample has orders above 100 dollars\n"
        "select order_id, amount from {{ ref('fct_orders') }} where amount > 100\n")
    result = run_user_tests(
        "--eltkit-dbt-tests", "-v", "-k",
        "fct_orders_order_id or keeps_completed_only or over_100_dollars or "
        "accepted_values_stg_orders",
        project=None)
    out = result.stdout.str()
    outcomes = junit_outcomes(pytester.path / "junit.xml")
    assert outcomes == {
        "models.marts._marts.yml::not_null_fct_orders_order_id": "passed",
        "models.marts._marts.yml::unique_fct_orders_order_id": "passed",
        "models.marts._marts.yml::test_fct_orders_keeps_completed_only": "passed",
        "models.staging._staging.yml::"
        "accepted_values_stg_orders_status__placed__shipped__completed__return_pending__returned":
            "passed",
        "tests.assert_no_order_over_100_dollars.sql::assert_no_order_over_100_dollars":
            "failed",
    }, out
    result.stdout.fnmatch_lines([
        "*collected 59 items / 54 deselected / 5 selected",
        "models/marts/_marts.yml::not_null_fct_orders_order_id PASSED*",
        "models/marts/_marts.yml::test_fct_orders_keeps_completed_only PASSED*",
        "models/marts/_marts.yml::unique_fct_orders_order_id PASSED*",
        "tests/assert_no_order_over_100_dollars.sql::assert_no_order_over_100_dollars FAILED*",
    ])
    result.stdout.fnmatch_lines([
        "*dbt test assert_no_order_over_100_dollars error: Got * results, configured to fail "
        "if != 0*",
        "*compiled SQL: */target/compiled/jaffle/tests/assert_no_order_over_100_dollars.sql*",
        "*first failing rows (up to 5):*",
        "*{'order_id': *, 'amount': *}*",
    ])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
