"""Get a current manifest.json, parsing with dbt only when the project changed.

Importing dbt costs seconds, so ``eltkit ls`` reuses ``target/manifest.json``
whenever no project file is newer than it and the set of files is the one
eltkit last parsed. After a parse eltkit records that file set beside the
manifest. Errors err on the side of reparsing, never of a stale graph.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eltkit.errors import DbtParseError

STAMP_FILE_NAME = "eltkit_parse_stamp.json"
#: Folders dbt never reads as project sources.
_SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", "node_modules", ".nox",
                           ".pytest_cache", ".mypy_cache", ".ruff_cache", ".idea", ".vscode"})
_SKIPPED_SUFFIXES = (".duckdb", ".duckdb.wal", ".db", ".db-wal", ".db-shm", ".wal", ".log",
                     ".swp", ".swx", "~", ".pyc")


@dataclass(frozen=True)
class ParseInputs:
    """What a parse depends on besides the files: target, vars, profiles."""

    project_dir: Path
    target_path: Path
    profiles_dir: Path | None
    target: str | None
    vars: dict[str, Any]
    excluded_dirs: tuple[Path, ...]
    excluded_files: tuple[Path, ...] = ()

    @property
    def manifest_path(self) -> Path:
        return self.target_path / "manifest.json"

    def settings_key(self) -> str:
        """A digest of the settings; paths inside the project are kept relative
        so a copied project (CI caches, test fixtures) stays current."""
        payload = json.dumps(
            {"target": self.target, "vars": self.vars,
             "profiles_dir": self._portable(self.profiles_dir)},
            sort_keys=True, default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def _portable(self, path: Path | None) -> str | None:
        if path is None:
            return None
        try:
            return path.resolve().relative_to(self.project_dir.resolve()).as_posix()
        except ValueError:
            return str(path.resolve())


def project_files(inputs: ParseInputs) -> dict[str, int]:
    """Relative path -> mtime (ns) of every file a parse may read."""
    skipped = {path.resolve() for path in inputs.excluded_dirs}
    skipped_files = {str(path.resolve()) for path in inputs.excluded_files}
    files: dict[str, int] = {}
    root = inputs.project_dir
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name in _SKIPPED_DIRS or entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                if path.resolve() in skipped:
                    continue
                stack.append(path)
            elif entry.is_file() and not entry.name.endswith(_SKIPPED_SUFFIXES):
                if skipped_files and os.path.realpath(entry.path) in skipped_files:
                    continue
                rel = os.path.relpath(entry.path, root)
                files[rel] = entry.stat().st_mtime_ns
    if inputs.profiles_dir is not None:
        profiles = inputs.profiles_dir / "profiles.yml"
        if profiles.exists():
            key = inputs._portable(profiles) or str(profiles)
            files[key] = profiles.stat().st_mtime_ns
    return files


def manifest_is_current(inputs: ParseInputs) -> bool:
    """True when target/manifest.json reflects the project as it is on disk now."""
    manifest = inputs.manifest_path
    try:
        manifest_mtime = manifest.stat().st_mtime_ns
    except OSError:
        return False
    files = project_files(inputs)
    if any(mtime > manifest_mtime for mtime in files.values()):
        return False
    stamp = _read_stamp(inputs)
    if stamp is None:
        return True  # a manifest dbt wrote itself, newer than every file
    return stamp.get("settings") == inputs.settings_key() and set(stamp.get("files", [])) == set(
        files
    )


def write_stamp(inputs: ParseInputs) -> None:
    stamp = {"settings": inputs.settings_key(), "files": sorted(project_files(inputs))}
    path = inputs.target_path / STAMP_FILE_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamp), encoding="utf-8")
    tmp.replace(path)


def _read_stamp(inputs: ParseInputs) -> dict[str, Any] | None:
    try:
        data = json.loads((inputs.target_path / STAMP_FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many objects that form no cycles.

    Loading a 22 MB manifest creates millions of containers; the collector would walk
    them again and again as they are made, doubling the load time for nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _loads(data: bytes) -> Any:
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; json is the fallback
        return json.loads(data)
    return orjson.loads(data)


def read_manifest(path: Path) -> dict[str, Any]:
    """Load manifest.json as plain data (no dbt classes)."""
    try:
        raw = path.read_bytes()
        with no_gc():
            data = _loads(raw)
    except FileNotFoundError as exc:
        raise DbtParseError(
            f"{path}: no manifest; run `eltkit ls` once without --no-parse, or `dbt parse`"
        ) from exc
    except (OSError, ValueError) as exc:
        raise DbtParseError(
            f"{path}: not a readable manifest ({exc}); delete it and retry") from exc
    if not isinstance(data, dict) or "nodes" not in data:
        raise DbtParseError(f"{path}: not a dbt manifest; delete it and retry")
    return data


def ensure_manifest(inputs: ParseInputs, *, force: bool = False) -> dict[str, Any]:
    """A current manifest: reuse the one on disk, or parse with dbt first."""
    if force or not manifest_is_current(inputs):
        from eltkit.dbt.parse import parse_project  # imports dbt: only when needed

        parse_project(inputs)
        write_stamp(inputs)
    return read_manifest(inputs.manifest_path)
