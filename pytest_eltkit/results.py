"""What a harness run returns: per-node outcome and a summary a person can act on.

A failed build in CI is read by someone who was not there: ``summary()`` names
the failing nodes, dbt's error, the compiled SQL to open, and the tail of dbt's
log, so ``assert result.ok, result.summary()`` is the whole story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASSED = frozenset({"success", "warn"})
LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    duration_s: float | None
    rows_affected: int | None
    message: str | None
    #: The SQL dbt ran for this node, in this test's target/ (None if dbt wrote none).
    compiled_sql: Path | None

    @property
    def ok(self) -> bool:
        return self.status in PASSED


@dataclass
class RunResult:
    command: str
    selection: dict[str, Any]
    status: str
    nodes: list[NodeResult]
    duration_s: float
    log_file: Path
    database: Path
    message: str | None = None
    skipped_as_given: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def failed(self) -> list[NodeResult]:
        """Nodes that errored or timed out (not those skipped because of them)."""
        return [node for node in self.nodes if node.status in ("error", "timed_out")]

    def __getitem__(self, name: str) -> NodeResult:
        for node in self.nodes:
            if name in (node.name, node.unique_id):
                return node
        raise KeyError(f"{name!r} was not part of this {self.command}; nodes were: "
                       f"{', '.join(node.name for node in self.nodes)}")

    def __contains__(self, name: object) -> bool:
        return any(name in (node.name, node.unique_id) for node in self.nodes)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no nodes"
        lines = [f"eltkit {self.command} {_describe(self.selection)}: {self.status} "
                 f"({tally}) in {self.duration_s:.2f}s"]
        for node in self.nodes:
            timing = f"{node.duration_s:.2f}s" if node.duration_s is not None else "-"
            rows = f" {node.rows_affected} rows" if node.rows_affected is not None else ""
            line = f"  {node.status.upper():<9} {node.resource_type} {node.name} ({timing}{rows})"
            if node.message and not node.ok:
                line += f": {node.message}"
            lines.append(line)
            if node.status in ("error", "timed_out") and node.compiled_sql is not None:
                lines.append(f"            compiled SQL: {node.compiled_sql}")
        if self.skipped_as_given:
            lines.append("  not run: " + "; ".join(self.skipped_as_given))
        if not self.ok:
            if self.message:
                lines.append(f"  run: {self.message}")
            tail = log_tail(self.log_file)
            if tail:
                lines.append(f"dbt log tail ({self.log_file}):")
                lines += [f"  {line}" for line in tail]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<eltkit RunResult {self.command} {self.status}: {len(self.nodes)} nodes>"


_LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \[(\w+)\s*\] \[[^\]]*\]: ?(.*)$")


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last lines of dbt's log without its debug chatter, timestamps and threads."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    kept: list[str] = []
    level = "info"
    for line in text.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            level, message = match.group(1), match.group(2)
            line = f"[{level}] {message}" if level != "info" else message
        if level != "debug" and line.strip():
            kept.append(line)
    return kept[-lines:]


def compiled_sql_path(target_path: Path, node: Any) -> Path | None:
    """Where dbt writes a node's compiled SQL: the file itself for .sql resources, a
    folder named after the YAML file for generic tests and unit tests."""
    raw = node.raw or {}
    original = str(raw.get("original_file_path") or node.original_file_path or "")
    if not original:
        return None
    base = target_path / "compiled" / node.package_name / original
    candidate = base if original.endswith(".sql") else base / str(raw.get("path") or "")
    return candidate if candidate.is_file() else None


def _describe(selection: dict[str, Any]) -> str:
    parts = []
    if selection.get("select"):
        parts.append("--select " + " ".join(selection["select"]))
    if selection.get("exclude"):
        parts.append("--exclude " + " ".join(selection["exclude"]))
    return " ".join(parts) or "(everything)"
