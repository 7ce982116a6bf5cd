"""`eltkit freshness` against `dbt source freshness` on the same warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from eltkit.schedule.freshness import FreshnessRule, freshness_sql
from tests.conftest import run_cli


def dbt_freshness(project: Path) -> dict[str, dict[str, object]]:
    subprocess.run(
        [sys.executable, "-c", "from dbt.cli.main import cli; cli()", "source", "freshness",
         "--profiles-dir", "."], cwd=project, capture_output=True, text=True, check=False)
    results = json.loads((project / "target" / "sources.json").read_text())["results"]
    return {result["unique_id"]: result for result in results}


def eltkit_freshness(project: Path) -> tuple[int, dict[str, dict[str, object]]]:
    result = run_cli("freshness", "--json", cwd=project)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return result.returncode, {row["unique_id"]: row for row in rows}


@pytest.mark.parametrize(("stale_hours", "expected", "exit_code"),
                         [(None, "pass", 0), ("13", "warn", 0), ("30", "error", 1)])
def test_freshness_matches_dbt(built_sample: Path, stale_hours: str | None, expected: str,
                               exit_code: int) -> None:
    if stale_hours is not None:
        reload = run_cli("run", "-s", "tag:extract", cwd=built_sample,
                         env={"ELTKIT_SAMPLE_STALE_HOURS": stale_hours})
        assert reload.returncode == 0, reload.stdout
    code, ours = eltkit_freshness(built_sample)
    theirs = dbt_freshness(built_sample)
    assert code == exit_code
    assert set(ours) == set(theirs) == {
        "source.jaffle.jaffle.raw_customers", "source.jaffle.jaffle.raw_orders",
        "source.jaffle.jaffle.raw_payments"}
    for uid, row in ours.items():
        assert row["status"] == theirs[uid]["status"] == expected
        ours_at = datetime.fromisoformat(str(row["max_loaded_at"]))
        theirs_at = datetime.fromisoformat(str(theirs[uid]["max_loaded_at"]))
        assert ours_at.replace(tzinfo=None) == theirs_at.replace(tzinfo=None)
        assert abs(float(row["age_s"]) - float(theirs[uid]["max_loaded_at_time_ago_in_s"])) < 60


def test_text_output_and_history(built_sample: Path) -> None:
    result = run_cli("freshness", "-s", "source:jaffle.raw_orders", cwd=built_sample)
    assert result.returncode == 0, result.stderr
    assert result.lines[0].startswith("PASS")
    assert "jaffle.raw_orders" in result.lines[0]
    assert "(warn > 12h, error > 24h)" in result.lines[0]
    import sqlite3

    with sqlite3.connect(built_sample / ".eltkit" / "history.db") as db:
        # (the build that made the fixture has its own, gate checks with its run id)
        rows = db.execute("select source, status from freshness_checks"
                          " where run_id is null").fetchall()
    assert rows == [("jaffle.raw_orders", "pass")]


def test_missing_table_is_a_runtime_error_not_a_crash(built_sample: Path) -> None:
    import duckdb

    with duckdb.connect(str(built_sample / "target" / "jaffle.duckdb")) as db:
        db.execute("drop table raw.raw_payments")
    code, ours = eltkit_freshness(built_sample)
    assert code == 1
    payments = ours["source.jaffle.jaffle.raw_payments"]
    assert payments["status"] == "runtime error"
    assert "raw_payments" in str(payments["message"])
    assert ours["source.jaffle.jaffle.raw_orders"]["status"] == "pass"


def test_source_without_loaded_at_field_gets_dbts_message(built_sample: Path) -> None:
    sources = built_sample / "models" / "staging" / "_sources.yml"
    text = sources.read_text()
    assert "loaded_at_field: _loaded_at" in text
    sources.write_text(text.replace("loaded_at_field: _loaded_at", "loaded_at_field: null"))
    code, ours = eltkit_freshness(built_sample)
    assert code == 1
    message = str(ours["source.jaffle.jaffle.raw_orders"]["message"])
    assert message.startswith("Could not compute freshness for source raw_orders: no "
                              "'loaded_at_field' provided")


def test_generated_sql_quotes_every_identifier() -> None:
    rule = FreshnessRule("source.p.s.t", "s", "t", "My DB", "raw data", 'odd"name',
                         "coalesce(updated_at, created_at)", 60.0, None, "region = 'EU'")
    sql = freshness_sql(rule)
    assert '"My DB"."raw data"."odd""name"' in sql
    assert 'COALESCE("updated_at", "created_at")' in sql
    assert "WHERE \"region\" = 'EU'" in sql
