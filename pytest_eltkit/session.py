"""One prepared project per pytest process: a private copy, parsed once, seeds in a template.

Why each step:

* **A private copy.** dbt writes target/ and logs/ while it runs, and with
  pytest-xdist several processes run at once; each worker works in its own copy so
  no two processes ever write the same file.
* **A throwaway profile.** The copy is pointed at a profiles.yml the plugin
  writes, whose only output is a DuckDB file inside the worker's folder. A test
  can never reach the user's real warehouse, whatever their profiles.yml says.
* **Parsed once, and cached across sessions.** Parsing costs seconds, so the
  worker parses once and hands dbt's Manifest object to every later invocation.
  The parse profile is the same in every worker and every session, so dbt's
  partial-parse file can be kept in pytest's cache folder and the next session
  parses only what changed.
* **Seeds in a template.** Seeds are loaded once into a template DuckDB file; a
  test's database is a copy of that file, which costs milliseconds, not a
  ``dbt seed``.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

from eltkit.dbt.invoke import release_dbt_duckdb
from eltkit.errors import EltkitError

if TYPE_CHECKING:
    from eltkit.project import Project
    from eltkit.run.runner import RunOutcome
    from pytest_eltkit.options import Settings

#: The env var the throwaway profile reads its DuckDB path from.
DUCKDB_PATH_ENV = "ELTKIT_PYTEST_DUCKDB_PATH"
#: Every database file has this name: DuckDB names the catalog after the file's stem,
#: and the parsed manifest has that catalog name baked into every relation.
DB_FILE_NAME = "warehouse.duckdb"
PROFILE_TARGET = "pytest"
_COPY_IGNORED = ("target", "logs", "*.duckdb", "*.duckdb.wal", "*.eltkit.lock", ".eltkit",
                 ".eltkit-pytest", "__pycache__", ".pytest_cache", ".git", ".venv", "venv",
                 ".nox", ".mypy_cache", ".ruff_cache", "node_modules")
_PARTIAL_PARSE = "partial_parse.msgpack"


class SessionError(EltkitError):
    """The project cannot be prepared for pipeline tests (it does not parse, ...)."""


@dataclass(frozen=True)
class Workspace:
    """The files of one harness: its DuckDB file, its dbt target/ and logs/."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / DB_FILE_NAME

    @property
    def target_path(self) -> Path:
        return self.root / "target"

    @property
    def log_path(self) -> Path:
        return self.root / "logs"

    @property
    def log_file(self) -> Path:
        return self.log_path / "dbt.log"


@contextlib.contextmanager
def pointed_at(workspace: Workspace) -> Iterator[None]:
    """Point dbt (and eltkit's profile reading) at this workspace for one invocation.

    The profile reads the DuckDB path from an env var, and dbt takes target and
    log folders from env vars, so one parsed project serves every test's files.
    The file log is at info level (eltkit silences dbt's console, which also
    silences the file unless it is set): a failed build shows its tail.
    """
    values = {
        DUCKDB_PATH_ENV: str(workspace.database),
        "DBT_TARGET_PATH": str(workspace.target_path),
        "DBT_LOG_PATH": str(workspace.log_path),
        "DBT_LOG_LEVEL_FILE": "info",
        # Tests never phone home, whatever the project's flags say.
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # dbt rewrites manifest.json (a third of a small build's time, measured on the
        # sample) and run_results.json after every invocation; nothing reads them here
        # (results come from dbt's events). Compiled SQL and the log are still written.
        # Set DBT_WRITE_JSON=true to get them in kept target/ folders.
        "DBT_WRITE_JSON": os.environ.get("DBT_WRITE_JSON", "false"),
    }
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def locate_project(settings: Settings) -> Path:
    """The project folder: the option, else eltkit's own search from the folder pytest
    started in, the test paths given, then the rootdir."""
    from eltkit.project import find_project_file

    if settings.project_dir is not None:
        if not settings.project_dir.is_dir():
            raise SessionError(f"--eltkit-project-dir {settings.project_dir}: no such folder")
        return settings.project_dir
    starts = [settings.invocation_dir]
    for arg in settings.args:
        path = (settings.invocation_dir / arg.split("::")[0]).resolve()
        starts.append(path if path.is_dir() else path.parent)
    starts.append(settings.rootdir)
    for start in starts:
        found = find_project_file(start)
        if found is not None:
            return found.parent
    raise SessionError(
        f"{settings.invocation_dir}: no eltkit.yml or dbt_project.yml here, in the test "
        "paths or in the rootdir; set eltkit_project_dir in the pytest ini file or pass "
        "--eltkit-project-dir")


class PipelineSession:
    """The worker's prepared project; harnesses get their databases from it."""

    def __init__(self, settings: Settings, project: Project, source_root: Path, base: Path,
                 dbt_manifest: Any, lock: IO[str]) -> None:
        self._lock = lock
        self.settings = settings
        self.project = project
        #: The user's own project folder (node ids of dbt test items are relative to it).
        self.source_root = source_root
        self.base = base
        self.dbt_manifest = dbt_manifest
        self.template = Workspace(base / "template")
        self._names: set[str] = set()

    # -- preparing ----------------------------------------------------------------------------

    @classmethod
    def prepare(cls, settings: Settings, cache_root: Path | None) -> PipelineSession:
        from eltkit.dbt.manifest import read_manifest, write_stamp
        from eltkit.dbt.parse import parse_project
        from eltkit.project import load_project

        source_root = locate_project(settings)
        original = load_project(source_root, parse=False)
        base, lock = _claim_base(original.name, original.dbt_project_dir, settings.worker)
        try:
            copy_root = base / "project"
            dbt_rel = _inside(original.dbt_project_dir, original.root)
            shutil.copytree(original.root, copy_root,
                            ignore=shutil.ignore_patterns(*_COPY_IGNORED), symlinks=True)
            profiles = base / "profiles"
            write_profile(profiles, str(original.dbt_project.get("profile") or original.name),
                          settings, original)
            project = load_project(copy_root, target=PROFILE_TARGET, profiles_dir=profiles)
            project_files = copy_root / dbt_rel
            parse_space = Workspace(project_files)
            with pointed_at(parse_space):
                # A constant path while parsing: dbt hashes the profile's values into its
                # partial-parse state, so a constant one lets the next session reuse it.
                os.environ[DUCKDB_PATH_ENV] = DB_FILE_NAME
                os.environ["DBT_WRITE_JSON"] = "true"  # eltkit reads manifest.json
                inputs = project.parse_inputs
                # dbt's partial-parse state holds absolute paths: it is only valid for
                # a copy at the same path, which _claim_base keeps stable.
                key = hashlib.sha256(str(project_files).encode()).hexdigest()[:16]
                cached = (cache_root / f"{_PARTIAL_PARSE}.{key}"
                          if cache_root is not None else None)
                if cached is not None and cached.is_file():
                    inputs.target_path.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(cached, inputs.target_path / _PARTIAL_PARSE)
                dbt_manifest = parse_project(inputs)
                write_stamp(inputs)
                project.__dict__["manifest"] = read_manifest(inputs.manifest_path)
                if cached is not None:
                    _store_atomically(inputs.target_path / _PARTIAL_PARSE, cached)
            project.graph  # noqa: B018 - build the DAG now: a cycle fails the session once
            session = cls(settings, project, source_root, base, dbt_manifest, lock)
            session._load_template()
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            lock.close()
            raise
        return session

    def _load_template(self) -> None:
        """Seeds once into the template database; an empty database when there are none."""
        self.template.root.mkdir(parents=True)
        seeds = [uid for uid, node in self.project.graph.nodes.items()
                 if node.resource_type == "seed"]
        if not seeds:
            import duckdb

            duckdb.connect(str(self.template.database)).close()
            return
        outcome = self.execute(self.template, "seed", seeds, selection={"seeds": "all"})
        if not outcome.ok:
            failed = "; ".join(f"{node.name}: {node.message}" for node in outcome.nodes
                               if node.status not in ("success", "warn"))
            raise SessionError(f"seeds of {self.project.name} failed to load: {failed}")

    # -- serving harnesses --------------------------------------------------------------------

    def new_workspace(self, name: str) -> Workspace:
        """A folder with a fresh copy of the template database."""
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:80] or "t"
        unique, counter = safe, 1
        while unique in self._names:
            counter += 1
            unique = f"{safe}-{counter}"
        self._names.add(unique)
        workspace = Workspace(self.base / "runs" / unique)
        workspace.root.mkdir(parents=True)
        shutil.copyfile(self.template.database, workspace.database)
        wal = self.template.database.with_name(DB_FILE_NAME + ".wal")
        if wal.exists():  # normally checkpointed away when dbt-duckdb's database closed
            shutil.copyfile(wal, workspace.database.with_name(DB_FILE_NAME + ".wal"))
        return workspace

    def execute(self, workspace: Workspace, command: str, selected: Iterable[str], *,
                selection: dict[str, Any], vars: dict[str, Any] | None = None,
                fail_fast: bool = False) -> RunOutcome:
        """Run eltkit's plan for ``selected`` against the workspace's database."""
        from eltkit.run.executor import RunOptions
        from eltkit.run.plan import make_plan
        from eltkit.run.runner import execute_plan

        project = self.project
        if vars:
            project = copy.copy(project)  # shares the parsed manifest and graph
            project.vars = {**self.project.vars, **vars}
        plan = make_plan(project.graph, command, selected)
        run = project.config.run
        options = RunOptions(
            threads=self.settings.threads or project.threads or 4, fail_fast=fail_fast,
            vars=dict(project.vars), default_retries=run.default_retries,
            default_retry_delay=run.default_retry_delay, dbt_retries=run.dbt_retries,
            pools=dict(run.pools), dbt_manifest=self.dbt_manifest,
        )
        try:
            with pointed_at(workspace):
                return execute_plan(project, plan, selection=selection, trigger="pytest",
                                    options=options)
        finally:
            release_dbt_duckdb()

    def close(self) -> None:
        release_dbt_duckdb()
        shutil.rmtree(self.base, ignore_errors=True)
        self._lock.close()


def _claim_base(name: str, project_dir: Path, worker: str) -> tuple[Path, IO[str]]:
    """The worker's folder: the same path every session, so dbt's partial-parse state
    (which records absolute paths) can be reused; a second session running at the
    same time takes the next free slot rather than sharing files."""
    key = hashlib.sha256(str(project_dir.resolve()).encode()).hexdigest()[:10]
    parent = Path(tempfile.gettempdir()) / f"eltkit-pytest-{os.getuid()}"
    parent.mkdir(parents=True, exist_ok=True)
    for slot in range(1, 100):
        suffix = "" if slot == 1 else f"-{slot}"
        base = parent / f"{name}-{key}-{worker}{suffix}"
        handle = (parent / f"{base.name}.lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        shutil.rmtree(base, ignore_errors=True)  # a previous session's leftovers
        base.mkdir()
        return base, handle
    raise SessionError(f"{parent}: 99 pytest sessions of {name} hold a folder; "
                       "stop some of them")


def write_profile(folder: Path, profile: str, settings: Settings, project: Project) -> Path:
    """profiles.yml with one DuckDB output whose file is the plugin's.

    With --eltkit-profiles-dir or --eltkit-target, the chosen DuckDB output's other
    settings (extensions, settings, attach, plugins) are kept and only ``path``
    is replaced; any other adapter is refused, so tests cannot reach a warehouse.
    """
    output: dict[str, Any] = {"type": "duckdb", "threads": 4}
    if settings.profiles_dir is not None or settings.target is not None:
        folder_in = settings.profiles_dir or project.profiles_dir or Path.home() / ".dbt"
        path = folder_in / "profiles.yml"
        try:
            profiles = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SessionError(f"{path}: cannot read the profile to take DuckDB settings "
                               f"from ({exc})") from exc
        entry = profiles.get(profile) if isinstance(profiles, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("outputs"), dict):
            raise SessionError(f"{path}: no profile {profile!r} with outputs:")
        name = settings.target or entry.get("target") or "default"
        chosen = entry["outputs"].get(name)
        if not isinstance(chosen, dict):
            raise SessionError(f"{path}: profile {profile!r} has no target {name!r}; targets "
                               f"are: {', '.join(entry['outputs'])}")
        if chosen.get("type") != "duckdb":
            raise SessionError(
                f"{path}: target {name!r} is type {chosen.get('type')!r}; pipeline tests run "
                "on DuckDB only, so no test can reach a real warehouse; pick a duckdb target")
        output = {key: value for key, value in chosen.items() if key not in ("path", "database")}
    output["path"] = "{{ env_var('" + DUCKDB_PATH_ENV + "') }}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "profiles.yml"
    target.write_text(
        "# Written by pytest-eltkit for one test session; every path is a throwaway file.\n"
        + yaml.safe_dump({profile: {"target": PROFILE_TARGET,
                                    "outputs": {PROFILE_TARGET: output}}}, sort_keys=False),
        encoding="utf-8")
    return target


def _inside(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        raise SessionError(
            f"{root}: dbt.project_dir {path} is outside the eltkit project; the plugin copies "
            "the project folder, so keep the dbt project inside it") from None


def _store_atomically(source: Path, dest: Path) -> None:
    """Workers of one session write the cache at the same time: write, then rename."""
    if not source.is_file():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        tmp.replace(dest)
    except OSError:
        tmp.unlink(missing_ok=True)
