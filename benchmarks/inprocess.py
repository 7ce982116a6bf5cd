"""In-process timings, run by ``benchmarks.run`` in a fresh interpreter per project.

Two modes, each printing one JSON object on stdout:

``graph DIR --reps R``
    ``json.load`` of target/manifest.json against eltkit's ``read_manifest`` +
    ``build_graph`` (without tasks), the same through ``load_project(DIR)``
    with the Python tasks, and the time of ``Project.select`` for a few
    expressions on the graph built once.

``phases DIR --select EXPR``
    One ``eltkit ls --select EXPR`` done by hand, phase by phase, in a fresh
    interpreter: imports, the freshness check, the manifest load, the task
    import, the graph build, the selection and the output lines. It shows
    where the whole-process time of ``eltkit ls`` goes.

Every timed step is preceded by ``gc.collect()`` so one step's garbage does
not land on the next; the garbage collector stays enabled during the step
(as in a real run) unless a row says otherwise.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SELECTIONS = (
    "tag:tag_a+",
    "+exposure:*",
    "path:models/marts",
    "config.materialized:table,tag:daily",
)


def _timed(step: Callable[..., T], *args: Any) -> tuple[float, T]:
    gc.collect()
    started = time.perf_counter()
    value = step(*args)
    return time.perf_counter() - started, value


def _attribute(obj: Any, name: str) -> Any:
    return getattr(obj, name)


def graph_timings(project_dir: Path, reps: int) -> dict[str, Any]:
    from eltkit import load_project
    from eltkit.dbt.manifest import read_manifest
    from eltkit.graph.build import build_graph

    manifest_path = project_dir / "target" / "manifest.json"

    def stdlib_load() -> Any:
        with manifest_path.open("rb") as handle:
            return json.load(handle)

    out: dict[str, Any] = {
        "manifest_bytes": manifest_path.stat().st_size,
        "json_load_s": [], "read_manifest_s": [], "build_graph_s": [],
        "build_graph_nogc_s": [],
        "project_manifest_s": [], "project_tasks_s": [], "project_graph_s": [],
    }
    nodes = nodes_with_tasks = 0
    for _ in range(reps):
        seconds, data = _timed(stdlib_load)
        out["json_load_s"].append(seconds)
        del data
        seconds, manifest = _timed(read_manifest, manifest_path)
        out["read_manifest_s"].append(seconds)
        seconds, graph = _timed(build_graph, manifest)
        out["build_graph_s"].append(seconds)
        nodes = len(graph.nodes)
        del graph
        gc.collect()
        gc.disable()
        try:
            seconds, graph = _timed(build_graph, manifest)
        finally:
            gc.enable()
        out["build_graph_nogc_s"].append(seconds)
        del graph, manifest

        project = load_project(project_dir)
        seconds, _ = _timed(_attribute, project, "manifest")  # freshness check + read_manifest
        out["project_manifest_s"].append(seconds)
        seconds, _ = _timed(_attribute, project, "tasks")
        out["project_tasks_s"].append(seconds)
        seconds, graph = _timed(_attribute, project, "graph")  # build_graph with the tasks
        out["project_graph_s"].append(seconds)
        nodes_with_tasks = len(graph.nodes)
        del graph, project
    out["nodes"] = nodes
    out["nodes_with_tasks"] = nodes_with_tasks

    project = load_project(project_dir)
    project.graph  # noqa: B018 - built once, outside the timings
    selections: dict[str, Any] = {}
    for expression in SELECTIONS:
        times = []
        count = 0
        for _ in range(reps):
            seconds, result = _timed(project.select, [expression])
            times.append(seconds)
            count = len(result.selected)
        selections[expression] = {"times_s": times, "selected": count}
    out["select"] = selections
    return out


def ls_phases(project_dir: Path, expression: str) -> dict[str, float]:
    """The steps of ``eltkit ls --select EXPR`` (default output) in a fresh process."""
    phases: dict[str, float] = {}
    started = time.perf_counter()
    import eltkit.cli  # noqa: F401 - what `eltkit` loads before the command runs

    phases["import eltkit.cli (click, cli_run)"] = time.perf_counter() - started
    mark = time.perf_counter()
    from eltkit.dbt.manifest import manifest_is_current, read_manifest
    from eltkit.graph.build import build_graph
    from eltkit.project import load_project
    from eltkit.task_modules import module_file

    phases["import eltkit.project (pydantic, yaml, graph)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    project = load_project(project_dir)
    phases["load_project (eltkit.yml, dbt_project.yml)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    current = manifest_is_current(project.parse_inputs)
    phases["freshness check (scan project files)"] = time.perf_counter() - mark
    if not current:
        raise SystemExit(f"{project_dir}: manifest is not current; parse it first")
    mark = time.perf_counter()
    manifest = read_manifest(project.parse_inputs.manifest_path)
    phases["read_manifest (load manifest.json)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    tasks = project.tasks
    phases["import task modules"] = time.perf_counter() - mark
    mark = time.perf_counter()
    task_files = {spec.name: module_file(spec) or "" for spec in tasks}
    graph = build_graph(manifest, tasks, project_root=project.dbt_project_dir,
                        task_files=task_files)
    phases["build_graph (with tasks)"] = time.perf_counter() - mark
    project.__dict__["manifest"] = manifest  # what the cached properties would hold
    project.__dict__["graph"] = graph
    mark = time.perf_counter()
    selected = sorted(project.select([expression]).selected)
    phases["select"] = time.perf_counter() - mark
    mark = time.perf_counter()
    text = "".join(graph.nodes[uid].search_name + "\n" for uid in selected)
    phases["format output"] = time.perf_counter() - mark
    phases["total in-process"] = time.perf_counter() - started
    phases["selected"] = float(len(selected))
    del text
    return phases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess")
    sub = parser.add_subparsers(dest="mode", required=True)
    graph = sub.add_parser("graph")
    graph.add_argument("project", type=Path)
    graph.add_argument("--reps", type=int, default=5)
    phases = sub.add_parser("phases")
    phases.add_argument("project", type=Path)
    phases.add_argument("--select", default="tag:tag_a")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    if args.mode == "graph":
        result: dict[str, Any] = graph_timings(project, args.reps)
    else:
        result = dict(ls_phases(project, args.select))
    result["dbt_imported"] = sorted(
        name for name in sys.modules if name == "dbt" or name.startswith(("dbt.", "dbt_"))
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
