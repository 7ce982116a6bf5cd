"""Benchmark of the pytest plugin: per-test cost, and a 20-test file serial vs ``-n 2``.

What a user pays for a pipeline test:

* **per test**: fixture set-up (a fresh copy of the seeded template database) plus a
  build of three models (``stg_orders``, ``stg_payments``, ``fct_orders``, with their
  data tests and unit test) from given source rows, and teardown. Read from the JUnit
  XML ``time`` of each test (set-up + call + teardown); the first test of a process also
  pays dbt's first-invocation warm-up, so it is reported apart.
* **per session**: the wall time of ``pytest`` on a file of 20 such tests, serial and
  with ``-n 2``; it includes interpreter start, importing dbt and parsing the project
  (partial parse from the plugin's cache, warmed by one unmeasured run first).

Usage: ``python -m benchmarks.bench_plugin [--repeat N] [--append docs/benchmarks.md]``.
Results print as a Markdown section; ``--append`` adds it at the end of the file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_dbt_project"
TESTS = 20

TEST_FILE = '''
import pytest

ORDERS = [
    {"id": n, "customer_id": n % 7 + 1, "status": "completed" if n % 3 else "returned",
     "amount_cents": 100 * n, "_loaded_at": "2026-11-01 06:00"} for n in range(1, 21)]
PAYMENTS = [
    {"id": n, "order_id": n, "payment_method": "credit_card", "amount_cents": 100 * n,
     "_loaded_at": "2026-11-01 06:00"} for n in range(1, 21)]


@pytest.mark.parametrize("case", range(TESTS))
def test_three_model_build(eltkit, case):
    eltkit.given_source("jaffle", "raw_orders", rows=ORDERS)
    eltkit.given_source("jaffle", "raw_payments", rows=PAYMENTS)
    result = eltkit.build(select="stg_orders stg_payments fct_orders")
    assert result.ok, result.summary()
    assert sum(1 for n in result.nodes if n.resource_type == "model") == 3
    assert eltkit.table("fct_orders").count() == 14
'''.replace("TESTS", str(TESTS))


def run_pytest(folder: Path, cache: Path, *extra: str) -> tuple[float, list[float]]:
    """Wall seconds of one pytest process, and each test's JUnit time in file order."""
    junit = folder / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
               "-o", f"cache_dir={cache}", f"--junitxml={junit}",
               f"--eltkit-project-dir={SAMPLE}", *extra, "test_bench.py"]
    env = {**os.environ, "NO_COLOR": "1"}
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                               check=False)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"pytest failed ({completed.returncode}):\n{completed.stdout[-3000:]}"
                         f"\n{completed.stderr[-2000:]}")
    times = [float(case.get("time") or 0) for case in ET.parse(junit).getroot().iter("testcase")]
    return wall, times


def measure(repeat: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="eltkit-bench-plugin-") as tmp:
        folder = Path(tmp)
        (folder / "test_bench.py").write_text(TEST_FILE, encoding="utf-8")
        cache = folder / "cache"
        run_pytest(folder, cache, "-x")  # warm dbt's partial-parse cache; not measured
        serial_walls, parallel_walls, first, rest = [], [], [], []
        for _ in range(repeat):
            wall, times = run_pytest(folder, cache)
            serial_walls.append(wall)
            first.append(times[0])
            rest += times[1:]
            wall, _ = run_pytest(folder, cache, "-n", "2")
            parallel_walls.append(wall)
        return {
            "per_test_median": statistics.median(rest),
            "per_test_p90": sorted(rest)[int(0.9 * (len(rest) - 1))],
            "per_test_max": max(rest),
            "first_test_median": statistics.median(first),
            "serial_wall": statistics.median(serial_walls),
            "parallel_wall": statistics.median(parallel_walls),
            "serial_walls": serial_walls,
            "parallel_walls": parallel_walls,
            "repeat": repeat,
        }


def report(results: dict[str, object]) -> str:
    def seconds(key: str) -> str:
        return f"{float(results[key]):.2f} s"  # type: ignore[arg-type]

    walls = ", ".join(f"{w:.1f}" for w in results["serial_walls"])  # type: ignore[attr-defined]
    pwalls = ", ".join(f"{w:.1f}" for w in results["parallel_walls"])  # type: ignore[attr-defined]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return "\n".join([
        "## pytest plugin",
        "",
        "`python -m benchmarks.bench_plugin` (benchmarks/bench_plugin.py): a file of "
        f"{TESTS} tests, each giving 20 orders and 20 payments and building `stg_orders`, "
        "`stg_payments` and `fct_orders` with their tests (3 models, 11 tests and a unit "
        "test) in a fresh DuckDB file, against the sample project. Per-test times are "
        "JUnit times (set-up + call + teardown); session walls are whole `pytest` "
        f"processes, medians of {results['repeat']} runs after one warm-up run that fills "
        f"the partial-parse cache. {os.cpu_count()} CPUs, load average at the end: {load}.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| per test, set-up + 3-model build (median) | {seconds('per_test_median')} | "
        "under 2 s |",
        f"| per test, 90th percentile / max | {seconds('per_test_p90')} / "
        f"{seconds('per_test_max')} | |",
        f"| first test of a process (also imports dbt, parses, loads seeds) | "
        f"{seconds('first_test_median')} | |",
        f"| {TESTS}-test file, serial (whole process) | {seconds('serial_wall')} "
        f"({walls}) | |",
        f"| {TESTS}-test file, `-n 2` (whole process) | {seconds('parallel_wall')} "
        f"({pwalls}) | |",
        "",
        "A process's fixed cost (importing dbt, the partial parse, loading seeds into the "
        "template) is paid once per process, so `-n 2` pays it twice, in parallel; on two "
        "CPUs it wins only when the tests outweigh that cost and the CPUs are otherwise "
        "idle.",
        "",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--append", type=Path, default=None,
                        help="append the section at the end of this Markdown file")
    args = parser.parse_args(argv)
    text = report(measure(args.repeat))
    print(text)
    if args.append is not None:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()
