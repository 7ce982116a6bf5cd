"""Shared pieces of the benchmark run: tools, timed subprocesses, machine facts."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "benchmarks.md"


class BenchmarkError(RuntimeError):
    """A command the benchmark depends on failed, or a correctness check did not hold."""


def tool(name: str) -> str:
    """The console script ``name`` of the interpreter running the benchmark."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise BenchmarkError(f"cannot find the {name!r} command beside {sys.executable} or on PATH")
    return found


def clean_env(*, repo_on_path: bool = False) -> dict[str, str]:
    """The environment every measured command gets: no stray dbt or synth settings.

    ``repo_on_path`` puts the repository on PYTHONPATH, for ``python -m benchmarks.*``
    helpers; measured eltkit and dbt commands run without it."""
    env = dict(os.environ)
    for key in ("SYNTH_DUCKDB_PATH", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH",
                "DBT_PROJECT_DIR"):
        env.pop(key, None)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    if repo_on_path:
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
        )
    return env


@dataclass
class Timed:
    """One finished command: its wall time and what it printed."""

    args: list[str]
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float = float("nan")  # user + system CPU time of the command (and its children)


def _children_cpu() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Unix
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(
    args: Sequence[str], cwd: Path, *, log: Path | None = None, check: bool = True,
    env: Mapping[str, str] | None = None, timeout: float | None = 3600.0,
) -> Timed:
    """Run ``args`` in ``cwd``; wall clock from start to exit (perf_counter around run)."""
    argv = [str(arg) for arg in args]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    completed = subprocess.run(
        argv, cwd=cwd, env=dict(env) if env is not None else clean_env(),
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            f"$ (cd {cwd} && {' '.join(argv)})\n# exit {completed.returncode}, {seconds:.3f} s\n"
            f"# ---- stdout\n{completed.stdout}\n# ---- stderr\n{completed.stderr}\n",
            encoding="utf-8",
        )
    if check and completed.returncode != 0:
        tail = (completed.stderr.strip() or completed.stdout.strip())[-2000:]
        where = f" (log: {log})" if log is not None else ""
        raise BenchmarkError(
            f"`{' '.join(argv)}` in {cwd} exited {completed.returncode}{where}:\n{tail}"
        )
    return Timed(argv, seconds, completed.returncode, completed.stdout, completed.stderr, cpu)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects of a command's output, one per line; other lines are skipped
    (dbt prints its log lines to stdout too)."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
    return found


def log(message: str) -> None:
    """Progress on stderr, so the run can be followed."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Facts:
    """The machine and software the figures come from."""

    date_utc: str
    cpu_count: int | None
    cpu_affinity: int | None
    cpu_model: str
    platform: str
    python: str
    versions: dict[str, str]
    load_start: tuple[float, float, float] | None
    load_end: tuple[float, float, float] | None = None
    mode: str = "full"
    duration_s: float | None = None
    notes: list[str] = field(default_factory=list)
    source_start: str = ""
    source_end: str = ""


def source_fingerprint() -> str:
    """A digest of eltkit's source (eltkit/**/*.py and pyproject.toml), to tell whether
    the code under test changed while the benchmark ran."""
    import hashlib

    digest = hashlib.sha256()
    files = [*sorted((REPO_ROOT / "eltkit").rglob("*.py")), REPO_ROOT / "pyproject.toml"]
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:12]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def machine_facts(mode: str) -> Facts:
    try:
        affinity: int | None = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    return Facts(
        date_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpu_count=os.cpu_count(),
        cpu_affinity=affinity,
        cpu_model=_cpu_model(),
        platform=platform.platform(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        versions={name: _version(name) for name in ("eltkit", "dbt-core", "dbt-duckdb", "duckdb")},
        load_start=load_average(),
        mode=mode,
        source_start=source_fingerprint(),
    )
