"""eltkit's own work per run, without dbt: the coordinator, the progress lines, the history.

While dbt runs a segment in eltkit's process, eltkit's coordinator thread
handles a NodeStarted and a NodeFinished event per node: it records them in
the history store, prints the progress line (with its ETA) and looks for
more work to start. All of that is Python holding the GIL that dbt's own
threads need, so whatever it costs comes on top of dbt's time.

This replays those events for every node of a plan, in plan order, through
the real ``Executor`` (with a dbt segment marked as in flight, as during a
run) and the real ``ProgressPrinter`` writing to a string, and times them::

    python -m benchmarks.coordinator_overhead PROJECT_DIR [--command run|build]

PROJECT_DIR needs a current target/manifest.json (run ``eltkit ls`` there
once). The selection is the benchmark's: everything but ``tag:extract``.
It uses the executor's private ``_handle`` and ``_schedule``, the two steps
of its event loop; if those change, update this file.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def replay(project_dir: Path, command: str) -> dict[str, Any]:
    from eltkit import load_project
    from eltkit.run.events import NodeFinished, NodeStarted
    from eltkit.run.executor import Executor, NodeState, RunOptions
    from eltkit.run.plan import make_plan
    from eltkit.run.progress import ProgressPrinter
    from eltkit.state.store import HistoryStore

    project = load_project(project_dir)
    selected = project.select(None, ["tag:extract"]).selected
    plan = make_plan(project.graph, command, selected)
    order = plan.order
    nodes = [(uid, plan.node(uid).name, plan.node(uid).resource_type) for uid in plan.nodes]

    with tempfile.TemporaryDirectory(prefix="eltkit-coordinator-") as tmp:
        def new_run(store: HistoryStore) -> str:
            return store.create_run(
                command=command, selection={}, trigger="cli", project_dir=project.root,
                target="dev", threads=4, vars={}, nodes=nodes)

        # 1. The whole event loop: history + progress printer + scheduling.
        store = HistoryStore(Path(tmp) / "loop.db")
        run_id = new_run(store)
        printer = ProgressPrinter(plan, store.typical_durations(plan.nodes), io.StringIO(),
                                  False)
        executor = Executor(plan, {}, store, run_id, project.parse_inputs,
                            RunOptions(threads=4), None, printer)
        executor._dbt_busy = True  # a segment is in flight: what the loop sees during a run
        schedule_s = 0.0
        started = time.perf_counter()
        for uid in order:
            for event in (NodeStarted(uid), NodeFinished(uid, "success", None, 0.1)):
                executor._handle(event)
                mark = time.perf_counter()
                executor._schedule(None)  # type: ignore[arg-type] # no task is ever ready
                schedule_s += time.perf_counter() - mark
        loop_s = time.perf_counter() - started
        store.close()

        # 2. The progress printer alone.
        states = {uid: NodeState() for uid in plan.nodes}
        alone = ProgressPrinter(plan, {}, io.StringIO(), False)
        started = time.perf_counter()
        for uid in order:
            states[uid].status = "success"
            alone(NodeFinished(uid, "success", None, 0.1), states)
        printer_s = time.perf_counter() - started

        # 3. The history writes alone.
        store = HistoryStore(Path(tmp) / "store.db")
        run_id = new_run(store)
        started = time.perf_counter()
        for uid in order:
            store.node_started(run_id, uid, 1)
            store.node_finished(run_id, uid, "success", duration_s=0.1)
        store_s = time.perf_counter() - started
        store.close()

    return {
        "command": command,
        "planned_nodes": len(order),
        "event_loop_s": loop_s,
        "of_which_schedule_s": schedule_s,
        "progress_printer_alone_s": printer_s,
        "history_writes_alone_s": store_s,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.coordinator_overhead",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("project", type=Path)
    parser.add_argument("--command", choices=("run", "build"), action="append")
    args = parser.parse_args(argv)
    for command in args.command or ["run", "build"]:
        print(json.dumps(replay(args.project.resolve(), command)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
