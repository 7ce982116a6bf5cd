"""A project: eltkit.yml (optional), its dbt project, its tasks and their DAG.

``load_project()`` is the library's front door; the CLI, the TUI, the
scheduler and the pytest plugin all start here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from eltkit.config import CONFIG_FILE_NAME, EltkitConfig, load_config
from eltkit.dbt.manifest import ParseInputs, ensure_manifest, read_manifest
from eltkit.errors import ConfigError, ProjectNotFoundError
from eltkit.graph.build import build_graph
from eltkit.graph.dag import Graph
from eltkit.graph.selection import (
    IndirectSelection,
    MethodContext,
    PreviousState,
    SelectionResult,
    Selector,
    SelectorsFile,
    parse_selection,
)
from eltkit.task_modules import load_tasks, module_file
from eltkit.tasks import TaskSpec

DBT_PROJECT_FILE = "dbt_project.yml"


@dataclass
class Project:
    """One eltkit project. Expensive parts (manifest, graph) load on first use."""

    root: Path
    config_path: Path | None
    config: EltkitConfig
    dbt_project_dir: Path
    dbt_project: dict[str, Any]
    profiles_dir: Path | None
    target: str | None
    vars: dict[str, Any] = field(default_factory=dict)
    parse: bool = True

    @property
    def name(self) -> str:
        return str(self.dbt_project.get("name", self.dbt_project_dir.name))

    @property
    def target_path(self) -> Path:
        configured = os.environ.get("DBT_TARGET_PATH") or self.dbt_project.get(
            "target-path", "target"
        )
        return (self.dbt_project_dir / configured).resolve()

    @property
    def log_path(self) -> Path:
        configured = os.environ.get("DBT_LOG_PATH") or self.dbt_project.get("log-path", "logs")
        return (self.dbt_project_dir / configured).resolve()

    @property
    def threads(self) -> int | None:
        return self.config.dbt.threads

    @property
    def parse_inputs(self) -> ParseInputs:
        return ParseInputs(
            project_dir=self.dbt_project_dir,
            target_path=self.target_path,
            profiles_dir=self.profiles_dir,
            target=self.target,
            vars=self.vars,
            excluded_dirs=(self.target_path, self.log_path,
                           self.dbt_project_dir / "dbt_packages", *self._landing_folders()),
            excluded_files=self._history_files(),
        )

    def _landing_folders(self) -> tuple[Path, ...]:
        """Folders where on_file jobs wait for files: data lands there, not dbt code, so
        a new CSV must not make the manifest look stale (and cost a parse). A folder
        that overlaps one of dbt's own folders (seeds/, models/...) still counts."""
        dbt_folders = [
            (self.dbt_project_dir / folder).resolve()
            for key, default in (("model-paths", ["models"]), ("seed-paths", ["seeds"]),
                                 ("macro-paths", ["macros"]), ("snapshot-paths", ["snapshots"]),
                                 ("test-paths", ["tests"]), ("analysis-paths", ["analyses"]))
            for folder in self.dbt_project.get(key, default)
        ]
        found = []
        for job in self.config.jobs.values():
            if job.on_file is None:
                continue
            folder = job.on_file.folder(self.root).resolve()
            overlaps = any(folder.is_relative_to(own) or own.is_relative_to(folder)
                           for own in dbt_folders)
            if folder != self.root.resolve() and not overlaps:
                found.append(folder)
        return tuple(found)

    def _history_files(self) -> tuple[Path, ...]:
        """The run history (and SQLite's side files): written by every run, read by none
        of dbt, so they must not make the manifest look stale."""
        if self.config.history is None:
            return ()
        path = (self.root / self.config.history).resolve()
        return (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"))

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """target/manifest.json as plain data, parsed by dbt only when stale."""
        if not self.parse:
            return read_manifest(self.parse_inputs.manifest_path)
        return ensure_manifest(self.parse_inputs)

    @cached_property
    def tasks(self) -> list[TaskSpec]:
        if not self.config.tasks:
            return []
        return load_tasks(self.config.tasks, self.root, self.config_path or self.root)

    @cached_property
    def graph(self) -> Graph:
        """The unified DAG: dbt resources plus Python tasks, checked for cycles."""
        task_files = {spec.name: module_file(spec) or "" for spec in self.tasks}
        return build_graph(
            self.manifest, self.tasks, project_root=self.dbt_project_dir, task_files=task_files
        )

    @cached_property
    def selectors_file(self) -> SelectorsFile | None:
        return SelectorsFile.load(self.dbt_project_dir / "selectors.yml")

    def select(
        self,
        select: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        *,
        selector: str | None = None,
        resource_types: Sequence[str] | None = None,
        exclude_resource_types: Sequence[str] | None = None,
        indirect_selection: str = "eager",
        state: Path | None = None,
    ) -> SelectionResult:
        """Unique ids selected by dbt-style ``--select/--exclude/--selector``."""
        from eltkit.graph.selection.filters import filter_resource_types

        mode = IndirectSelection(indirect_selection)
        default = None
        if selector is not None:
            # As in dbt, a named selector replaces --select and --exclude entirely.
            if self.selectors_file is None:
                raise ConfigError(
                    f"{self.dbt_project_dir / 'selectors.yml'}: --selector {selector} needs "
                    "this file; create it or drop --selector"
                )
            default, select, exclude = self.selectors_file.spec(selector), None, None
        elif not select and not exclude and self.selectors_file is not None \
                and self.selectors_file.default is not None:
            default = self.selectors_file.spec(self.selectors_file.default)
        spec = parse_selection(
            list(select) if select else None,
            list(exclude) if exclude else None,
            indirect=mode,
            default=default,
        )
        previous = PreviousState.load(state, self.manifest) if state is not None else None
        context = MethodContext(self.dbt_project_dir, self.name, previous)
        result = Selector(self.graph, context).select(spec)
        result.selected = filter_resource_types(
            self.graph, result.selected, resource_types, exclude_resource_types
        )
        return result


def find_project_file(start: Path) -> Path | None:
    """eltkit.yml or dbt_project.yml in ``start`` or its parents, as dbt looks.

    The nearest file wins, except that an eltkit.yml further up whose
    ``dbt.project_dir`` is the dbt project found below still owns it: running
    from inside the dbt folder must not silently drop the project's tasks.
    """
    nearest_dbt: Path | None = None
    for folder in (start, *start.parents):
        config = folder / CONFIG_FILE_NAME
        if config.is_file():
            if nearest_dbt is None or _points_at(config, nearest_dbt.parent):
                return config
            return nearest_dbt
        dbt_file = folder / DBT_PROJECT_FILE
        if nearest_dbt is None and dbt_file.is_file():
            nearest_dbt = dbt_file
    return nearest_dbt


def _points_at(config_path: Path, dbt_dir: Path) -> bool:
    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return False
    dbt = data.get("dbt") if isinstance(data, dict) else None
    project_dir = dbt.get("project_dir", ".") if isinstance(dbt, dict) else "."
    return (config_path.parent / str(project_dir)).resolve() == dbt_dir.resolve()


def load_project(
    path: str | Path | None = None,
    *,
    target: str | None = None,
    profiles_dir: str | Path | None = None,
    vars: dict[str, Any] | None = None,
    parse: bool = True,
) -> Project:
    """Find and read a project (eltkit.yml or a plain dbt project) at ``path``.

    Without ``path``, look in the current folder and its parents. Nothing is
    parsed or imported yet: that happens on first use of ``.graph``.
    """
    found = _locate(Path(path) if path is not None else None)
    if found.name == CONFIG_FILE_NAME:
        config_path: Path | None = found
        config = load_config(found)
        root = found.parent
        dbt_dir = (root / config.dbt.project_dir).resolve()
        if not (dbt_dir / DBT_PROJECT_FILE).is_file():
            raise ConfigError(
                f"{found}: dbt.project_dir: no {DBT_PROJECT_FILE} in {dbt_dir}; point "
                "dbt.project_dir at the folder of your dbt project"
            )
    else:
        config_path = None
        config = EltkitConfig.model_validate({})
        root = found.parent
        dbt_dir = root
    dbt_project = _read_dbt_project(dbt_dir / DBT_PROJECT_FILE)
    return Project(
        root=root,
        config_path=config_path,
        config=config,
        dbt_project_dir=dbt_dir,
        dbt_project=dbt_project,
        profiles_dir=_profiles_dir(profiles_dir, config, root, dbt_dir),
        target=target or config.dbt.target,
        vars={**config.dbt.vars, **(vars or {})},
        parse=parse,
    )


def _locate(path: Path | None) -> Path:
    if path is None:
        found = find_project_file(Path.cwd())
        if found is None:
            raise ProjectNotFoundError(
                f"{Path.cwd()}: no {CONFIG_FILE_NAME} or {DBT_PROJECT_FILE} here or in any "
                "parent folder; cd into your project or pass --project DIR"
            )
        return found.resolve()
    path = path.resolve()
    if path.is_file() and path.name in (CONFIG_FILE_NAME, DBT_PROJECT_FILE):
        return path
    if path.is_dir():
        for name in (CONFIG_FILE_NAME, DBT_PROJECT_FILE):
            if (path / name).is_file():
                return path / name
        raise ProjectNotFoundError(
            f"{path}: no {CONFIG_FILE_NAME} or {DBT_PROJECT_FILE} in this folder; "
            "pass the folder of your dbt project to --project"
        )
    raise ProjectNotFoundError(f"{path}: no such project folder; check the --project path")


def _read_dbt_project(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or "name" not in data:
        raise ConfigError(f"{path}: not a dbt project file (it needs at least 'name:')")
    return data


def _profiles_dir(
    explicit: str | Path | None, config: EltkitConfig, root: Path, dbt_dir: Path
) -> Path | None:
    """Where profiles.yml is, the way dbt finds it (explicit, env, project, ~/.dbt)."""
    if explicit is not None:
        return Path(explicit).resolve()
    if config.dbt.profiles_dir is not None:
        return (root / config.dbt.profiles_dir).resolve()
    env = os.environ.get("DBT_PROFILES_DIR")
    if env:
        return Path(env).resolve()
    if (dbt_dir / "profiles.yml").is_file():
        return dbt_dir
    return None  # dbt's own default: ~/.dbt
