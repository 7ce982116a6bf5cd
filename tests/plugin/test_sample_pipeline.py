"""The sample project's own pipeline tests (the example users copy) pass as written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.plugin.conftest import SAMPLE


@pytest.mark.dbt
def test_sample_pipeline_tests_pass(pytester: pytest.Pytester,
                                    run_user_tests: Callable[..., pytest.RunResult]) -> None:
    for test_file in sorted((SAMPLE / "tests_pipeline").glob("test_*.py")):
        pytester.makepyfile(**{test_file.stem: test_file.read_text()})
    result = run_user_tests()
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, out
    result.assert_outcomes(passed=6)
