"""Section 2: executing a project, ``dbt run|build`` vs ``eltkit run|build``.

Every measured command runs on its own fresh copy of one prepared template
(raw tables loaded, seeds and the snapshot built, manifest parsed), so each
starts from the same warehouse and the same partial-parse state.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._common import BenchmarkError, json_lines, log, median, run_timed, tool
from benchmarks.synthetic import generate_project, plan_project

THREADS = "4"
TASK_EXCLUDE = "tag:extract"  # the extract tasks: eltkit runs dbt nodes only, like dbt
COMMANDS = ("run", "build")
_DBT_DONE = re.compile(
    r"Done\. (PASS=\d+ WARN=\d+ ERROR=\d+ SKIP=\d+(?: NO-OP=(\d+))? TOTAL=(\d+))")
_ELTKIT_DONE = re.compile(r"^(SUCCESS|FAILED|[A-Z]+): (\d+) passed, (\d+) failed, (\d+) skipped.*$",
                          re.MULTILINE)


@dataclass
class Measurement:
    tool: str  # dbt | eltkit
    command: str  # run | build
    order: int  # position in the sequence of measured commands at this N
    seconds: float
    nodes: int | None  # how many nodes the tool reported
    summary: str
    cpu_s: float = float("nan")


@dataclass
class PerModel:
    name: str
    materialized: str
    seconds: float


@dataclass
class ExecutionResult:
    n_models: int
    dbt_models: int = 0
    eltkit_models: int = 0
    tasks_in_selection: int = 0
    same_models: bool = False
    runnable_models: int = 0
    prepare_s: dict[str, float] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    per_model: list[PerModel] = field(default_factory=list)
    skipped_extra: list[str] = field(default_factory=list)

    def times(self, tool_name: str, command: str) -> list[float]:
        return [m.seconds for m in self.measurements
                if m.tool == tool_name and m.command == command]

    def cpu_times(self, tool_name: str, command: str) -> list[float]:
        return [m.cpu_s for m in self.measurements
                if m.tool == tool_name and m.command == command]

    def ratio(self, command: str) -> float:
        return median(self.times("eltkit", command)) / median(self.times("dbt", command))

    @property
    def per_model_median(self) -> float:
        return median([p.seconds for p in self.per_model])


def _command(tool_name: str, command: str) -> list[str]:
    if tool_name == "dbt":
        return [tool("dbt"), command, "--profiles-dir", ".", "--threads", THREADS]
    return [tool("eltkit"), command, "--exclude", TASK_EXCLUDE, "--threads", THREADS]


def _reported_nodes(tool_name: str, output: str) -> tuple[int | None, str]:
    if tool_name == "dbt":
        # dbt build counts the exposure as a NO-OP node; eltkit plans only what executes.
        found = _DBT_DONE.search(output)
        if found is None:
            return None, ""
        return int(found.group(3)) - int(found.group(2) or 0), found.group(1)
    match = _ELTKIT_DONE.search(output)
    if match is None:
        return None, ""
    total = int(match.group(2)) + int(match.group(3)) + int(match.group(4))
    return total, match.group(0).strip()


def _per_model_candidates(n_models: int) -> list[tuple[str, str]]:
    """A staging model, an intermediate one and a mart: (name, materialization)."""
    plan = plan_project(n_models, seed=0)
    runnable = [m for m in plan.models if m.enabled and not m.is_ephemeral
                and not m.is_incremental]
    picks = []
    for prefix in ("staging", "intermediate/", "marts/"):
        pool = [m for m in runnable if m.folder.startswith(prefix)]
        if pool:
            chosen = pool[len(pool) // 2]
            default = {"staging": "view", "intermediate/": "view", "marts/": "table"}[prefix]
            picks.append((chosen.name, chosen.materialized or default))
    return picks


def _fresh_copy(template: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    # copy2 keeps modification times, so the copied manifest stays current for eltkit
    shutil.copytree(template, dest, symlinks=True, ignore=shutil.ignore_patterns("logs"))
    return dest


def prepare_template(work: Path, n_models: int, result: ExecutionResult) -> Path:
    """Generate, load raw tables, parse, build seeds and the snapshot; check the selection."""
    dbt, eltkit = tool("dbt"), tool("eltkit")
    template = work / f"exec_{n_models}" / "template"
    logs = work / "logs"
    log(f"exec N={n_models}: preparing {template}")
    generate_project(template, n_models, seed=0, with_tasks=True)
    timed = run_timed([sys.executable, "load_raw.py"], template,
                      log=logs / f"exec_{n_models}_load.log")
    result.prepare_s["python load_raw.py"] = timed.seconds

    timed = run_timed([eltkit, "ls", "--exclude", TASK_EXCLUDE, "--output", "json"], template,
                      log=logs / f"exec_{n_models}_parse.log")
    result.prepare_s["eltkit ls (dbt parse)"] = timed.seconds
    selection = json_lines(timed.stdout)
    models = {str(n["unique_id"]) for n in selection if n.get("resource_type") == "model"}
    result.tasks_in_selection = sum(1 for n in selection if n.get("resource_type") == "task")
    result.runnable_models = sum(1 for n in selection if n.get("resource_type") == "model"
                                 and n.get("materialized") != "ephemeral")
    timed = run_timed([eltkit, "ls", "--exclude", TASK_EXCLUDE, "--resource-type", "model"],
                      template, log=logs / f"exec_{n_models}_ls_models.log")
    result.eltkit_models = len(timed.stdout.split())
    timed = run_timed([dbt, "ls", "--resource-type", "model", "--profiles-dir", ".",
                       "--output", "json", "--output-keys", "unique_id"], template,
                      log=logs / f"exec_{n_models}_dbt_ls_models.log")
    dbt_models = {str(n["unique_id"]) for n in json_lines(timed.stdout)}
    result.dbt_models = len(dbt_models)
    result.same_models = (dbt_models == models and result.eltkit_models == len(dbt_models)
                          and result.tasks_in_selection == 0)
    if not result.same_models:
        raise BenchmarkError(
            f"exec N={n_models}: `eltkit ls --exclude {TASK_EXCLUDE}` is not dbt's models: "
            f"{result.eltkit_models} models and {result.tasks_in_selection} tasks vs "
            f"{len(dbt_models)} dbt models"
        )

    # Seeds and the snapshot (with the staging model it reads), so `dbt run` finds them.
    timed = run_timed([dbt, "build", "--select", "resource_type:seed", "+resource_type:snapshot",
                       "--exclude", "resource_type:test", "resource_type:unit_test",
                       "--profiles-dir", "."], template,
                      log=logs / f"exec_{n_models}_seeds_snapshot.log")
    result.prepare_s["dbt build seeds + snapshot"] = timed.seconds
    return template


def measure_execution(
    work: Path, n_models: int, *, deadline: float, extras: Sequence[tuple[str, str]],
    per_model: int
) -> ExecutionResult:
    """dbt then eltkit for run and build; then each of ``extras`` (tool, command) that
    fits before the deadline."""
    result = ExecutionResult(n_models)
    template = prepare_template(work, n_models, result)
    logs = work / "logs"
    base = template.parent
    order = 0

    def measure(tool_name: str, command: str) -> Path:
        nonlocal order
        order += 1
        copy = _fresh_copy(template, base / f"{order:02d}_{tool_name}_{command}")
        log(f"exec N={n_models}: #{order} {tool_name} {command} ...")
        timed = run_timed(_command(tool_name, command), copy,
                          log=logs / f"exec_{n_models}_{order:02d}_{tool_name}_{command}.log")
        nodes, summary = _reported_nodes(tool_name, timed.stdout + timed.stderr)
        result.measurements.append(
            Measurement(tool_name, command, order, timed.seconds, nodes, summary, timed.cpu_s))
        log(f"exec N={n_models}: #{order} {tool_name} {command}: {timed.seconds:.1f} s wall, "
            f"{timed.cpu_s:.1f} s CPU ({summary})")
        return copy

    first_run = measure("dbt", "run")
    if per_model:
        for name, materialized in _per_model_candidates(n_models)[:per_model]:
            timed = run_timed([tool("dbt"), "run", "--select", name, "--profiles-dir", "."],
                              first_run, log=logs / f"exec_{n_models}_one_{name}.log")
            result.per_model.append(PerModel(name, materialized, timed.seconds))
            log(f"exec N={n_models}: dbt run --select {name}: {timed.seconds:.1f} s")
    shutil.rmtree(first_run)
    shutil.rmtree(measure("eltkit", "run"))
    shutil.rmtree(measure("dbt", "build"))
    shutil.rmtree(measure("eltkit", "build"))
    for tool_name, command in extras:
        estimate = max(result.times(tool_name, command))
        if time.perf_counter() + estimate * 1.1 > deadline:
            result.skipped_extra.append(f"{tool_name} {command}")
            log(f"exec N={n_models}: no time left for another {tool_name} {command}")
            continue
        shutil.rmtree(measure(tool_name, command))
    _check_same_work(result)
    return result


def _check_same_work(result: ExecutionResult) -> None:
    """Both tools must have run every node, and as many nodes."""
    for command in COMMANDS:
        counts = {(m.tool, m.nodes) for m in result.measurements if m.command == command}
        if len({nodes for _, nodes in counts}) != 1 or None in {n for _, n in counts}:
            raise BenchmarkError(
                f"exec N={result.n_models}: {command}: dbt and eltkit did not report the same "
                f"node count: {sorted(counts, key=str)}"
            )
