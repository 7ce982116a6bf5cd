"""The jobs screens: every job of eltkit.yml, its job runs, and the trigger/pause actions.

The actions run real `eltkit trigger` and `eltkit jobs pause|resume` processes
on the built sample; the listings are checked against a frozen history too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eltkit.project import load_project
from eltkit.state.jobs import job_runs, job_state
from eltkit.state.store import HistoryStore
from eltkit.tui.app import Settings, make_app
from eltkit.tui.data import history_file
from eltkit.tui.screens.dialogs import ConfirmScreen
from eltkit.tui.screens.job_runs import JobRunsScreen
from eltkit.tui.screens.jobs import JobsScreen
from eltkit.tui.screens.run import RunScreen
from eltkit.tui.screens.runs import RunsScreen
from tests.tui.fixed_jobs import (
    CIRCUIT_BREAKER,
    LANDING_ERROR,
    LANDING_JOB_RUNS,
    LANDING_STEP_RUN,
    MARTS_JOB_RUN,
)
from tests.tui.helpers import (
    SAMPLE_RUN,
    app_for,
    flat,
    notices,
    open_from_runs,
    screen_text,
    squeezed,
    table,
    wait_for,
    wait_loaded,
    wait_screen,
)

pytestmark = pytest.mark.anyio

JOBS = ["daily_marts", "ingest", "landing_files"]


async def test_J_lists_every_job_with_triggers_next_fire_pause_and_last_job_run(
        fixed_jobs_sample: Path) -> None:
    app = app_for(fixed_jobs_sample, frozen=True)
    async with app.run_test(size=(160, 30)) as pilot:
        await open_from_runs(pilot, "J", JobsScreen)
        assert table(app, "jobs").keys == JOBS
        text = squeezed(app)
        assert "3 jobs ‖ 1 paused last runs: ✗ 1 failed ✓ 2 success" in text
        assert "scheduler running (pid 4242 on etl-box since 03:00:00)" in text
        assert ("ingest active ✓ success 04:00:09 11-21 04:00 cron 0 5 * * * (Europe/Paris) "
                "schedule 11-19 04:00 → 11-20 04:00 1 step succeeded") in text
        assert ("landing_files ‖ PAUSED ✗ failed 10:15:03 - files landing/*.csv 3 on_file "
                "step 1 (task extract") in text
        # The highlighted job in full, below the list.
        assert "daily_marts: after ingest steps: freshness --select source:jaffle → seed" in text
        table(app, "jobs").move_to("ingest")
        await pilot.pause()
        assert "next fire 2026-11-21 05:00 CET (in 16h59m)" in squeezed(app)
        table(app, "jobs").move_to("landing_files")
        await pilot.pause()
        text = squeezed(app)
        assert f"‖ PAUSED: {CIRCUIT_BREAKER}; p resumes it" in flat(app)
        assert LANDING_ERROR in flat(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs screen")


async def test_enter_shows_job_runs_and_opens_the_run_of_their_steps(
        fixed_jobs_sample: Path) -> None:
    app = app_for(fixed_jobs_sample, frozen=True)
    async with app.run_test(size=(120, 34)) as pilot:
        await open_from_runs(pilot, "J", JobsScreen)
        table(app, "jobs").move_to("landing_files")
        await pilot.press("enter")
        screen = await wait_screen(pilot, JobRunsScreen)
        await wait_for(pilot, lambda: screen.steps_of == LANDING_JOB_RUNS[0], what="steps")
        assert table(app, "job-runs").keys == LANDING_JOB_RUNS  # newest first
        assert table(app, "job-steps").keys == [LANDING_STEP_RUN]
        text = squeezed(app)
        assert "job runs of landing_files 3 job runs, newest first" in text
        assert f"failed: {LANDING_ERROR}" in flat(app)  # the highlighted one's whole message
        assert "1 step run: Enter opens the failed one" in flat(app)
        # Enter on the job run opens the run of its failed step.
        await pilot.press("enter")
        await wait_loaded(pilot, RunScreen)
        assert app.screen.run_id == LANDING_STEP_RUN  # type: ignore[attr-defined]
        assert "✗ error extract_orders task" in squeezed(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the job runs again")
        # An older job run recorded no step run: it says so, and Enter says why.
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.steps_of == LANDING_JOB_RUNS[1], what="steps")
        assert not table(app, "job-steps").display
        assert "no step runs: its steps recorded no run" in squeezed(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "has no step runs" in notices(app), what="notice")
        assert app.screen is screen
        await pilot.press("escape")
        await wait_loaded(pilot, JobsScreen)
        # A successful job run: its step is the frozen build; Tab, then Enter opens it.
        table(app, "jobs").move_to("daily_marts")
        await pilot.press("enter")
        job_runs_screen = await wait_screen(pilot, JobRunsScreen)
        await wait_for(pilot, lambda: job_runs_screen.steps_of == MARTS_JOB_RUN, what="steps")
        assert table(app, "job-steps").keys == [SAMPLE_RUN]
        await pilot.press("tab")
        assert table(app, "job-steps").has_focus
        await pilot.press("enter")
        await wait_loaded(pilot, RunScreen)
        assert app.screen.run_id == SAMPLE_RUN  # type: ignore[attr-defined]


async def test_t_confirms_then_triggers_the_job_in_its_own_process(built_sample: Path) -> None:
    history = history_file(load_project(built_sample, parse=False))
    app = app_for(built_sample)
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await open_from_runs(pilot, "J", JobsScreen)
        assert table(app, "jobs").keys == JOBS
        assert "ingest active never ran" in squeezed(app)
        table(app, "jobs").move_to("ingest")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "Run job ingest now (run --select tag:extract)?" in flat(app)
        await pilot.press("n")  # no: nothing starts
        await wait_for(pilot, lambda: app.screen is screen, what="the jobs screen")
        assert "started" not in notices(app)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: "started `eltkit trigger ingest`" in notices(app),
                       what="the started notice")
        assert "eltkit trigger ingest (pid" in screen_text(app)

        def ingest_ran() -> bool:
            data = screen.data
            last = data.jobs[1].last if data is not None and data.jobs else None
            return last is not None and last.status == "success"

        await wait_for(pilot, ingest_ran, 180, "the job run to succeed on screen")
        await wait_for(pilot, lambda: "ingest: SUCCESS: 1 step succeeded" in notices(app), 30,
                       "the end of `eltkit trigger`")
        assert "ingest active ✓ success" in squeezed(app)
        assert "manual" in squeezed(app)  # recorded with the reason of `eltkit trigger`
        # Its job run, and the run of its one step, recorded as started from the TUI.
        await pilot.press("enter")
        runs_screen = await wait_screen(pilot, JobRunsScreen)
        await wait_for(pilot, lambda: bool(runs_screen.steps), what="its step run")
        await pilot.press("enter")
        await wait_loaded(pilot, RunScreen)
        assert "(tui:ingest)" in screen_text(app)
        assert {"extract_orders", "extract_customers", "extract_payments"} <= {
            node.name for node in app.screen.data.nodes}  # type: ignore[attr-defined]
    store = HistoryStore(history, readonly=True)
    try:
        (recorded,) = job_runs(store, job="ingest")
        assert (recorded.reason, recorded.status) == ("manual", "success")
        step = store.runs(1)[0]
        assert (step.job_run_id, step.trigger, step.job) == (recorded.id, "tui", "ingest")
    finally:
        store.close()
    assert "$ eltkit trigger ingest --trigger tui" in (
        built_sample / ".eltkit" / "tui-launch.log").read_text()


async def test_p_pauses_then_resumes_the_job_after_asking(built_sample: Path) -> None:
    history = history_file(load_project(built_sample, parse=False))
    app = app_for(built_sample)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_from_runs(pilot, "J", JobsScreen)
        table(app, "jobs").move_to("daily_marts")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "Pause job daily_marts?" in squeezed(app)
        await pilot.press("y")

        def paused() -> bool:
            job = screen.highlighted()
            return job is not None and job.paused

        await wait_for(pilot, paused, 60, "the job to show paused")
        text = squeezed(app)
        assert "daily_marts ‖ PAUSED" in text
        assert "‖ PAUSED: paused by `eltkit jobs pause`; p resumes it" in flat(app)
        await wait_for(pilot, lambda: "daily_marts: paused" in notices(app), 30, "the notice")
        store = HistoryStore(history, readonly=True)
        try:
            assert job_state(store, "daily_marts").paused
        finally:
            store.close()
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "Resume job daily_marts?" in squeezed(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: not paused(), 60, "the job to show active again")
        assert "daily_marts active" in squeezed(app)
        assert "‖ 1 paused" not in squeezed(app)
    store = HistoryStore(history, readonly=True)
    try:
        state = job_state(store, "daily_marts")
        assert (state.paused, state.paused_reason) == (False, None)
    finally:
        store.close()
    log = (built_sample / ".eltkit" / "tui-launch.log").read_text()
    assert "$ eltkit jobs pause daily_marts" in log and "$ eltkit jobs resume daily_marts" in log


async def test_a_trigger_that_cannot_run_is_reported_in_one_line(built_sample: Path) -> None:
    project = load_project(built_sample, parse=False)
    app = make_app(project, history_file(project), settings=Settings(poll_seconds=0.2),
                   launch_options=["--target", "nosuch"])
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_from_runs(pilot, "J", JobsScreen)
        table(app, "jobs").move_to("ingest")
        await pilot.press("t", "y")
        await wait_for(pilot, lambda: "eltkit trigger failed" in notices(app), 60,
                       "the failure notice")
        assert "nosuch" in notices(app)
        assert not screen.pending
        assert "eltkit trigger ingest (pid" not in screen_text(app)


async def test_a_project_without_jobs_says_how_to_declare_them(tui_project: Path) -> None:
    app = app_for(tui_project)
    async with app.run_test(size=(100, 24)) as pilot:
        await open_from_runs(pilot, "J", JobsScreen)
        text = squeezed(app)
        assert "no jobs declared: add them under `jobs:` in eltkit.yml" in text
        assert "see docs/jobs.md" in text
        assert not table(app, "jobs").display
        await pilot.press("t")  # no job: nothing to confirm
        await pilot.pause()
        assert isinstance(app.screen, JobsScreen)


async def test_jobs_before_any_history_list_as_never_ran(jobs_project: Path) -> None:
    history = jobs_project / ".eltkit" / "history.db"
    assert not history.exists()
    app = app_for(jobs_project)
    async with app.run_test(size=(120, 24)) as pilot:
        await open_from_runs(pilot, "J", JobsScreen)
        assert table(app, "jobs").keys == ["daily", "landing", "report"]
        text = squeezed(app)
        assert "daily active never ran" in text
        assert "no run history yet" in text
    assert not history.exists()  # looking does not create it


async def test_without_a_project_the_jobs_screen_says_what_is_needed(
        fixed_jobs_sample: Path) -> None:
    history = history_file(load_project(fixed_jobs_sample, parse=False))
    app = make_app(None, history, settings=Settings(poll_seconds=0.2))
    async with app.run_test(size=(100, 24)) as pilot:
        await open_from_runs(pilot, "J", JobsScreen)
        assert "no project: jobs are declared in eltkit.yml" in squeezed(app)
