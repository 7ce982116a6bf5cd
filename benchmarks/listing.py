"""Section 1: selection and listing on generated projects (``eltkit ls`` vs ``dbt ls``)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._common import (
    BenchmarkError,
    clean_env,
    json_lines,
    log,
    median,
    run_timed,
    tool,
)
from benchmarks.synthetic import generate_project

LS_SELECT = "tag:tag_a"
_IMPORT_LINE = re.compile(r"^import time:\s*(\d+)\s*\|\s*(\d+)\s*\|(\s*)(\S+)\s*$")


@dataclass
class ListingResult:
    n_models: int
    parse_s: float = 0.0
    eltkit_ls_s: list[float] = field(default_factory=list)
    eltkit_ls_cpu_s: list[float] = field(default_factory=list)
    eltkit_ls_json_s: float = 0.0
    dbt_ls_s: list[float] = field(default_factory=list)
    dbt_ls_cpu_s: list[float] = field(default_factory=list)
    eltkit_listed: int = 0  # every node eltkit ls printed, tasks included
    eltkit_tasks: int = 0
    eltkit_dbt_nodes: int = 0
    dbt_nodes: int = 0
    only_eltkit: list[str] = field(default_factory=list)
    only_dbt: list[str] = field(default_factory=list)
    importtime_modules: int = 0
    importtime_dbt_modules: list[str] = field(default_factory=list)
    importtime_slowest: list[tuple[str, float]] = field(default_factory=list)
    graph: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, Any] = field(default_factory=dict)

    @property
    def same_nodes(self) -> bool:
        return not self.only_eltkit and not self.only_dbt and self.dbt_nodes > 0


def _unique_ids(text: str) -> set[str]:
    return {str(item["unique_id"]) for item in json_lines(text) if "unique_id" in item}


def _importtime(stderr: str) -> tuple[list[str], list[tuple[str, float]]]:
    """Every imported module, and the top-level imports by cumulative time (ms)."""
    modules: list[str] = []
    top: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        modules.append(match.group(4))
        if len(match.group(3)) <= 1:  # one space: imported by __main__ itself
            top.append((match.group(4), int(match.group(2)) / 1000.0))
    top.sort(key=lambda item: item[1], reverse=True)
    return modules, top


def is_dbt_module(name: str) -> bool:
    """dbt-core and its own libraries (dbt_common, dbt_adapters, dbt_semantic_interfaces, ...)."""
    return name == "dbt" or name.startswith(("dbt.", "dbt_"))


def measure_listing(
    work: Path, n_models: int, *, eltkit_reps: int, dbt_reps: int, inprocess_reps: int
) -> ListingResult:
    eltkit, dbt = tool("eltkit"), tool("dbt")
    result = ListingResult(n_models)
    project = work / f"ls_{n_models}"
    logs = work / "logs"
    log(f"ls N={n_models}: generating {project}")
    generate_project(project, n_models, seed=0, with_tasks=True)

    log(f"ls N={n_models}: first `eltkit ls` (runs dbt parse; not a measured figure)")
    ls_args = [eltkit, "ls", "--select", LS_SELECT]
    first = run_timed(ls_args, project, log=logs / f"ls_{n_models}_parse.log")
    result.parse_s = first.seconds

    for rep in range(eltkit_reps):
        timed = run_timed(ls_args, project, log=logs / f"ls_{n_models}_eltkit_{rep}.log")
        if timed.stdout != first.stdout:
            raise BenchmarkError(f"eltkit ls N={n_models}: output changed between runs")
        result.eltkit_ls_s.append(timed.seconds)
        result.eltkit_ls_cpu_s.append(timed.cpu_s)
    log(f"ls N={n_models}: eltkit ls {', '.join(f'{s:.2f}' for s in result.eltkit_ls_s)} s")

    dbt_ids: set[str] = set()
    dbt_args = [dbt, "ls", "--select", LS_SELECT, "--profiles-dir", ".",
                "--output", "json", "--output-keys", "unique_id"]
    for rep in range(dbt_reps):
        timed = run_timed(dbt_args, project, log=logs / f"ls_{n_models}_dbt_{rep}.log")
        dbt_ids = _unique_ids(timed.stdout)
        result.dbt_ls_s.append(timed.seconds)
        result.dbt_ls_cpu_s.append(timed.cpu_s)
    log(f"ls N={n_models}: dbt ls {', '.join(f'{s:.2f}' for s in result.dbt_ls_s)} s")

    # After dbt ls rewrote target/manifest.json: eltkit must still reuse it.
    timed = run_timed([eltkit, "ls", "--select", LS_SELECT, "--output", "json"], project,
                      log=logs / f"ls_{n_models}_eltkit_json.log")
    result.eltkit_ls_json_s = timed.seconds
    listed = json_lines(timed.stdout)
    eltkit_ids = {str(item["unique_id"]) for item in listed}
    eltkit_dbt_ids = {uid for uid in eltkit_ids if not uid.startswith("task.")}
    result.eltkit_listed = len(eltkit_ids)
    result.eltkit_tasks = len(eltkit_ids) - len(eltkit_dbt_ids)
    result.eltkit_dbt_nodes = len(eltkit_dbt_ids)
    result.dbt_nodes = len(dbt_ids)
    result.only_eltkit = sorted(eltkit_dbt_ids - dbt_ids)
    result.only_dbt = sorted(dbt_ids - eltkit_dbt_ids)

    timed = run_timed([sys.executable, "-X", "importtime", "-m", "eltkit.cli", "ls",
                       "--select", LS_SELECT], project,
                      log=logs / f"ls_{n_models}_importtime.log")
    modules, top = _importtime(timed.stderr)
    result.importtime_modules = len(modules)
    result.importtime_dbt_modules = sorted({m for m in modules if is_dbt_module(m)})
    result.importtime_slowest = top[:6]

    log(f"ls N={n_models}: in-process graph build and selection ({inprocess_reps} reps)")
    env = clean_env(repo_on_path=True)
    timed = run_timed([sys.executable, "-m", "benchmarks.inprocess", "graph", str(project),
                       "--reps", str(inprocess_reps)], project, env=env,
                      log=logs / f"ls_{n_models}_graph.log")
    result.graph = json.loads(timed.stdout.strip().splitlines()[-1])
    timed = run_timed([sys.executable, "-m", "benchmarks.inprocess", "phases", str(project),
                       "--select", LS_SELECT], project, env=env,
                      log=logs / f"ls_{n_models}_phases.log")
    result.phases = json.loads(timed.stdout.strip().splitlines()[-1])
    log(f"ls N={n_models}: done (eltkit median {median(result.eltkit_ls_s):.2f} s, "
        f"dbt median {median(result.dbt_ls_s):.2f} s, same nodes: {result.same_nodes})")
    return result
