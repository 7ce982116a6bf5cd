"""Dev-mode latency: from writing a model file to its rebuilt line and to the tested summary.

Runs a real ``eltkit dev`` process on a built copy of the sample project and on a
generated 1,000-model project, edits files, and times what the process prints.
The first save of a session pays for importing dbt and a cold partial parse; it is
reported on its own, and the medians cover the warm saves that follow.

    python -m benchmarks.bench_dev [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.synthetic import generate_project

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Sample:
    model_line_s: float
    summary_s: float
    nodes: int


class Dev:
    def __init__(self, project: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eltkit.cli", "dev"], cwd=project, text=True, bufsize=1,
            env={**os.environ, "NO_COLOR": "1"}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))

    def until(self, pattern: str, timeout: float = 600) -> tuple[float, list[str]]:
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                at, line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append(line)
            if re.search(pattern, line):
                return at, seen
        raise RuntimeError(f"timed out waiting for {pattern!r}: {seen[-20:]}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(project: Path, model_file: Path, model_name: str, saves: int) -> list[Sample]:
    dev = Dev(project)
    dev.until("^waiting for changes")
    samples = []
    try:
        for index in range(saves):
            time.sleep(1.0)
            started = time.perf_counter()
            model_file.write_text(model_file.read_text() + f"\n-- benchmark save {index}\n")
            at_model, before = dev.until(rf"\]\s+OK\s+\S+ {re.escape(model_name)} ")
            at_summary, after = dev.until(r"^(SUCCESS|FAILED)")
            planned = re.search(r"rebuilding (\d+) node", "\n".join(before + after))
            nodes = int(planned.group(1)) if planned else 0
            samples.append(Sample(at_model - started, at_summary - started, nodes))
            dev.until("^waiting for changes")
    finally:
        dev.stop()
    return samples


def build(project: Path) -> None:
    subprocess.run([sys.executable, "-m", "eltkit.cli", "build", "--json"], cwd=project,
                   check=True, capture_output=True)


def pick_staging_model(project: Path, downstream: int) -> tuple[str, Path]:
    """The staging model whose downstream size is closest to ``downstream``."""
    sys.path.insert(0, str(REPO))
    from eltkit.project import load_project

    graph = load_project(project).graph
    best = min(
        (uid for uid, node in graph.nodes.items()
         if node.resource_type == "model" and node.name.startswith("stg_")),
        key=lambda uid: abs(len([d for d in graph.downstream_of({uid})
                                 if graph.nodes[d].resource_type == "model"]) - downstream))
    node = graph.nodes[best]
    return node.name, project / node.original_file_path


def pick_leaf_model(project: Path) -> tuple[str, Path]:
    from eltkit.project import load_project

    graph = load_project(project).graph
    leaf = sorted(uid for uid, node in graph.nodes.items() if node.resource_type == "model"
                  and node.materialized in ("table", "view")
                  and not any(graph.nodes[c].resource_type == "model"
                              for c in graph.children[uid]))[0]
    node = graph.nodes[leaf]
    return node.name, project / node.original_file_path


def summarise(label: str, samples: list[Sample]) -> dict[str, object]:
    warm = samples[1:] or samples
    return {
        "case": label,
        "nodes rebuilt": samples[-1].nodes,
        "first save: model line (s)": round(samples[0].model_line_s, 2),
        "first save: tested (s)": round(samples[0].summary_s, 2),
        "median warm: model line (s)": round(statistics.median(s.model_line_s for s in warm), 2),
        "median warm: tested (s)": round(statistics.median(s.summary_s for s in warm), 2),
        "warm saves": len(warm),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="sample project only, 3 saves")
    args = parser.parse_args()
    saves = 3 if args.quick else 6
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(shutil.copytree(REPO / "sample_dbt_project", Path(tmp) / "sample",
                                      ignore=shutil.ignore_patterns("target", "logs")))
        build(sample)
        results.append(summarise(
            "sample: fct_orders (leaf mart)",
            measure(sample, sample / "models/marts/fct_orders.sql", "fct_orders", saves)))
        if not args.quick:
            synth = generate_project(Path(tmp) / "synth", 1000, seed=0)
            subprocess.run([sys.executable, "load_raw.py"], cwd=synth, check=True)
            build(synth)
            name, path = pick_leaf_model(synth)
            results.append(summarise(f"1,000 models: leaf {name}",
                                     measure(synth, path, name, saves)))
            name, path = pick_staging_model(synth, 30)
            results.append(summarise(f"1,000 models: staging {name} (about 30 downstream)",
                                     measure(synth, path, name, saves)))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
