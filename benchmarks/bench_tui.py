"""Benchmark of `eltkit tui`: start-up, refresh of a 5,000-node run, idle CPU.

    python -m benchmarks.bench_tui [--project DIR] [--nodes 5000] [--idle 10]

- **start-up**: from starting `eltkit tui` to the runs screen showing the
  history, in a real terminal (tmux) when tmux is installed, and headless.
- **refresh**: a run of N nodes written with the store API, its run screen
  open; batches of 50 nodes finish in another connection. Measured: the
  worker's read of the run (off the UI thread), the UI thread's update of
  the table, and the latency from the commit to the screen showing it (which
  includes waiting for the next 0.5 s poll).
- **idle CPU**: the TUI sitting on the runs screen and on a finished run's
  screen, CPU time of its process over ``--idle`` seconds.

The project (default: tests/projects/mini, parsed into a temporary copy) only
provides a history location; the big run's DAG is generated in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests" / "projects" / "mini"


# -- fixtures ---------------------------------------------------------------------------


def prepare_project(source: Path, workdir: Path) -> Path:
    project = Path(shutil.copytree(source, workdir / source.name, ignore=shutil.ignore_patterns(
        "target", "logs", "*.duckdb", "*.duckdb.wal", "__pycache__", ".eltkit")))
    env = {**os.environ, "NO_COLOR": "1"}
    for args in (["ls"], ["build"]):
        done = subprocess.run([sys.executable, "-m", "eltkit.cli", *args], cwd=project, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"eltkit {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return project


def big_graph(n: int, seed: int = 0) -> Any:
    """A layered DAG of n models: each reads one to three models of the layer before."""
    from eltkit.graph.dag import Graph
    from eltkit.graph.nodes import Node

    rng = random.Random(seed)
    layers = 10
    per_layer = n // layers
    nodes = []
    previous: list[str] = []
    for layer in range(layers):
        current = []
        count = per_layer if layer < layers - 1 else n - per_layer * (layers - 1)
        for index in range(count):
            name = f"m{layer:02d}_{index:04d}"
            uid = f"model.bench.{name}"
            parents = tuple(rng.sample(previous, min(len(previous), rng.randint(1, 3))))
            nodes.append(Node(uid, "model", name, "bench", ("bench", name),
                              f"models/{name}.sql", depends_on=parents))
            current.append(uid)
        previous = current
    return Graph.from_nodes("bench", nodes)


def write_big_run(history: Path, graph: Any, finished: int) -> str:
    from eltkit.state.store import HistoryStore

    store = HistoryStore(history)
    nodes = [(uid, node.name, node.resource_type) for uid, node in graph.nodes.items()]
    run_id = store.create_run(command="build", selection={"select": ["bench"]}, trigger="cli",
                              project_dir=history.parent, target="dev", threads=8, vars={},
                              nodes=nodes)
    order = [uid for layer in graph.topological_layers() for uid in layer]
    now = time.time()
    store._write_many(
        "UPDATE node_results SET status = 'success', attempts = 1, started_at = ?,"
        " finished_at = ?, duration_s = 0.5 WHERE run_id = ? AND unique_id = ?",
        [(now - 1, now, run_id, uid) for uid in order[:finished]])
    store.close()
    return run_id


# -- refresh of a big run ---------------------------------------------------------------


async def measure_refresh(project: Path, n: int, batches: int = 10) -> dict[str, Any]:
    from eltkit.project import load_project
    from eltkit.run.runner import history_path
    from eltkit.state.store import HistoryStore
    from eltkit.tui import data
    from eltkit.tui.app import Settings, make_app
    from eltkit.tui.screens.run import RunScreen

    loaded = load_project(project, parse=False)
    history = history_path(loaded)
    graph = big_graph(n)
    run_id = write_big_run(history, graph, finished=n // 3)
    reads: list[float] = []
    read_cpu: list[float] = []
    applies: list[float] = []
    original_read = data.RunReader.read
    original_show = RunScreen.show

    def timed_read(self: Any, *args: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return original_read(self, *args)
        finally:
            reads.append(time.perf_counter() - started)
            read_cpu.append(time.thread_time() - cpu)

    def timed_show(self: Any, *args: Any) -> None:
        started = time.perf_counter()
        original_show(self, *args)
        applies.append(time.perf_counter() - started)

    data.RunReader.read = timed_read  # type: ignore[method-assign,assignment]
    RunScreen.show = timed_show  # type: ignore[method-assign,assignment]
    try:
        app = make_app(loaded, history, settings=Settings(poll_seconds=0.5),
                       catalog=data.Catalog(loaded, graph))
        latencies: list[float] = []
        async with app.run_test(size=(120, 40)) as pilot:
            started = time.perf_counter()
            screen = RunScreen(run_id)
            await app.push_screen(screen)
            while screen.loads < 1:
                await pilot.pause(0.005)
            first_show = time.perf_counter() - started
            first_read, first_apply = reads[-1], applies[-1]
            reads.clear()
            read_cpu.clear()
            applies.clear()
            writer = HistoryStore(history)
            pending = [uid for layer in graph.topological_layers() for uid in layer][n // 3:]
            for batch in range(batches):
                loads = screen.loads
                chunk = pending[batch * 50:(batch + 1) * 50]
                now = time.time()
                writer._write_many(
                    "UPDATE node_results SET status = 'success', attempts = 1, started_at = ?,"
                    " finished_at = ?, duration_s = 0.4 WHERE run_id = ? AND unique_id = ?",
                    [(now - 0.4, now, run_id, uid) for uid in chunk])
                committed = time.perf_counter()
                while screen.loads == loads:
                    await pilot.pause(0.002)
                latencies.append(time.perf_counter() - committed)
                await pilot.pause(0.05)
            writer.close()
            shown = len(screen.query_one("#nodes").keys)  # type: ignore[attr-defined]
    finally:
        data.RunReader.read = original_read  # type: ignore[method-assign]
        RunScreen.show = original_show  # type: ignore[method-assign]
    refresh = [r + a for r, a in zip(reads, applies, strict=False)]
    return {"nodes": shown, "first_show_s": first_show, "first_read_s": first_read,
            "first_apply_s": first_apply, "read_s": reads, "read_cpu_s": read_cpu,
            "apply_s": applies,
            "refresh_s": refresh, "latency_s": latencies}


# -- start-up and idle CPU ----------------------------------------------------------------


CHILD = """
import os, sys, time
IDLE = float(sys.argv[2])
import eltkit.cli  # what `eltkit tui` imports before the app
from eltkit.project import load_project
from eltkit.tui.app import make_app
from eltkit.tui.data import history_file as history_path  # as eltkit/cli_tui.py does
from eltkit.tui.screens.runs import RunsScreen
original = RunsScreen.show
def show(self, data):
    original(self, data)
    def ready():
        print("READY", flush=True)
        if IDLE == 0:
            self.app.exit()
            return
        def measure():
            before = sum(os.times()[:2])
            def done():
                print("CPU", sum(os.times()[:2]) - before, flush=True)
                self.app.exit()
            self.app.set_timer(IDLE, done)
        self.app.set_timer(2.0, measure)
    if self.loads == 0:
        self.app.call_after_refresh(ready)
RunsScreen.show = show
project = load_project(sys.argv[1], parse=False)
make_app(project, history_path(project)).run(headless=True)
"""


def headless_child(project: Path, idle: float) -> tuple[float, float | None, float]:
    """Start-up to the first painted runs screen (wall, and CPU of the whole process when
    ``idle`` is 0), and CPU seconds over ``idle`` (headless)."""
    import resource

    env = dict(os.environ)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(project), str(idle)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    ready = None
    cpu = None
    for line in child.stdout:
        if line.startswith("READY") and ready is None:
            ready = time.perf_counter() - started
        if line.startswith("CPU"):
            cpu = float(line.split()[1])
    child.wait(timeout=idle + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if ready is None:
        raise SystemExit(f"the TUI did not start:\n{child.stderr.read() if child.stderr else ''}")
    spent = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return ready, cpu, spent


def tmux_measure(project: Path, idle: float, open_run: bool) -> tuple[float, float]:
    """In a real terminal: start-up until the runs show, then CPU % over ``idle`` seconds."""
    session = f"bench-tui-{os.getpid()}-{time.monotonic_ns()}"
    command = (f"cd {shlex.quote(str(project))} && exec env TERM=xterm-256color "
               f"{shlex.quote(sys.executable)} -m eltkit.cli tui")
    for _ in range(5):  # a tmux server that is just exiting refuses new sessions
        started = time.perf_counter()
        if subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y",
                           "40", command], capture_output=True).returncode == 0:
            break
        time.sleep(0.5)
    else:
        raise SystemExit("tmux would not start a session")
    try:
        while True:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True).stdout
            if "✓ success" in screen:
                break
            if time.perf_counter() - started > 30:
                raise SystemExit(f"the TUI did not show the runs in tmux:\n{screen}")
            time.sleep(0.01)
        startup = time.perf_counter() - started
        pid = int(subprocess.run(["tmux", "display", "-p", "-t", session, "#{pane_pid}"],
                                 capture_output=True, text=True).stdout)
        if open_run:
            subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True)
        time.sleep(2.0)
        before = _cpu_seconds(pid)
        time.sleep(idle)
        cpu = (_cpu_seconds(pid) - before) / idle * 100
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return startup, cpu


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- report -------------------------------------------------------------------------------


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"median {statistics.median(values) * 1000:.1f} ms, "
            f"max {max(values) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=MINI)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=5, help="start-up measurements")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        project = prepare_project(args.project, Path(tmp))
        measured = [headless_child(project, 0) for _ in range(args.repeat)]
        startups = [wall for wall, _, _ in measured]
        startup_cpu = [cpu for _, _, cpu in measured]
        _, idle_headless, _ = headless_child(project, args.idle)
        tmux = shutil.which("tmux") is not None
        if tmux:
            real = [tmux_measure(project, 0.5, False)[0] for _ in range(args.repeat)]
            _, idle_runs = tmux_measure(project, args.idle, open_run=False)
            _, idle_run = tmux_measure(project, args.idle, open_run=True)
        refresh = asyncio.run(measure_refresh(project, args.nodes))
    load = os.getloadavg()[0]
    print(f"## TUI\n\nMeasured by `python -m benchmarks.bench_tui` on {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}, load average {load:.1f} at the end.\n")
    print("| measure | result | target |\n|---|---|---|")
    print(f"| start-up to the runs screen, headless (x{args.repeat}), wall | {ms(startups)} "
          "| < 1 s |")
    print(f"| start-up to the runs screen, headless, CPU time of the process (start to exit) | "
          f"{ms(startup_cpu)} | |")
    if tmux:
        print(f"| start-up to the runs on screen, in tmux (x{args.repeat}) | {ms(real)} | < 1 s |")
        print(f"| idle CPU, runs screen, {args.idle:.0f} s in tmux | {idle_runs:.2f} % | < 2 % |")
        print(f"| idle CPU, a finished run's screen, {args.idle:.0f} s in tmux | "
              f"{idle_run:.2f} % | < 2 % |")
    if idle_headless is not None:
        print(f"| idle CPU, runs screen, {args.idle:.0f} s headless | "
              f"{idle_headless / args.idle * 100:.2f} % | < 2 % |")
    print(f"| {refresh['nodes']:,}-node run: first show (read + build table) | "
          f"{refresh['first_show_s'] * 1000:.0f} ms (read {refresh['first_read_s'] * 1000:.0f}"
          f" ms, table {refresh['first_apply_s'] * 1000:.0f} ms) | |")
    print(f"| {refresh['nodes']:,}-node run: refresh after 50 nodes finished, worker read "
          f"(off the UI thread), wall | {ms(refresh['read_s'])} | |")
    print(f"| {refresh['nodes']:,}-node run: the same read, CPU time of the worker thread | "
          f"{ms(refresh['read_cpu_s'])} | |")
    print(f"| {refresh['nodes']:,}-node run: refresh, UI-thread table update | "
          f"{ms(refresh['apply_s'])} | |")
    print(f"| {refresh['nodes']:,}-node run: refresh, read + update | "
          f"{ms(refresh['refresh_s'])} | < 100 ms |")
    print(f"| commit in another connection to the screen showing it (0.5 s poll) | "
          f"{ms(refresh['latency_s'])} | < 1 s |")


if __name__ == "__main__":
    main()
