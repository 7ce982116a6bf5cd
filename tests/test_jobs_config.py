"""jobs: in eltkit.yml: every mistake is reported at load with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from eltkit.config import EltkitConfig, load_config
from eltkit.errors import ConfigError
from tests.conftest import run_cli as cli


def load(tmp_path: Path, jobs: str) -> EltkitConfig:
    path = tmp_path / "eltkit.yml"
    path.write_text("dbt:\n  profiles_dir: .\njobs:\n" + jobs)
    return load_config(path)


def test_every_trigger_and_step_kind_is_accepted(tmp_path: Path) -> None:
    config = load(tmp_path, """
  ingest:
    schedule: "0 5 * * *"
    timezone: Europe/Paris
    steps:
      - run: {select: "tag:extract"}
      - task: load_orders
  marts:
    after: [ingest]
    catchup: false
    max_active_runs: 2
    retries: 1
    retry_delay: 5m
    on_failure: [log, {webhook: {url_env: ELTKIT_ALERT_WEBHOOK}}]
    on_success: {command: "./notify.sh done"}
    steps:
      - freshness: {select: "source:jaffle"}
      - build: "+marts"
      - test
      - seed
      - snapshot: {}
  landing:
    on_file: {path: "landing/*.csv", debounce: 90s}
    steps: [build]
""")
    jobs = config.jobs
    assert [s.kind for s in jobs["marts"].steps] == ["freshness", "build", "test", "seed",
                                                       "snapshot"]
    assert jobs["marts"].steps[1].selection.select == "+marts"
    assert jobs["marts"].retry_delay == 300
    assert [a.kind for a in jobs["marts"].on_failure] == ["log", "webhook"]
    assert jobs["landing"].on_file is not None
    assert jobs["landing"].on_file.debounce == 90
    assert jobs["ingest"].triggers == ["cron 0 5 * * * (Europe/Paris)"]
    assert jobs["landing"].triggers == ["files landing/*.csv"]


@pytest.mark.parametrize(("jobs", "line", "expected"), [
    ("  a:\n    schedule: '61 * * * *'\n    steps: [run]\n", 5,
     "jobs.a.schedule: '61 * * * *' is not a valid cron expression"),
    ("  a:\n    schedule: '0 5 * * *'\n    timezone: Mars/Olympus\n    steps: [run]\n", 6,
     "unknown timezone 'Mars/Olympus'"),
    ("  a:\n    steps:\n      - deploy: {select: x}\n", 6, "unknown step 'deploy'"),
    ("  a:\n    steps: []\n", 5, "jobs.a.steps: List should have at least 1 item"),
    ("  a:\n    after: [ingst]\n    steps: [run]\n", 5,
     "jobs.a.after.0: unknown job 'ingst'; jobs declared: a"),
    ("  a:\n    after: [b]\n    steps: [run]\n  b:\n    after: [a]\n    steps: [run]\n", 5,
     "jobs wait for each other in a cycle: a -> b -> a"),
    ("  a:\n    after: [a]\n    steps: [run]\n", 5, "a job cannot run after itself"),
    ("  a:\n    steps: [run]\n    on_failure: {email: me@example.com}\n", 6,
     "unknown notification ['email']"),
    ("  a:\n    steps: [run]\n    on_file: {path: 'x/*.csv', debounce: soon}\n", 6,
     "'soon' is not a duration"),
    ("  a:\n    steps: [run]\n    max_active_runs: 0\n", 6, "greater than or equal to 1"),
    ("  a:\n    steps: [run]\n    cron: '0 5 * * *'\n", 6,
     "jobs.a.cron: unknown key; allowed here: steps, schedule, timezone"),
    ("  a:\n    steps: [run]\n    on_file: {path: 'landing/**/*.csv'}\n", 6,
     "** is not supported"),
    ("  a:\n    steps: [run]\n    on_file: {path: '../elsewhere/*.csv'}\n", 6,
     "write a glob relative to eltkit.yml's folder"),
])
def test_bad_jobs_name_file_line_and_key(tmp_path: Path, jobs: str, line: int,
                                         expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, jobs)
    message = caught.value.message
    assert message.startswith(f"{tmp_path / 'eltkit.yml'}:{line}: "), message
    assert expected in message


def test_unknown_job_and_bad_backfill_range_exit_2(mini_project: Path) -> None:
    (mini_project / "eltkit.yml").write_text(
        "dbt:\n  profiles_dir: .\ntasks: [tasks.py]\njobs:\n  daily:\n"
        "    schedule: '0 5 * * *'\n    steps: [run]\n  manual:\n    steps: [run]\n")
    unknown = cli("trigger", "nope", cwd=mini_project)
    assert unknown.returncode == 2
    assert "no job 'nope'; jobs: daily, manual" in unknown.stderr
    backwards = cli("backfill", "daily", "--start", "2026-10-05", "--end", "2026-10-01",
                    cwd=mini_project)
    assert backwards.returncode == 2
    assert "--end 2026-10-01T23:59:59.999999+00:00 is before --start 2026-10-05" \
        in backwards.stderr
    bad_date = cli("backfill", "daily", "--start", "yesterday", "--end", "2026-10-01",
                   cwd=mini_project)
    assert bad_date.returncode == 2
    assert "--start: 'yesterday' is not a date" in bad_date.stderr
    no_cron = cli("backfill", "manual", "--start", "2026-10-01", "--end", "2026-10-02",
                  cwd=mini_project)
    assert no_cron.returncode == 2
    assert "job manual has no schedule" in no_cron.stderr
    assert "Traceback" not in unknown.stderr + backwards.stderr + no_cron.stderr


def test_task_step_naming_no_task_is_refused_before_running(mini_project: Path) -> None:
    (mini_project / "eltkit.yml").write_text(
        "dbt:\n  profiles_dir: .\ntasks: [tasks.py]\njobs:\n  j:\n"
        "    steps: [{task: load_t9}]\n")
    result = cli("trigger", "j", cwd=mini_project)
    assert result.returncode == 2
    assert "jobs.j.steps.0.task: unknown task 'load_t9'; tasks: export_c, load_t1, load_t2" \
        in result.stderr


def test_scheduler_refuses_to_start_without_the_webhook_variable(mini_project: Path) -> None:
    (mini_project / "eltkit.yml").write_text(
        "dbt:\n  profiles_dir: .\ntasks: [tasks.py]\njobs:\n  j:\n    schedule: '0 5 * * *'\n"
        "    steps: [run]\n    on_failure: {webhook: {url_env: ELTKIT_TEST_UNSET_HOOK}}\n")
    result = cli("schedule", "--once", cwd=mini_project,
                 env={"ELTKIT_TEST_UNSET_HOOK": ""})
    assert result.returncode == 2
    assert "jobs.j.on_failure: webhook variable ELTKIT_TEST_UNSET_HOOK is not set" \
        in result.stderr
    listing = cli("jobs", cwd=mini_project)
    assert listing.returncode == 0
    assert "ELTKIT_TEST_UNSET_HOOK is not set" in listing.stderr
