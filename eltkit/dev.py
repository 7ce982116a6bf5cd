"""``eltkit dev``: watch the project and rebuild what a save affects.

One process stays up, with dbt imported and its partial-parse cache warm, so
a save costs a partial parse plus the rebuild itself. Saves that arrive while
a rebuild runs are queued, not used to cancel it: cancelling dbt half-way
leaves relations dropped and not yet recreated, while a rebuild of a few
nodes takes a second or two; the watcher keeps collecting changes meanwhile,
and the next rebuild covers all of them, so the screen always ends in the
state of the latest save.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from eltkit.dbt.manifest import read_manifest, write_stamp
from eltkit.dev_changes import PROJECT_FILES, Affected, changed_nodes, with_downstream
from eltkit.errors import EltkitError
from eltkit.project import Project, load_project
from eltkit.run.executor import RunOptions
from eltkit.run.plan import make_plan

_IGNORED_DIRS = frozenset({"target", "logs", "dbt_packages", ".eltkit", "__pycache__", ".git",
                           ".venv", "venv", "node_modules"})
_IGNORED_SUFFIXES = (".duckdb", ".duckdb.wal", ".wal", ".lock", ".swp", ".swx", ".swo", "~",
                     ".tmp", ".pyc", ".db", ".db-wal", ".db-shm")


@dataclass
class DevOptions:
    select: list[str] | None = None
    exclude: list[str] | None = None
    downstream: bool = True
    threads: int | None = None
    debounce_ms: int = 400
    step_ms: int = 80


def watched(project: Project) -> Callable[[Any, str], bool]:
    """The watchfiles filter: project sources only, never outputs or editor droppings."""
    root = project.dbt_project_dir.resolve()
    extra_roots = [project.root.resolve()]
    ignored = {project.target_path, project.log_path, project.dbt_project_dir / "dbt_packages"}

    def accept(_change: Any, path: str) -> bool:
        file = Path(path)
        name = file.name
        if name.endswith(_IGNORED_SUFFIXES) or name.startswith((".#", "#")) or name == "4913":
            return False
        if any(part in _IGNORED_DIRS or part.startswith(".") for part in _relative_parts(
                file, [root, *extra_roots])):
            return False
        return not any(file.is_relative_to(folder) for folder in ignored)

    return accept


def _relative_parts(file: Path, roots: list[Path]) -> tuple[str, ...]:
    for root in roots:
        if file.is_relative_to(root):
            return file.relative_to(root).parts[:-1]
    return file.parts[:-1]


class DevSession:
    """The state between saves: the last good manifest and the project."""

    def __init__(self, project_dir: Path | None, options: DevOptions, out: IO[str],
                 load: Callable[[], Project]) -> None:
        self.project_dir = project_dir
        self.options = options
        self.out = out
        self._load = load
        self.project = load()
        self.manifest = self.project.manifest
        self.dbt_manifest: Any = None
        self.rebuilds = 0
        #: Files saved since the last good parse: a save that broke the parse and
        #: the save that fixed it are mapped together.
        self.pending: set[str] = set()

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def start(self) -> None:
        graph = self.project.graph
        models = sum(1 for n in graph.nodes.values() if n.resource_type == "model")
        tasks = sum(1 for n in graph.nodes.values() if n.resource_type == "task")
        self.say(f"eltkit dev: watching {self.project.dbt_project_dir} ({models} models, "
                 f"{tasks} tasks); save a file to rebuild what it affects, Ctrl-C to stop")

    def on_changes(self, paths: Iterable[str]) -> None:
        """Reparse, work out what the saved files affect, rebuild it, report."""
        saved = {self._relative(path) for path in paths}
        relative = sorted(path for path in saved if self._is_project_file(path))
        if not relative:
            return
        self.say(f"changed: {', '.join(relative)}")
        self.pending.update(relative)
        relative = sorted(self.pending)
        full = any(PurePosixPath(path).name in PROJECT_FILES for path in relative)
        try:
            previous = self.manifest
            self.project = self._load() if full else self._reloaded_tasks(relative)
            self.project.parse = True
            manifest = self._parse()
            graph = self.project.graph
        except EltkitError as exc:
            self.say(f"error: {exc.message}")
            self.say("waiting for changes (fix the error and save again)")
            return
        self.manifest = manifest
        self.pending.clear()
        within = self._selection()
        if full:
            affected = Affected({uid: "project settings changed" for uid in sorted(within or
                                 graph.nodes) if graph.nodes[uid].resource_type != "source"})
        else:
            task_files = {n.name: n.original_file_path for n in graph.nodes.values()
                          if n.resource_type == "task"}
            affected = changed_nodes(previous, manifest, graph, relative, task_files)
        affected = with_downstream(affected, graph, downstream=self.options.downstream,
                                   within=within)
        plan = make_plan(graph, "build", affected.unique_ids)
        if not plan.nodes:
            self.say("nothing to rebuild: no node of the selection changed")
            self.say("waiting for changes")
            return
        self.say(f"rebuilding {len(plan.nodes)} node{'s' if len(plan.nodes) != 1 else ''}:")
        for uid in plan.order:
            self.say(f"  {graph.nodes[uid].search_name:<40} {affected.reasons[uid]}")
        self._rebuild(plan, relative)
        self.say("waiting for changes")

    def _reloaded_tasks(self, relative: list[str]) -> Project:
        """Task modules reload from disk; every other change is dbt's to reparse."""
        project = self.project
        if any(path.endswith(".py") for path in relative) and project.config.tasks:
            project.__dict__.pop("tasks", None)
        project.__dict__.pop("manifest", None)
        project.__dict__.pop("graph", None)
        return project

    def _parse(self) -> dict[str, Any]:
        from eltkit.dbt.parse import parse_project

        inputs = self.project.parse_inputs
        self.dbt_manifest = parse_project(inputs)
        write_stamp(inputs)
        manifest = read_manifest(inputs.manifest_path)
        self.project.__dict__["manifest"] = manifest
        return manifest

    def _selection(self) -> set[str] | None:
        if not self.options.select and not self.options.exclude:
            return None
        return self.project.select(self.options.select, self.options.exclude).selected

    def _rebuild(self, plan: Any, changed: list[str]) -> None:
        from eltkit.cli_run import run_options, summary_line
        from eltkit.run.progress import ProgressPrinter
        from eltkit.run.runner import execute_plan

        options: RunOptions = run_options(self.project, self.options.threads, fail_fast=False)
        options.dbt_manifest = self.dbt_manifest
        options.write_dbt_artifacts = False
        started = time.monotonic()

        def reporter(plan: Any, store: Any, run_id: str) -> Any:
            return ProgressPrinter(plan, store.typical_durations(plan.nodes), self.out,
                                   color=self.out.isatty() and "NO_COLOR" not in os.environ)

        try:
            outcome = execute_plan(self.project, plan, selection={"changed": changed},
                                   trigger="dev", options=options, wait=True, reporter=reporter)
        except EltkitError as exc:
            self.say(f"error: {exc.message}")
            return
        self.rebuilds += 1
        self.say(summary_line(outcome, time.monotonic() - started))
        for node in outcome.nodes:
            if node.status in ("error", "timed_out") and node.message:
                self.say(f"  {node.status.upper()} {node.name}: {node.message}")

    def _is_project_file(self, relative: str) -> bool:
        """A file that exists, or one the project knew (a deleted model): not an
        editor's or sed's short-lived temporary file."""
        if (self.project.dbt_project_dir / relative).exists() or (
                self.project.root / relative).exists():
            return True
        known = {entry.get("original_file_path") for section in ("nodes", "macros", "sources")
                 for entry in (self.manifest.get(section) or {}).values()}
        return relative in known

    def _relative(self, path: str) -> str:
        file = Path(path).resolve()
        for root in (self.project.dbt_project_dir, self.project.root):
            if file.is_relative_to(root.resolve()):
                return file.relative_to(root.resolve()).as_posix()
        return str(file)


def watch(session: DevSession, stop: threading.Event | None = None) -> None:
    """Block, rebuilding on every batch of saves, until Ctrl-C or ``stop``."""
    import watchfiles

    project = session.project
    roots = sorted({str(project.dbt_project_dir), str(project.root)})
    session.start()
    ready = False
    for changes in watchfiles.watch(
        *roots, watch_filter=watched(project), debounce=session.options.debounce_ms,
        step=session.options.step_ms, stop_event=stop, raise_interrupt=False,
        rust_timeout=300, yield_on_timeout=True,
    ):
        if not ready:
            # The first yield (a timeout) proves the watcher is live: only now is
            # it true that a save will be seen.
            ready = True
            session.say("waiting for changes")
        if changes:
            session.on_changes(path for _change, path in changes)


def run_dev(project_dir: Path | None, options: DevOptions, *, target: str | None = None,
            profiles_dir: Path | None = None, vars: dict[str, Any] | None = None,
            out: IO[str] | None = None) -> None:
    def load() -> Project:
        return load_project(project_dir, target=target, profiles_dir=profiles_dir, vars=vars)

    session = DevSession(project_dir, options, out or sys.stdout, load)
    watch(session)
