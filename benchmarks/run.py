"""Run every benchmark side by side and write docs/benchmarks.md.

From the repository root::

    python -m benchmarks.run                 # full: N=1,000 and 5,000 for ls, 200 and 1,000 for run
    python -m benchmarks.run --quick         # CI smoke: smaller projects, one repetition
    python -m benchmarks.run --only ls       # or --only run

Exit status: 0 when every command worked and every correctness check held
(same node sets, no dbt import), 1 when one did not, 2 when a command failed.
With ``--strict`` a missed performance target also exits 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import (
    DEFAULT_OUTPUT,
    BenchmarkError,
    load_average,
    log,
    machine_facts,
    source_fingerprint,
)
from benchmarks.execution import measure_execution
from benchmarks.listing import measure_listing
from benchmarks.report import Results, render, targets


@dataclass(frozen=True)
class Settings:
    """Sizes and repetitions of one mode."""

    ls_sizes: tuple[int, ...]
    exec_sizes: tuple[int, ...]
    eltkit_reps: int
    dbt_reps: int
    inprocess_reps: int
    extra_exec_reps: bool  # dbt again (and eltkit again below the largest N) if time allows
    per_model: int
    budget_s: float


FULL = Settings(ls_sizes=(1000, 5000), exec_sizes=(200, 1000), eltkit_reps=3, dbt_reps=2,
                inprocess_reps=5, extra_exec_reps=True, per_model=3, budget_s=25 * 60)
QUICK = Settings(ls_sizes=(1000,), exec_sizes=(100,), eltkit_reps=1, dbt_reps=1,
                 inprocess_reps=3, extra_exec_reps=False, per_model=3, budget_s=5 * 60)


def run_all(settings: Settings, sections: Sequence[str], work: Path, mode: str) -> Results:
    started = time.perf_counter()
    deadline = started + settings.budget_s - 30  # leave time to write the report
    results = Results(machine_facts(mode), sections=tuple(sections))
    if "ls" in sections:
        for n_models in settings.ls_sizes:
            dbt_reps = settings.dbt_reps if n_models < 5000 else 1  # ~25 s each at 5,000
            results.listing.append(measure_listing(
                work, n_models, eltkit_reps=settings.eltkit_reps, dbt_reps=dbt_reps,
                inprocess_reps=settings.inprocess_reps))
    if "run" in sections:
        for n_models in settings.exec_sizes:
            extras: list[tuple[str, str]] = []
            if settings.extra_exec_reps:
                extras = [("dbt", "run"), ("dbt", "build")]
                if n_models < max(settings.exec_sizes):  # cheap enough for a second eltkit
                    extras += [("eltkit", "run"), ("eltkit", "build")]
            results.execution.append(measure_execution(
                work, n_models, deadline=deadline, extras=extras, per_model=settings.per_model))
    results.facts.load_end = load_average()
    results.facts.source_end = source_fingerprint()
    results.facts.duration_s = time.perf_counter() - started
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark eltkit against dbt on generated projects; write the results.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="smaller projects and one repetition (a few minutes; CI smoke)")
    parser.add_argument("--only", choices=("ls", "run"),
                        help="only selection/listing (ls) or only execution (run)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT,
                        help=f"results file (default {DEFAULT_OUTPUT})")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where projects and logs go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a performance target is missed")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    mode = "quick" if args.quick else "full"
    sections = (args.only,) if args.only else ("ls", "run")
    if args.only:
        mode += f", --only {args.only}"
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        if any(args.workdir.iterdir()):
            parser.error(f"--workdir {args.workdir} must be empty")
        work = args.workdir.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="eltkit-bench-"))
    log(f"{mode} benchmark in {work}")
    try:
        results = run_all(settings, sections, work, mode)
    except BenchmarkError as exc:
        log(f"error: {exc}")
        log(f"logs are in {work / 'logs'}")
        return 2
    text = render(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    log(f"wrote {args.out}")
    if args.json is not None:
        args.json.write_text(json.dumps(dataclasses.asdict(results), indent=2, default=str),
                             encoding="utf-8")
        log(f"wrote {args.json}")
    if args.keep or args.workdir is not None:
        log(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)

    found = targets(results)
    for target in found:
        log(f"{'pass' if target.ok else 'FAIL'}  {target.what}: {target.measured} "
            f"(target {target.target})")
    if not all(t.ok for t in found if t.is_check):
        return 1
    if args.strict and not all(t.ok for t in found):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
