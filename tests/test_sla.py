"""SLAs on the sample project: states, prediction, escalation, the CLI, bad input.

The history comes from real `eltkit build` runs of the sample. Their rows are
moved in time (every timestamp of a run shifted by one delta, so the real
durations and order are kept) to fixed dates, and the SLA is evaluated at
fixed datetimes: no test reads the clock or sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from eltkit.errors import ConfigError
from eltkit.project import Project, load_project
from eltkit.run.runner import open_history
from eltkit.sla.config import SlaConfig
from eltkit.sla.evaluate import SlaStatus, due_instances, evaluate_sla
from eltkit.sla.monitor import check_slas
from eltkit.sla.nodes import sla_nodes
from eltkit.state import HistoryStore
from eltkit.state.slas import claim_escalation
from tests.conftest import CliResult, run_cli

SLA = "marketing_dashboard"
WEBHOOK_ENV = "ELTKIT_ALERT_WEBHOOK"
#: Float seconds round-trip through datetimes to the microsecond, give or take one.
MICROSECONDS = timedelta(microseconds=5)


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 1,
       year: int = 2030) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twice_built_template(built_sample_template: Path,
                         tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample after two real `eltkit build` runs: two complete runs in its history."""
    built = Path(shutil.copytree(built_sample_template,
                                 tmp_path_factory.mktemp("twice") / "sample"))
    result = run_cli("build", cwd=built)
    assert result.returncode == 0, result.stdout + result.stderr
    return built


@pytest.fixture
def sample(twice_built_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(twice_built_template, tmp_path / "sample_dbt_project"))


def history_file(project_dir: Path) -> Path:
    return project_dir / ".eltkit" / "history.db"


def place_runs(project_dir: Path, *ends: datetime) -> list[str]:
    """Move the recorded runs in time: the i-th oldest run now finishes at ``ends[i]``."""
    with contextlib.closing(sqlite3.connect(history_file(project_dir))) as db:
        runs = db.execute("SELECT id, finished_at FROM runs ORDER BY started_at").fetchall()
        assert len(runs) == len(ends), runs
        for (run_id, finished_at), end in zip(runs, ends, strict=True):
            delta = end.timestamp() - finished_at
            db.execute("UPDATE runs SET started_at = started_at + ?, finished_at = finished_at"
                       " + ?, heartbeat_at = heartbeat_at + ? WHERE id = ?",
                       (delta, delta, delta, run_id))
            db.execute("UPDATE node_results SET started_at = started_at + ?,"
                       " finished_at = finished_at + ? WHERE run_id = ?", (delta, delta, run_id))
        db.commit()
        return [run_id for run_id, _ in runs]


@dataclass
class Checker:
    """check_slas on one project at fixed datetimes, notifications on."""

    project: Project
    store: HistoryStore
    waits: list[float] = field(default_factory=list)

    def __call__(self, now: datetime, *, notify: bool = True) -> SlaStatus:
        [status] = check_slas(self.project, self.store, now, notify=notify,
                              sleep=self.waits.append)
        assert status.name == SLA
        return status

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.store._read(sql, params)]

    def escalations(self) -> list[tuple[float, int]]:
        return [(due, step) for due, step in
                self.rows("SELECT due_at, step FROM sla_escalations ORDER BY due_at, step")]

    def notifications(self) -> list[tuple[Any, ...]]:
        return self.rows(
            "SELECT source, name, event, action, status FROM notifications ORDER BY id")


@pytest.fixture
def checker(sample: Path) -> Iterator[Checker]:
    project = load_project(sample)
    store = open_history(project)
    yield Checker(project, store)
    store.close()


@dataclass
class Hook:
    """A webhook endpoint on 127.0.0.1 that records every POST and answers 200."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.bodies.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/sla-hook"
    monkeypatch.setenv(WEBHOOK_ENV, state.url)
    yield state
    server.shutdown()
    server.server_close()


# -- the state machine with escalation -------------------------------------------------------


def test_pending_then_at_risk_then_missed_escalates_each_step_exactly_once(
        sample: Path, checker: Checker, hook: Hook, capsys: pytest.CaptureFixture[str]) -> None:
    # Both builds happened before the window of the deadline 2030-01-02 08:00 opened
    # (2030-01-01 08:00), and the newest is 24h30m old at the deadline (max_staleness 26h).
    place_runs(sample, at(30, 7, month=12, year=2029), at(1, 7, 30))
    deadline = at(2, 8)

    pending = checker(at(2, 6))
    assert pending.state == "pending"
    assert pending.due_at == deadline
    assert pending.predicted_finish is not None and pending.predicted_finish < deadline
    assert "would finish at 06:00" in pending.reason and "if a run started now" in pending.reason
    assert "11 of 11 nodes not built since 2030-01-01 08:00" in pending.reason
    # Nothing runs, so the prediction is the whole remaining critical path from now.
    path = pending.predicted_finish - at(2, 6)
    assert path > timedelta(0)

    slipped_at = deadline - path / 2  # too late now to finish by the deadline
    risk = checker(slipped_at)
    assert risk.state == "at risk"
    assert risk.predicted_finish is not None
    assert abs(risk.predicted_finish - (slipped_at + path)) < MICROSECONDS
    assert "after the deadline 08:00" in risk.reason
    assert checker.escalations() == [(deadline.timestamp(), 0)]
    assert checker(slipped_at + path / 4).state == "at risk"  # still at risk: no second log

    missed = checker(deadline + timedelta(minutes=5))
    assert missed.state == "missed"
    assert missed.due_at == deadline and missed.promise == "deadline"
    assert missed.reason.startswith("due 08:00 passed: fct_customers, fct_orders")
    assert hook.bodies == []  # the webhook step waits 30m from the slip

    assert checker(slipped_at + timedelta(minutes=30, seconds=1)).state == "missed"
    assert [body["kind"] for body in hook.bodies] == ["sla_missed"]
    body = hook.bodies[0]
    assert body["source"] == "sla" and body["name"] == SLA
    assert body["details"]["due_at"] == "2030-01-02T08:00:00+00:00"
    assert body["details"]["escalation_step"] == 2
    assert body["summary"].startswith("SLA marketing_dashboard missed (due 2030-01-02 08:00 UTC)")

    checker(slipped_at + timedelta(minutes=45))
    assert not (sample / ".eltkit" / "pages.log").exists()
    checker(slipped_at + timedelta(minutes=60, seconds=1))
    pages = (sample / ".eltkit" / "pages.log").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in pages if line] == ["sla_missed"]

    late = checker(at(2, 11))  # stale as well by now; still the same due instance
    assert late.state == "missed" and late.due_at == deadline
    assert "also fct_customers, fct_orders" in late.reason and "max_staleness 26h" in late.reason

    assert checker.escalations() == [(deadline.timestamp(), step) for step in (0, 1, 2)]
    assert checker.notifications() == [
        ("sla", SLA, "sla_at_risk", "log", "sent"),
        ("sla", SLA, "sla_missed", "webhook", "sent"),
        ("sla", SLA, "sla_missed", "command", "sent"),
    ]
    assert len(hook.bodies) == 1
    assert capsys.readouterr().err.count("[eltkit] SLA marketing_dashboard at risk") == 1
    states = [state for (state,) in checker.rows(
        "SELECT state FROM sla_evaluations ORDER BY evaluated_at")]
    # The second "at risk" came minutes after the first: a repeat is not written again
    # within 5 minutes; every change of state is.
    assert states == ["pending", "at risk", "missed", "missed", "missed", "missed",
                      "missed"]


def test_met_on_time_sends_nothing(sample: Path, checker: Checker, hook: Hook) -> None:
    _, second = place_runs(sample, at(31, 7, 30, month=12, year=2029), at(1, 7, 50))

    met = checker(at(1, 7, 55))
    assert met.state == "met"
    assert met.due_at == at(1, 8)
    finished = max(node.finished_at or 0 for node in checker.store.nodes(second)
                   if node.unique_id in met.nodes)
    assert met.finished_at is not None
    assert met.finished_at.timestamp() == pytest.approx(finished, abs=1e-5)
    assert met.reason.startswith(f"all 11 nodes built and tested by {met.finished_at:%H:%M} "
                                 "for the deadline 08:00")
    # After the deadline the next instance is current, and nothing of it is built yet.
    after = checker(at(1, 9))
    assert (after.state, after.due_at) == ("pending", at(2, 8))

    assert checker.escalations() == [] and checker.notifications() == [] and hook.bodies == []


def test_met_late_stops_the_ladder(sample: Path, checker: Checker, hook: Hook) -> None:
    place_runs(sample, at(31, 7, 30, month=12, year=2029), at(1, 8, 10))

    missed = checker(at(1, 8, 5))
    assert (missed.state, missed.due_at) == ("missed", at(1, 8))
    assert checker.escalations() == [(at(1, 8).timestamp(), 0)]  # after: 0m fires at once

    for now in (at(1, 8, 15), at(1, 8, 31), at(1, 9, 5), at(1, 10)):
        status = checker(now)
        assert status.state == "met", status.reason
        assert status.due_at == at(2, 8)
    assert checker.escalations() == [(at(1, 8).timestamp(), 0)]
    assert checker.notifications() == [("sla", SLA, "sla_missed", "log", "sent")]
    assert hook.bodies == []


def test_max_staleness_missed_between_two_met_deadlines(sample: Path, checker: Checker,
                                                        hook: Hook) -> None:
    # Built at 08:01, just after the 2030-01-01 deadline: it counts for 2030-01-02 08:00,
    # but is 26h old at 2030-01-02 10:01, long before the next deadline.
    place_runs(sample, at(30, 7, month=12, year=2029), at(1, 8, 1))
    assert checker(at(2, 7)).state == "met"

    stale = checker(at(2, 10, 5))
    assert stale.state == "missed" and stale.promise == "max_staleness"
    assert stale.due_at is not None and at(2, 10) < stale.due_at <= at(2, 10, 1)
    assert "older than max_staleness 26h00m since 10:0" in stale.reason
    assert checker.escalations() == [(stale.due_key, 0)]
    assert checker.notifications() == [("sla", SLA, "sla_missed", "log", "sent")]


def test_a_run_in_progress_shortens_the_prediction(sample: Path, checker: Checker) -> None:
    place_runs(sample, at(30, 7, month=12, year=2029), at(1, 7, 30))
    now = at(2, 7)
    idle = checker(now, notify=False)
    assert idle.predicted_finish is not None and "if a run started now" in idle.reason

    # A run started at 06:00 has built everything upstream and is building the SLA's
    # models since 06:05; their tests are still to come.
    graph = checker.project.graph
    sla_ids = set(idle.nodes)
    models = {uid for uid in sla_ids if not graph.nodes[uid].is_test}
    tests = sla_ids - models
    upstream = {uid for uid in graph.upstream_of(sla_ids) if uid not in sla_ids}
    with contextlib.closing(sqlite3.connect(history_file(sample))) as db:
        db.execute("INSERT INTO runs (id, command, selection, trigger, status, started_at,"
                   " heartbeat_at, pid, host, user, project_dir) VALUES ('live', 'build', '{}',"
                   " 'schedule', 'running', ?, ?, 1, 'elsewhere', 'u', '.')",
                   (at(2, 6).timestamp(), now.timestamp()))
        for uid in sorted(upstream | sla_ids):
            status, started, finished = (
                ("running", at(2, 6, 5), None) if uid in models else
                ("pending", None, None) if uid in tests else
                ("success", at(2, 6), at(2, 6, 1)))
            db.execute("INSERT INTO node_results (run_id, unique_id, name, resource_type,"
                       " status, started_at, finished_at) VALUES ('live', ?, ?, ?, ?, ?, ?)",
                       (uid, graph.nodes[uid].name, graph.nodes[uid].resource_type, status,
                        started and started.timestamp(), finished and finished.timestamp()))
        db.commit()

    live = checker(now, notify=False)
    assert live.state == "pending"
    assert "(run live in progress)" in live.reason and "will finish at 07:00" in live.reason
    # The models have run longer than they ever took: only their tests remain.
    typical = checker.store.typical_durations(tests)
    assert live.predicted_finish is not None
    expected = now + timedelta(seconds=max(typical.values()))
    assert abs(live.predicted_finish - expected) < MICROSECONDS
    assert live.predicted_finish < idle.predicted_finish


def test_two_checkers_cannot_fire_the_same_step_twice(sample: Path, checker: Checker) -> None:
    assert claim_escalation(checker.store, sla=SLA, due_at=1.0, step=0, fired_at=2.0)
    other = HistoryStore(history_file(sample))
    try:
        assert not claim_escalation(other, sla=SLA, due_at=1.0, step=0, fired_at=3.0)
        assert claim_escalation(other, sla=SLA, due_at=1.0, step=1, fired_at=3.0)
    finally:
        other.close()


# -- staleness-only SLAs, cron deadlines, timezones -------------------------------------------


def test_staleness_only_sla(sample: Path, checker: Checker) -> None:
    place_runs(sample, at(30, 7, month=12, year=2029), at(1, 7, 30))
    sla = SlaConfig(select="fct_orders", max_staleness="6h")  # type: ignore[arg-type]
    nodes = sla_nodes(checker.project, "orders_fresh", sla)
    graph, store = checker.project.graph, checker.store

    fresh = evaluate_sla("orders_fresh", sla, graph, store, nodes, at(1, 12))
    assert fresh.state == "met" and fresh.promise == "max_staleness"
    assert fresh.due_at is not None and at(1, 13) < fresh.due_at <= at(1, 13, 30)
    stale = evaluate_sla("orders_fresh", sla, graph, store, nodes, at(1, 14))
    assert stale.state == "missed" and stale.due_at == fresh.due_at
    assert "last built 6h" in stale.reason

    empty = HistoryStore(sample / "empty.db")
    try:
        never = evaluate_sla("orders_fresh", sla, graph, empty, nodes, at(1, 14))
    finally:
        empty.close()
    assert never.state == "missed" and never.due_at is None
    assert never.reason.startswith("fct_orders, ")
    assert "never built successfully (max_staleness 6h00m)" in never.reason


def test_cron_deadline_counts_the_window_from_the_previous_occurrence(
        sample: Path, checker: Checker) -> None:
    # Built Friday 2030-01-04 07:30; weekdays at 08:00: Saturday's due instance is Monday's.
    place_runs(sample, at(30, 7, month=12, year=2029), at(4, 7, 30))
    sla = SlaConfig(select="fct_orders", deadline="0 8 * * 1-5")
    nodes = sla_nodes(checker.project, "weekdays", sla)
    saturday = evaluate_sla("weekdays", sla, checker.project.graph, checker.store, nodes,
                            at(5, 12))
    assert saturday.state == "pending"
    assert saturday.due_at == at(7, 8)
    assert saturday.window_start == at(4, 8)


def test_deadline_stays_at_local_time_across_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Clocks went forward on 2030-03-31; 08:00 local is 07:00 UTC before, 06:00 UTC after.
    before, last, following = due_instances("0 8 * * *", berlin, at(31, 12, month=3))
    assert [moment.astimezone(UTC).hour for moment in (before, last, following)] == [7, 6, 6]
    assert all(moment.astimezone(berlin).hour == 8 for moment in (before, last, following))
    assert croniter.is_valid("0 8 * * *")


# -- the command ----------------------------------------------------------------------------------


def test_sla_json_on_a_fresh_build(built_sample: Path, cli: Callable[..., CliResult]) -> None:
    result = cli("sla", "--json", cwd=built_sample)
    assert result.returncode == 0, result.stderr
    [line] = result.lines
    status = json.loads(line)
    store = HistoryStore(history_file(built_sample), readonly=True)
    try:
        run = store.latest_run()
        evaluations = store._read("SELECT state FROM sla_evaluations")
        sent = store._read("SELECT * FROM notifications")
    finally:
        store.close()
    assert run is not None and run.finished_at is not None
    # Met, unless an 08:00 UTC deadline fell between the build and this check.
    evaluated = datetime.fromisoformat(status["evaluated_at"])
    last_deadline = croniter("0 8 * * *", evaluated).get_prev(datetime)
    built_in_window = run.finished_at > last_deadline.timestamp()
    assert status["state"] == ("met" if built_in_window else "pending")
    assert status["name"] == SLA and status["nodes"] == 11 and status["promise"] == "deadline"
    assert datetime.fromisoformat(status["due_at"]).time().isoformat() == "08:00:00"
    assert [row["state"] for row in evaluations] == [status["state"]]
    assert sent == []  # `eltkit sla` never notifies


def test_sla_text_shows_a_missed_sla_and_exits_0(sample: Path,
                                                 cli: Callable[..., CliResult]) -> None:
    place_runs(sample, at(30, 7, month=12, year=2019), at(1, 7, 30, year=2020))  # long ago
    result = cli("sla", "--project", str(sample), cwd=sample.parent)
    assert result.returncode == 0, result.stderr
    first, summary = result.lines
    assert first.startswith("MISSED   marketing_dashboard  due ")
    assert " UTC  predicted " in first and "not built successfully since" in first
    assert summary == "1 missed"
    store = HistoryStore(history_file(sample), readonly=True)
    try:
        assert store._read("SELECT count(*) FROM sla_escalations")[0][0] == 0
        assert store._read("SELECT count(*) FROM notifications")[0][0] == 0
    finally:
        store.close()


def test_sla_without_slas_says_how_to_add_one(mini_project: Path,
                                              cli: Callable[..., CliResult]) -> None:
    result = cli("sla", cwd=mini_project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no SLAs declared; add slas: to eltkit.yml")
    assert cli("sla", "--json", cwd=mini_project).stdout == ""


# -- bad input ------------------------------------------------------------------------------------

MINI_HEAD = "dbt:\n  profiles_dir: .\ntasks:\n  - tasks.py\nslas:\n  daily:\n"


def write_config(project_dir: Path, text: str) -> None:
    """Replace eltkit.yml, keeping its mtime: dbt never reads it, so the parsed manifest
    stays current and the test does not pay for a dbt parse."""
    path = project_dir / "eltkit.yml"
    before = path.stat()
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize(("body", "expected"), [
    ("    select: a\n    deadline: '25:00'\n",
     "eltkit.yml:8: slas.daily.deadline: '25:00' is not a time of day (00:00 to 23:59); "
     "write a time of day like \"08:00\" or a 5-field cron like \"0 8 * * 1-5\""),
    ("    select: a\n    deadline: 8am\n",
     "eltkit.yml:8: slas.daily.deadline: '8am' is not a deadline; write a time of day"),
    ("    select: a\n    deadline: 23:59\n",
     "eltkit.yml:8: slas.daily.deadline: YAML read 23:59 as the number 1439; quote it: "
     "deadline: \"23:59\""),
    ("    select: a\n    deadline: '0 8 * *'\n",
     "eltkit.yml:8: slas.daily.deadline: '0 8 * *' is not a deadline"),
    ("    select: a\n    deadline: '08:00'\n    timezone: Mars/Olympus\n",
     "eltkit.yml:9: slas.daily.timezone: unknown timezone 'Mars/Olympus'; use an IANA name"),
    ("    select: a\n    deadline: '08:00'\n    escalation:\n      - after: 30m\n",
     "eltkit.yml:10: slas.daily.escalation.0: an escalation step needs after: and notify: "
     "(missing notify); write it like - {after: 30m, notify: log}"),
    ("    select: a\n    deadline: '08:00'\n    escalation:\n      - {after: 0m, notify: sms}\n",
     "eltkit.yml:10: slas.daily.escalation.0.notify: "),
    ("    select: a\n    deadline: '08:00'\n    escalation:\n      - after: 0m,  notify: log\n",
     "eltkit.yml:10: not valid YAML: mapping values are not allowed"),
    ("    select: a\n    deadline: '08:00'\n    escalation:\n      - after: 0m, notify log\n",
     "eltkit.yml:10: slas.daily.escalation.0: after: '0m, notify log' is one value, not two "
     "keys; write the step as a flow mapping: - {after: 0m, notify: log}"),
    ("    select: a\n", "eltkit.yml:6: slas.daily: an SLA needs a deadline, a max_staleness"),
    ("    select: a\n    max_staleness: soon\n",
     "eltkit.yml:8: slas.daily.max_staleness: "),
    ("    select: a\n    deadline: '08:00'\n    owner: me\n",
     "eltkit.yml:9: slas.daily.owner: unknown key"),
    ("    deadline: '08:00'\n", "eltkit.yml:6: slas.daily.select: Field required"),
], ids=["hour-25", "8am", "unquoted-time", "four-fields", "timezone", "no-notify",
        "unknown-notify", "issue-step-syntax", "flattened-step", "no-promise", "bad-staleness",
        "unknown-key", "no-select"])
def test_bad_sla_config(mini_project: Path, cli: Callable[..., CliResult], body: str,
                        expected: str) -> None:
    write_config(mini_project, MINI_HEAD + body)
    result = cli("sla", cwd=mini_project)
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {mini_project / 'eltkit.yml'}:")
    assert expected in line
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("select", "expected"), [
    ("no_such_model", "slas.daily.select: the selection criterion 'no_such_model' does not "
                      "match any enabled nodes; check the names with `eltkit ls --select "
                      "no_such_model`"),
    ("a no_such_model", "the selection criterion 'no_such_model' does not match"),
    ("source:src", "slas.daily.select: 'source:src' selects no model, seed, snapshot, test or "
                   "task of this project"),
])
def test_sla_selecting_nothing_is_a_config_error(mini_project: Path,
                                                 cli: Callable[..., CliResult], select: str,
                                                 expected: str) -> None:
    write_config(mini_project, MINI_HEAD + f"    select: {select}\n    deadline: '08:00'\n")
    result = cli("sla", "--json", cwd=mini_project)
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {mini_project / 'eltkit.yml'}:7: ")
    assert expected in line
    assert result.stdout == ""


def test_selection_error_names_the_sla(mini_project: Path) -> None:
    write_config(mini_project, MINI_HEAD + "    select: 'nosuchmethod:x'\n    deadline: '08:00'\n")
    project = load_project(mini_project)
    with pytest.raises(ConfigError, match=r"eltkit.yml:7: slas\.daily\.select: "):
        sla_nodes(project, "daily", project.config.slas["daily"])


def test_naive_now_is_refused(sample: Path, checker: Checker) -> None:
    sla = checker.project.config.slas[SLA]
    nodes = sla_nodes(checker.project, SLA, sla)
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_sla(SLA, sla, checker.project.graph, checker.store, nodes,
                     datetime(2030, 1, 1, 8))
