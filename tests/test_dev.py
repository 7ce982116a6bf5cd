"""`eltkit dev` as a user runs it: a real process watching a copy of the sample project."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli


class DevProcess:
    """`eltkit dev` in the background, its output read line by line."""

    def __init__(self, project: Path, *args: str) -> None:
        self.project = project
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eltkit.cli", "dev", *args], cwd=project, text=True,
            env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 90) -> list[str]:
        """Lines up to and including the first that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        collected: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            collected.append(line)
            self.seen.append(line)
            if re.search(pattern, line):
                return collected
        raise AssertionError(f"no line matching {pattern!r}; output so far:\n"
                             + "\n".join(self.seen))

    def quiet_for(self, seconds: float) -> list[str]:
        """Everything printed during ``seconds`` (expected: nothing)."""
        deadline = time.monotonic() + seconds
        collected = []
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                collected.append(self.lines.get(timeout=0.1))
        self.seen.extend(collected)
        return collected

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def dev(built_sample: Path) -> Iterator[DevProcess]:
    process = DevProcess(built_sample)
    process.wait_for("^waiting for changes")
    yield process
    process.stop()


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def rebuild_plan(lines: list[str]) -> dict[str, str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("rebuilding"))
    plan = {}
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        name, _, why = line.strip().partition(" ")
        plan[name] = why.strip()
    return plan


def test_model_edit_rebuilds_it_and_its_downstream(dev: DevProcess) -> None:
    append(dev.project / "models" / "staging" / "stg_payments.sql", "\n-- reviewed\n")
    lines = dev.wait_for(r"^(SUCCESS|FAILED)")
    assert "changed: models/staging/stg_payments.sql" in lines
    plan = rebuild_plan(lines)
    assert plan["stg_payments"] == "changed (models/staging/stg_payments.sql)"
    assert plan["fct_payments"] == "downstream of stg_payments"
    assert plan["unique_stg_payments_payment_id"] == "tests stg_payments"
    assert "stg_orders" not in plan
    assert lines[-1].startswith("SUCCESS")
    assert any(re.search(r"OK\s+table fct_payments", line) for line in lines)
    runs = json.loads(run_cli("history", "--json", cwd=dev.project).stdout)
    assert runs[0]["trigger"] == "dev"
    assert runs[0]["status"] == "success"
    # Between saves the dev process holds no lock on the warehouse: a run elsewhere can write.
    import duckdb

    with duckdb.connect(str(dev.project / "target" / "jaffle.duckdb")) as db:
        assert db.execute("select count(*) from fct_payments").fetchone()[0] > 0


def test_macro_edit_rebuilds_its_users(dev: DevProcess) -> None:
    macro = dev.project / "macros" / "cents_to_dollars.sql"
    macro.write_text(macro.read_text().replace("/ 100.0", "/ 100.00"))
    lines = dev.wait_for(r"^(SUCCESS|FAILED)")
    plan = rebuild_plan(lines)
    assert plan["fct_orders"] == "uses macro cents_to_dollars"
    assert plan["stg_payments"] == "uses macro cents_to_dollars"
    assert "stg_customers" not in plan


def test_yaml_test_added_is_run(dev: DevProcess) -> None:
    schema = dev.project / "models" / "marts" / "_marts.yml"
    schema.write_text(schema.read_text().replace(
        "      - name: ltv_tier\n        description: high (>= 500), medium (>= 200) or low.\n",
        "      - name: ltv_tier\n        description: high (>= 500), medium (>= 200) or low.\n"
        "        data_tests: [not_null]\n"))
    lines = dev.wait_for(r"^(SUCCESS|FAILED)")
    plan = rebuild_plan(lines)
    assert plan == {"not_null_customer_ltv_ltv_tier": "new"}
    assert any(re.search(r"OK\s+test not_null_customer_ltv_ltv_tier", line) for line in lines)


def test_broken_sql_is_reported_and_a_fixed_save_recovers(dev: DevProcess) -> None:
    model = dev.project / "models" / "marts" / "customer_ltv.sql"
    good = model.read_text()
    model.write_text(good + "\n{{ ref('no_such_model') }}\n")
    lines = dev.wait_for("^waiting for changes")
    error = next(line for line in lines if line.startswith("error:"))
    assert "models/marts/customer_ltv.sql" in error and "no_such_model" in error
    model.write_text(good.replace("select", "select /* fixed */", 1))
    lines = dev.wait_for(r"^(SUCCESS|FAILED)")
    assert lines[-1].startswith("SUCCESS")
    assert rebuild_plan(lines)["customer_ltv"].startswith("changed")
    assert dev.process.poll() is None


def test_quick_saves_rebuild_once_and_target_is_ignored(dev: DevProcess) -> None:
    (dev.project / "target" / "scratch.sql").write_text("select 1\n")
    (dev.project / "logs" / "note.log").write_text("noise\n")
    assert dev.quiet_for(2.0) == []
    model = dev.project / "models" / "marts" / "order_status_daily.sql"
    append(model, "\n-- one\n")
    time.sleep(0.02)
    append(model, "-- two\n")
    dev.wait_for(r"^(SUCCESS|FAILED)")
    later = dev.quiet_for(3.0)
    assert not any(line.startswith("rebuilding") for line in later), later
    assert sum(line.startswith("rebuilding") for line in dev.seen) == 1


def test_select_limits_what_is_rebuilt(built_sample: Path) -> None:
    process = DevProcess(built_sample, "--select", "staging", "--no-downstream")
    try:
        process.wait_for("^waiting for changes")
        append(built_sample / "models" / "staging" / "stg_orders.sql", "\n-- x\n")
        plan = rebuild_plan(process.wait_for(r"^(SUCCESS|FAILED)"))
        assert "stg_orders" in plan
        assert all(not name.startswith(("fct_", "int_", "dim_")) for name in plan)
    finally:
        process.stop()
