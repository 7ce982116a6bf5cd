"""Notification delivery against real HTTP servers, real commands and a real history file."""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from eltkit.notify.config import (
    CommandAction,
    LogAction,
    NotifyAction,
    NotifyActions,
    WebhookAction,
)
from eltkit.notify.event import Event
from eltkit.notify.send import deliver, missing_secrets
from eltkit.state import HistoryStore
from eltkit.state.notifications import notifications, record_notification

ENV = "ELTKIT_TEST_WEBHOOK"
TOKEN = "T0KEN-sEcReT-9f8e7d"
ACTIONS: TypeAdapter[list[NotifyAction]] = TypeAdapter(NotifyActions)

EVENT = Event(
    source="job", name="daily_marts", kind="failure",
    summary="job daily_marts failed: model fct_orders errored (attempt 3 of 3)",
    details={"run_id": "20261123T125549-4af185", "attempt": 3},
    at=datetime(2026, 11, 23, 12, 55, 49, tzinfo=UTC),
)


def actions(*raw: Any) -> list[NotifyAction]:
    return ACTIONS.validate_python(list(raw))


# -- a real webhook server -------------------------------------------------------------


@dataclass
class Hook:
    """A webhook on 127.0.0.1 that answers with the scripted codes, then 200."""

    url: str
    codes: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_s: float = 0.0


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers),
                                   "body": body})
            if state.delay_s:
                threading.Event().wait(state.delay_s)
            code = state.codes.pop(0) if state.codes else 200
            self.send_response(code)
            if code in (301, 302):
                self.send_header("Location", f"/moved/{TOKEN}")
            payload = b"no_service" if code == 404 else b"ok"
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the default writes the path, which holds the token, to stderr

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/{TOKEN}"
    yield state
    server.shutdown()
    server.server_close()


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    history = HistoryStore(tmp_path / "history.db")
    yield history
    history.close()


def webhook(**settings: Any) -> dict[str, Any]:
    return {"webhook": {"url_env": ENV, **settings}}


# -- webhook -----------------------------------------------------------------------------


def test_webhook_retries_a_500_then_counts_the_200_as_sent(
        hook: Hook, store: HistoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, hook.url)
    hook.codes = [500]
    waits: list[float] = []
    [delivery] = deliver(actions(webhook(backoff="2s")), EVENT, store=store, cwd=tmp_path,
                         sleep=waits.append)

    assert (delivery.action, delivery.status, delivery.attempts) == ("webhook", "sent", 2)
    assert waits == [2.0]
    assert len(hook.requests) == 2
    request = hook.requests[-1]
    assert json.loads(request["body"]) == EVENT.to_json()
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"].startswith("eltkit/")
    [row] = notifications(store)
    assert (row["source"], row["name"], row["event"], row["action"], row["status"],
            row["attempts"]) == ("job", "daily_marts", "failure", "webhook", "sent", 2)


def test_webhook_backs_off_exponentially_and_records_the_failure(
        hook: Hook, store: HistoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, hook.url)
    hook.codes = [503] * 10
    waits: list[float] = []
    [delivery] = deliver(actions(webhook(retries=3, backoff=0.5)), EVENT, store=store,
                         cwd=tmp_path, sleep=waits.append)

    assert waits == [0.5, 1.0, 2.0]
    assert len(hook.requests) == 4
    assert delivery.status == "failed"
    assert delivery.detail == f"webhook ${ENV}: HTTP 503 after 4 attempts"
    [row] = notifications(store)
    assert (row["status"], row["attempts"], row["detail"]) == ("failed", 4, delivery.detail)


def test_webhook_retries_429(hook: Hook, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, hook.url)
    hook.codes = [429, 429]
    [delivery] = deliver(actions(webhook()), EVENT, store=None, cwd=tmp_path,
                         sleep=lambda s: None)
    assert (delivery.status, delivery.attempts, len(hook.requests)) == ("sent", 3, 3)


def test_webhook_404_is_not_retried(hook: Hook, store: HistoryStore, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, hook.url)
    hook.codes = [404]
    waits: list[float] = []
    [delivery] = deliver(actions(webhook(retries=5)), EVENT, store=store, cwd=tmp_path,
                         sleep=waits.append)
    assert (delivery.status, delivery.attempts, len(hook.requests), waits) == (
        "failed", 1, 1, [])
    assert delivery.detail == f"webhook ${ENV}: HTTP 404: no_service (not retried)"


def test_webhook_redirect_is_not_followed(hook: Hook, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Following it would turn the POST into a GET without the event.
    monkeypatch.setenv(ENV, hook.url)
    hook.codes = [302]
    [delivery] = deliver(actions(webhook()), EVENT, store=None, cwd=tmp_path,
                         sleep=lambda s: None)
    assert (delivery.status, delivery.attempts, len(hook.requests)) == ("failed", 1, 1)
    assert "HTTP 302" in delivery.detail


def test_webhook_server_down_retries_then_fails_without_raising(
        store: HistoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, f"http://127.0.0.1:{unused_port()}/hooks/{TOKEN}")
    waits: list[float] = []
    deliveries = deliver(actions(webhook(retries=2, backoff=1), "log"), EVENT, store=store,
                         cwd=tmp_path, sleep=waits.append)

    assert [d.status for d in deliveries] == ["failed", "sent"]  # the next action still ran
    assert deliveries[0].attempts == 3
    assert waits == [1.0, 2.0]
    assert "connection refused after 3 attempts" in deliveries[0].detail
    assert [row["action"] for row in notifications(store)] == ["log", "webhook"]


def test_webhook_timeout_is_retried(hook: Hook, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, hook.url)
    hook.delay_s = 2.0
    [delivery] = deliver(actions(webhook(timeout=0.2, retries=1)), EVENT, store=None,
                         cwd=tmp_path, sleep=lambda s: None)
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert delivery.detail == f"webhook ${ENV}: timed out (0.2s) after 2 attempts"


def test_unset_env_var_is_a_failure_naming_it(hook: Hook, store: HistoryStore, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    [delivery] = deliver(actions(webhook()), EVENT, store=store, cwd=tmp_path,
                         sleep=lambda s: None)
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    assert delivery.detail == f"webhook ${ENV}: environment variable {ENV} is not set"
    assert hook.requests == []
    assert notifications(store)[0]["detail"] == delivery.detail


@pytest.mark.parametrize("bad_url", [
    f"ftp://127.0.0.1/{TOKEN}",
    f"file:///etc/{TOKEN}",
    f"http://127.0.0.1/ {TOKEN}",
    f"{TOKEN}",
    f"http://127.0.0.1:99999999/{TOKEN}",
])
def test_a_malformed_url_fails_without_echoing_it(bad_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, bad_url)
    [delivery] = deliver(actions(webhook()), EVENT, store=None, cwd=tmp_path,
                         sleep=lambda s: None)
    assert delivery.status == "failed"
    assert delivery.detail.startswith(f"webhook ${ENV}: ")
    assert TOKEN not in delivery.detail


def test_the_url_never_leaks(hook: Hook, store: HistoryStore, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                             capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(ENV, hook.url)
    hook.codes = [500, 500, 404, 302, 500]
    deliveries = []
    for _ in range(4):  # 500 after 2 attempts, 404, 302, 500 then 200
        deliveries += deliver(actions(webhook(retries=1), "log"), EVENT, store=store,
                              cwd=tmp_path, sleep=lambda s: None)
    monkeypatch.setenv(ENV, f"http://127.0.0.1:{unused_port()}/hooks/{TOKEN}")
    deliveries += deliver(actions(webhook(retries=1)), EVENT, store=store, cwd=tmp_path,
                          sleep=lambda s: None)

    assert [d.status for d in deliveries if d.action == "webhook"] == [
        "failed", "failed", "failed", "sent", "failed"]
    rows = notifications(store, limit=100)
    assert len(rows) == 9
    out, err = capfd.readouterr()
    assert "[eltkit] job daily_marts failed" in err  # the capture works
    shown = [json.dumps(rows), json.dumps([d.to_json() for d in deliveries]), out, err,
             caplog.text, *(str(record.args) for record in caplog.records)]
    for text in shown:
        assert TOKEN not in text
        assert "/hooks/" not in text


def test_missing_secrets_names_each_unset_env_var_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SET_HOOK", "http://127.0.0.1/x")
    monkeypatch.delenv("UNSET_A", raising=False)
    monkeypatch.delenv("UNSET_B", raising=False)
    declared = actions("log", {"webhook": {"url_env": "UNSET_A"}},
                       {"webhook": {"url_env": "SET_HOOK"}}, {"command": "true"},
                       {"webhook": {"url_env": "UNSET_B"}}, {"webhook": {"url_env": "UNSET_A"}})
    assert missing_secrets(declared) == ["UNSET_A", "UNSET_B"]
    assert missing_secrets(actions("log")) == []


# -- command -----------------------------------------------------------------------------


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


def test_command_gets_the_event_on_stdin_and_in_env(store: HistoryStore, tmp_path: Path) -> None:
    script(tmp_path, "record.py", """
import json, os, sys
keys = ("ELTKIT_EVENT_SOURCE", "ELTKIT_EVENT_NAME", "ELTKIT_EVENT_KIND")
with open("received.json", "w") as out:  # relative: proves it runs in the project root
    json.dump({"stdin": sys.stdin.read(), "env": {k: os.environ[k] for k in keys},
               "argv": sys.argv[1:]}, out)
""")
    [delivery] = deliver(actions({"command": "./record.py 'two words'"}), EVENT, store=store,
                         cwd=tmp_path)

    assert (delivery.status, delivery.attempts) == ("sent", 1)
    received = json.loads((tmp_path / "received.json").read_text())
    assert json.loads(received["stdin"]) == EVENT.to_json()
    assert received["env"] == {"ELTKIT_EVENT_SOURCE": "job", "ELTKIT_EVENT_NAME": "daily_marts",
                               "ELTKIT_EVENT_KIND": "failure"}
    assert received["argv"] == ["two words"]  # split like a shell line, but no shell
    assert notifications(store)[0]["status"] == "sent"


def test_failing_command_records_exit_code_and_last_stderr_line(
        store: HistoryStore, tmp_path: Path) -> None:
    script(tmp_path, "fail.py", """
import sys
sys.stdin.read()
print("connecting to pager", file=sys.stderr)
print("pager said: quota exceeded", file=sys.stderr)
print("", file=sys.stderr)
sys.exit(3)
""")
    [delivery] = deliver(actions({"command": "./fail.py"}), EVENT, store=store, cwd=tmp_path)
    assert delivery.status == "failed"
    assert delivery.detail == "command ./fail.py: exit 3: pager said: quota exceeded"
    [row] = notifications(store)
    assert (row["status"], row["detail"]) == ("failed", delivery.detail)


def test_missing_executable_is_a_clear_failure(store: HistoryStore, tmp_path: Path) -> None:
    [delivery] = deliver(actions({"command": "./no-such-script.sh --now"}), EVENT, store=store,
                         cwd=tmp_path)
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    assert delivery.detail == (f"command ./no-such-script.sh --now: ./no-such-script.sh"
                               f" not found (relative to {tmp_path})")
    assert notifications(store)[0]["detail"] == delivery.detail
    [on_path] = deliver(actions({"command": "eltkit-no-such-program"}), EVENT, store=None,
                        cwd=tmp_path)
    assert on_path.detail.endswith(": eltkit-no-such-program not found on PATH")


def test_non_executable_script_is_a_clear_failure(tmp_path: Path) -> None:
    (tmp_path / "page.sh").write_text("#!/bin/sh\nexit 0\n")
    [delivery] = deliver(actions({"command": "./page.sh"}), EVENT, store=None, cwd=tmp_path)
    assert delivery.status == "failed"
    assert "not executable" in delivery.detail


def test_command_timeout_kills_it_and_what_it_started(tmp_path: Path) -> None:
    # A shell script whose child (sleep) would keep stderr open if only the script died.
    (tmp_path / "slow.sh").write_text("#!/bin/sh\necho starting >&2\nsleep 60\n")
    (tmp_path / "slow.sh").chmod(0o755)
    [delivery] = deliver(actions({"command": "./slow.sh", "timeout": 0.5}), EVENT, store=None,
                         cwd=tmp_path)
    assert delivery.status == "failed"
    assert delivery.detail == "command ./slow.sh: timed out after 0.5s: starting"


# -- log ---------------------------------------------------------------------------------


def test_log_action_writes_one_line_to_the_logger_and_stderr(
        store: HistoryStore, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.INFO, logger="eltkit.notify")
    [delivery] = deliver(actions({"log": {"level": "error"}}), EVENT, store=store, cwd=tmp_path)

    line = "[eltkit] job daily_marts failed: model fct_orders errored (attempt 3 of 3)"
    assert capsys.readouterr().err == line + "\n"
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("eltkit.notify", logging.ERROR, line)]
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert notifications(store)[0]["detail"] == f"logged at error: {EVENT.summary}"


def test_a_history_that_cannot_be_written_does_not_stop_delivery(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    closed = HistoryStore(tmp_path / "history.db")
    closed.close()
    [delivery] = deliver(actions("log"), EVENT, store=closed, cwd=tmp_path)
    assert delivery.status == "sent"
    assert "could not record the log notification" in caplog.text


# -- history and event -------------------------------------------------------------------


def test_notifications_filter_newest_first(store: HistoryStore) -> None:
    for source, name, event in [("job", "a", "failure"), ("sla", "a", "sla_missed"),
                                ("job", "b", "success"), ("job", "a", "circuit_open")]:
        record_notification(store, source=source, name=name, event=event, action="log",
                            status="sent", attempts=1, detail=None)
    assert [r["event"] for r in notifications(store, source="job", name="a")] == [
        "circuit_open", "failure"]
    assert [r["name"] for r in notifications(store, source="sla")] == ["a"]
    assert len(notifications(store, limit=2)) == 2
    assert len(notifications(store)) == 4
    with pytest.raises(ValueError, match="unknown notification status 'ok'"):
        record_notification(store, source="job", name="a", event="failure", action="log",
                            status="ok", attempts=1, detail=None)


def test_event_payload() -> None:
    assert EVENT.to_json() == {
        "source": "job", "name": "daily_marts", "kind": "failure", "summary": EVENT.summary,
        "text": EVENT.summary, "details": {"run_id": "20261123T125549-4af185", "attempt": 3},
        "at": "2026-11-23T12:55:49+00:00",
    }
    assert Event("sla", "orders_by_9", "sla_missed", "late").at.tzinfo is not None


# -- config ------------------------------------------------------------------------------


def test_short_forms_parse() -> None:
    parsed = actions(
        "log",
        {"log": {"level": "error"}},
        {"webhook": {"url_env": "ELTKIT_ALERT_WEBHOOK"}},
        {"webhook": {"url_env": "HOOK", "timeout": "30s", "retries": 5, "backoff": "2m"}},
        {"command": "./page-oncall.sh --team data"},
        {"command": "./x", "timeout": "5m"},
    )
    assert parsed[0] == LogAction(level="warning")
    assert parsed[1] == LogAction(level="error")
    assert isinstance(parsed[2], WebhookAction)
    assert (parsed[2].webhook.url_env, parsed[2].webhook.timeout, parsed[2].webhook.retries,
            parsed[2].webhook.backoff) == ("ELTKIT_ALERT_WEBHOOK", 10.0, 3, 1.0)
    assert isinstance(parsed[3], WebhookAction)
    assert (parsed[3].webhook.timeout, parsed[3].webhook.retries,
            parsed[3].webhook.backoff) == (30.0, 5, 120.0)
    assert parsed[4] == CommandAction(command="./page-oncall.sh --team data", timeout=60.0)
    assert parsed[5] == CommandAction(command="./x", timeout=300.0)


@pytest.mark.parametrize(("value", "expected"), [
    (None, []),
    ("log", [LogAction()]),
    ({"command": "./x"}, [CommandAction(command="./x")]),
])
def test_a_single_action_or_none_means_a_list(value: Any, expected: list[Any]) -> None:
    assert ACTIONS.validate_python(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("email", "unknown notification 'email'; use log"),
    ({"email": {"to": "x@example.com"}}, "unknown notification ['email']"),
    ({"webhook": {}}, "url_env\n  Field required"),
    ({"webhook": {"url_env": "my-hook"}}, "String should match pattern"),
    ({"webhook": {"url_env": "1HOOK"}}, "String should match pattern"),
    ({"webhook": {"url_env": "HOOK", "url": "https://hooks.example.com/x"}},
     "Extra inputs are not permitted"),
    ({"webhook": {"url_env": "HOOK", "retries": -1}}, "greater than or equal to 0"),
    ({"webhook": {"url_env": "HOOK", "timeout": "soon"}}, "'soon' is not a duration"),
    ({"log": {"level": "loud"}}, "'info', 'warning' or 'error'"),
    ({"command": ""}, "at least 1 character"),
    ({"command": "   "}, "the command is blank"),
    ({"command": "./page.sh 'unbalanced"}, "check the quotes"),
    (42, "Input should be"),
])
def test_bad_actions_are_rejected(value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ACTIONS.validate_python(value)
    assert message in str(raised.value)
