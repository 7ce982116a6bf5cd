"""The health figures a data platform is watched by, computed from the run history.

* **success rate** of each job over a window (runs grouped by their job, or by
  command for runs started by hand; and the scheduler's job runs);
* **slow nodes**: a node's latest successful duration against the median of
  its previous successes;
* **row-count drift**: a node's latest rows affected against the average of
  its previous successes;
* **schema changes**: columns added, removed or retyped between two runs, as
  the warehouse's catalog showed them after each run (eltkit/model_columns.py).

Everything is read from the history file, so the figures cost no warehouse
query and can be computed while a run is writing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from statistics import mean, median
from typing import Any

from eltkit.state import health as queries
from eltkit.state.store import HistoryStore

#: A node is slow when its latest success took more than this times its median.
SLOW_FACTOR = 2.0
#: ... and at least this many seconds more (a 40 ms view doubling is not news).
SLOW_FLOOR_S = 1.0
#: Rows affected drift when they differ from the trailing average by more than this.
DRIFT_PERCENT = 30.0
#: Previous successes needed before a node's duration or rows are judged.
MIN_SAMPLES = 3
#: Previous successes the median and the average are taken over.
TRAILING = 10
#: Runs left out of success rates: dev-mode rebuilds fail on every half-typed save.
UNCOUNTED_TRIGGERS = ("dev",)


@dataclass(frozen=True)
class SuccessRate:
    """How often a job (or, for runs without a job, a command) succeeded."""

    job: str | None
    command: str | None
    counted: str  # "runs" (eltkit runs, one per job step) or "job_runs" (the scheduler's)
    total: int
    succeeded: int
    statuses: dict[str, int]

    @property
    def rate(self) -> float | None:
        return self.succeeded / self.total if self.total else None

    @property
    def label(self) -> str:
        return f"job {self.job}" if self.job is not None else f"{self.command} (no job)"


@dataclass(frozen=True)
class SlowNode:
    unique_id: str
    name: str
    resource_type: str
    run_id: str
    duration_s: float
    median_s: float
    samples: int

    @property
    def ratio(self) -> float:
        return self.duration_s / self.median_s if self.median_s else float("inf")


@dataclass(frozen=True)
class RowDrift:
    unique_id: str
    name: str
    resource_type: str
    run_id: str
    rows: int
    average: float
    samples: int

    @property
    def change_percent(self) -> float | None:
        """None when the average is 0 (any change from nothing is infinite)."""
        return (self.rows - self.average) / self.average * 100 if self.average else None


@dataclass(frozen=True)
class SchemaChange:
    unique_id: str
    name: str
    run_id: str
    previous_run_id: str
    changed_at: float
    added: list[dict[str, str]]
    removed: list[dict[str, str]]
    retyped: list[dict[str, str]]


@dataclass(frozen=True)
class HealthReport:
    window_s: float
    since: float
    generated_at: float
    success_rates: list[SuccessRate] = field(default_factory=list)
    slow_nodes: list[SlowNode] = field(default_factory=list)
    row_drift: list[RowDrift] = field(default_factory=list)
    schema_changes: list[SchemaChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s, "since": _iso(self.since),
            "generated_at": _iso(self.generated_at),
            "thresholds": {"slow_factor": SLOW_FACTOR, "slow_floor_s": SLOW_FLOOR_S,
                           "drift_percent": DRIFT_PERCENT, "min_samples": MIN_SAMPLES,
                           "trailing": TRAILING},
            "success_rates": [{**asdict(rate), "rate": rate.rate}
                              for rate in self.success_rates],
            "slow_nodes": [{**asdict(node), "ratio": round(node.ratio, 3)}
                           for node in self.slow_nodes],
            "row_drift": [{**asdict(drift), "change_percent": _round(drift.change_percent)}
                          for drift in self.row_drift],
            "schema_changes": [{**asdict(change), "changed_at": _iso(change.changed_at)}
                               for change in self.schema_changes],
        }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def compute_health(store: HistoryStore, window_s: float, now: float | None = None) -> HealthReport:
    """Every health figure over the last ``window_s`` seconds of ``store``'s history."""
    generated = time.time() if now is None else now
    since = generated - window_s
    successes = queries.recent_successes(store, since, TRAILING + 1)
    return HealthReport(
        window_s=window_s, since=since, generated_at=generated,
        success_rates=success_rates(store, since),
        slow_nodes=slow_nodes(successes),
        row_drift=row_drift(successes),
        schema_changes=schema_changes(store, since),
    )


def success_rates(store: HistoryStore, since: float) -> list[SuccessRate]:
    """Runs by job (or command), then the scheduler's job runs by job."""
    grouped: dict[tuple[str | None, str | None, str], dict[str, int]] = {}
    for row in queries.run_outcomes(store, since, UNCOUNTED_TRIGGERS):
        key = (row["job"], None if row["job"] is not None else row["command"], "runs")
        counts = grouped.setdefault(key, {})
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    for row in queries.job_run_outcomes(store, since):
        if row["status"] == "skipped":  # never started (overlap, paused): not an outcome
            continue
        counts = grouped.setdefault((row["job"], None, "job_runs"), {})
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    rates = [SuccessRate(job, command, counted, sum(counts.values()), counts.get("success", 0),
                         dict(sorted(counts.items())))
             for (job, command, counted), counts in grouped.items()]
    return sorted(rates, key=lambda r: (r.job is None, r.job or r.command or "", r.counted))


def _by_node(rows: Iterable[Any]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row["unique_id"], []).append(row)
    return found


def slow_nodes(successes: Iterable[Any]) -> list[SlowNode]:
    """Nodes whose latest success took over SLOW_FACTOR x the median of the ones before."""
    found = []
    for uid, rows in _by_node(successes).items():
        latest, previous = rows[0], rows[1:]
        durations = [row["duration_s"] for row in previous if row["duration_s"] is not None]
        if latest["duration_s"] is None or len(durations) < MIN_SAMPLES:
            continue
        typical = median(durations)
        took = float(latest["duration_s"])
        if took > SLOW_FACTOR * typical and took - typical >= SLOW_FLOOR_S:
            found.append(SlowNode(uid, latest["name"], latest["resource_type"],
                                  latest["run_id"], took, typical, len(durations)))
    return sorted(found, key=lambda node: node.ratio, reverse=True)


def row_drift(successes: Iterable[Any]) -> list[RowDrift]:
    """Nodes whose latest rows affected differ by over DRIFT_PERCENT from the trailing average."""
    found = []
    for uid, rows in _by_node(successes).items():
        latest, previous = rows[0], rows[1:]
        counts = [row["rows_affected"] for row in previous if row["rows_affected"] is not None]
        if latest["rows_affected"] is None or len(counts) < MIN_SAMPLES:
            continue
        drift = RowDrift(uid, latest["name"], latest["resource_type"], latest["run_id"],
                         int(latest["rows_affected"]), float(mean(counts)), len(counts))
        change = drift.change_percent
        if (change is None and drift.rows != 0) or (change is not None
                                                    and abs(change) > DRIFT_PERCENT):
            found.append(drift)
    return sorted(found, key=lambda d: abs(d.change_percent or float("inf")), reverse=True)


def schema_changes(store: HistoryStore, since: float) -> list[SchemaChange]:
    """Every change of a relation's columns recorded since ``since``, oldest first."""
    found = []
    for record in queries.column_changes_since(store, since):
        added, removed, retyped = diff_columns(record["previous_columns"], record["columns"])
        if added or removed or retyped:
            name = record["name"] or record["unique_id"].rsplit(".", 1)[-1]
            found.append(SchemaChange(record["unique_id"], name, record["run_id"],
                                      record["previous_run_id"], record["captured_at"],
                                      added, removed, retyped))
    return found


def diff_columns(before: list[list[str]], after: list[list[str]]) -> tuple[
        list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """Columns added, removed and retyped from ``before`` to ``after`` (names compared
    case-insensitively, as the warehouse compares them). A reorder alone is no change."""
    old = {name.casefold(): (name, kind) for name, kind in before}
    new = {name.casefold(): (name, kind) for name, kind in after}
    added = [{"name": name, "type": kind} for key, (name, kind) in new.items() if key not in old]
    removed = [{"name": name, "type": kind} for key, (name, kind) in old.items()
               if key not in new]
    retyped = [{"name": new[key][0], "from": old[key][1], "to": new[key][1]}
               for key in new if key in old and old[key][1] != new[key][1]]
    return added, removed, retyped


def parse_window(text: str) -> float:
    """``7d`` / ``36h`` / ``90m`` in seconds; ValueError says what is accepted."""
    from eltkit.config_types import parse_duration

    seconds = parse_duration(text)
    if seconds <= 0:
        raise ValueError(f"{text!r} is an empty window; write it like 7d, 36h or 90m")
    return seconds
