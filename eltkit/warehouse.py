"""The run's warehouse: which DuckDB file the dbt target writes, and one lock per file.

DuckDB allows one writer process per file. A run holds an exclusive lock
beside the file for its whole duration, so a second ``eltkit run`` waits or
refuses with a clear message instead of failing inside dbt with a lock
error; and the run's Python tasks use a connection opened in the run's own
process, which DuckDB shares with dbt-duckdb's.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from eltkit.errors import ConfigError, EltkitError


class WarehouseLockedError(EltkitError):
    """Another process holds the warehouse."""


@dataclass(frozen=True)
class Target:
    """The resolved dbt output a run writes to."""

    profile: str
    name: str
    type: str
    #: The DuckDB path exactly as dbt-duckdb will open it (relative to the dbt project).
    duckdb_path: str | None
    threads: int | None

    @property
    def is_duckdb_file(self) -> bool:
        return self.type == "duckdb" and self.duckdb_path not in (None, "", ":memory:")


def resolve_target(project_dir: Path, profile_name: str, profiles_dir: Path | None,
                   target: str | None) -> Target:
    """Read profiles.yml the way dbt does (env_var() rendered) and pick the target."""
    folder = profiles_dir or Path.home() / ".dbt"
    path = folder / "profiles.yml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read profiles.yml ({exc.strerror}); set dbt.profiles_dir in "
            "eltkit.yml or pass --profiles-dir"
        ) from exc
    try:
        profiles = _render(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    profile = (profiles or {}).get(profile_name)
    if not isinstance(profile, dict) or "outputs" not in profile:
        raise ConfigError(f"{path}: no profile {profile_name!r} with outputs:")
    name = target or profile.get("target") or "default"
    output = profile["outputs"].get(name)
    if not isinstance(output, dict):
        raise ConfigError(
            f"{path}: profile {profile_name!r} has no target {name!r}; targets are: "
            f"{', '.join(profile['outputs'])}"
        )
    kind = str(output.get("type", ""))
    duckdb_path = str(output.get("path", ":memory:")) if kind == "duckdb" else None
    threads = output.get("threads")
    return Target(profile_name, name, kind, duckdb_path,
                  int(threads) if isinstance(threads, int) else None)


def _render(value: Any) -> Any:
    """Render the Jinja in profiles.yml values (env_var) as dbt does: value by value,
    after YAML parsing, without importing dbt."""
    if isinstance(value, dict):
        return {key: _render(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item) for item in value]
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    from jinja2.sandbox import SandboxedEnvironment

    def env_var(name: str, default: Any = None) -> Any:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise ConfigError(f"profiles.yml: env var {name} is not set and has no default")
        return default

    return SandboxedEnvironment().from_string(value).render(env_var=env_var)


class WarehouseLock:
    """An exclusive lock on a warehouse, held by one run process at a time."""

    def __init__(self, lock_path: Path, description: str) -> None:
        self.path = lock_path
        self.description = description
        self._handle: IO[str] | None = None

    def acquire(self, *, wait: bool, run_id: str = "", poll: float = 0.5) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        waited = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    handle.close()
                    raise WarehouseLockedError(
                        f"{self.description} is in use by {holder}; wait for it to finish, "
                        "or pass --wait to queue behind it"
                    ) from None
                waited = True
                time.sleep(poll)
        handle.seek(0)
        handle.truncate()
        handle.write(f"eltkit run {run_id} (pid {os.getpid()})".replace("run  ", "run "))
        handle.flush()
        self._handle = handle
        self.waited = waited

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_for(target: Target, project_dir: Path, state_dir: Path) -> WarehouseLock:
    """The lock of the run's warehouse: beside the DuckDB file, or per dbt target."""
    if target.is_duckdb_file and target.duckdb_path is not None:
        db = (project_dir / target.duckdb_path).resolve()
        return WarehouseLock(db.with_name(db.name + ".eltkit.lock"), f"warehouse {db}")
    return WarehouseLock(state_dir / f"{target.profile}.{target.name}.lock",
                         f"dbt target {target.profile}.{target.name}")


def open_duckdb(target: Target) -> Any:
    """A connection to the target's DuckDB file, in this process.

    dbt-duckdb opens the same path with ``duckdb.connect(path, read_only=False,
    config={})``; opening it the same way from the same process shares DuckDB's
    database instance, so tasks and dbt models write one database.
    """
    import duckdb

    assert target.duckdb_path is not None
    path = target.duckdb_path
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(path, read_only=False, config={})
    except duckdb.IOException as exc:
        raise WarehouseLockedError(
            f"warehouse {Path(path).resolve()} is locked by another process ({exc}); close "
            "the other DuckDB session and retry"
        ) from exc


class TakingTurns:
    """A DuckDB cursor whose statements take turns with the run's other tasks.

    DuckDB's optimistic concurrency makes two concurrent ``CREATE SCHEMA IF NOT
    EXISTS raw`` statements conflict, and every extract task starts that way.
    Statements of concurrent tasks therefore run one at a time (the Python work
    around them still runs in parallel); an explicit transaction (``begin()`` or
    ``BEGIN``) keeps the turn until its ``commit``/``rollback``, so a task's
    transaction never interleaves with another's. ``interrupt`` and ``close``
    skip the turn, so a timeout can always stop a running statement.
    """

    _UNLOCKED = frozenset({"interrupt", "close"})

    def __init__(self, cursor: Any, lock: threading.RLock) -> None:
        self._cursor = cursor
        self._lock = lock
        self._held = 0  # turns kept open by explicit transactions

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._cursor, name)
        if not callable(attribute) or name in self._UNLOCKED:
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            verb = _transaction_verb(name, args)
            with self._lock:
                result = attribute(*args, **kwargs)
                if verb == "begin":
                    self._lock.acquire()  # kept past this call, until commit/rollback
                    self._held += 1
                elif verb in ("commit", "rollback") and self._held:
                    self._held -= 1
                    self._lock.release()
            return self if result is self._cursor else result

        return call

    def release_turns(self) -> None:
        """Give back turns a task kept by leaving a transaction open (it failed)."""
        while self._held:
            self._held -= 1
            self._lock.release()

    def __enter__(self) -> TakingTurns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_turns()
        self._cursor.close()


def _transaction_verb(name: str, args: tuple[Any, ...]) -> str | None:
    if name in ("begin", "commit", "rollback"):
        return name
    if name in ("execute", "sql") and args and isinstance(args[0], str):
        words = args[0].strip().rstrip(";").split()
        first = words[0].lower() if words else ""
        if first in ("begin", "commit", "rollback") and len(words) <= 2:
            return first
        if first == "start" and len(words) > 1 and words[1].lower() == "transaction":
            return "begin"
        if first == "end":
            return "commit"
    return None
