"""Run one contiguous dbt segment through ``dbtRunner``, streaming node events.

One invocation per segment, never one process per model: dbt's start-up and
its whole-project work are paid once, and dbt's own threads run the
segment's nodes in parallel. dbt's structured events (NodeStart,
NodeFinished) become eltkit events as they arrive. The callback runs on
dbt's worker threads, so it only enqueues, and never raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from eltkit.dbt.manifest import ParseInputs
from eltkit.dbt.parse import dbt_args, one_line
from eltkit.graph.nodes import UNIT_TEST, Node
from eltkit.run.events import (
    CANCELLED,
    ERROR,
    SKIPPED,
    SUCCESS,
    WARN,
    Event,
    NodeFinished,
    NodeLog,
    NodeStarted,
    SegmentDone,
)

#: dbt result statuses in eltkit's words.
_STATUS = {
    "success": SUCCESS, "pass": SUCCESS, "warn": WARN, "error": ERROR, "fail": ERROR,
    "runtime error": ERROR, "skipped": SKIPPED, "no-op": SUCCESS, "partial success": WARN,
}
_LOGGED_LEVELS = frozenset({"info", "warn", "error"})


def node_selector(node: Node) -> str:
    """A selector that matches exactly this node in dbt's grammar."""
    if node.resource_type == UNIT_TEST:
        return f"unit_test:{node.package_name}.{node.name}"
    return "fqn:" + ".".join(node.fqn)


def run_segment(
    inputs: ParseInputs,
    command: str,
    nodes: Iterable[Node],
    *,
    select_all: bool,
    threads: int | None,
    fail_fast: bool,
    emit: Callable[[Event], None],
    manifest: Any = None,
    write_json: bool = True,
) -> None:
    """Invoke dbt for ``nodes`` in this thread; report every node, then SegmentDone.

    ``manifest`` is a parsed dbt Manifest to reuse instead of parsing again.
    """
    from dbt.cli.main import dbtRunner

    node_list = list(nodes)
    wanted = {node.unique_id for node in node_list}
    reported: set[str] = set()

    def on_event(event: Any) -> None:
        try:
            name = event.info.name
            node_info = getattr(event.data, "node_info", None)
            uid = node_info.unique_id if node_info is not None else ""
            if uid not in wanted:
                return
            if name == "NodeStart":
                emit(NodeStarted(uid))
            elif name == "NodeFinished":
                result = event.data.run_result
                status = _STATUS.get(result.status, ERROR)
                rows = None
                response = dict(result.adapter_response)
                if "rows_affected" in response:
                    try:
                        rows = int(response["rows_affected"])
                    except (TypeError, ValueError):
                        rows = None
                reported.add(uid)
                message = result.message or None
                if status == SUCCESS and message in ("OK", "PASS"):
                    message = None
                emit(NodeFinished(uid, status, message, float(result.execution_time), rows))
            elif event.info.level in _LOGGED_LEVELS and event.info.msg:
                emit(NodeLog(uid, event.info.level, one_line(str(event.info.msg))))
        except Exception:  # noqa: BLE001, S110 - never raise into dbt's threads
            pass

    # Quiet on the console (eltkit prints progress) but dbt's own logs/dbt.log is kept,
    # as with plain dbt: the summary points there for a failing node.
    args = [*dbt_args(inputs, command), "--log-level", "none", "--log-level-file", "debug",
            "--no-use-colors"]
    if not select_all:
        args += ["--select", *sorted(node_selector(node) for node in node_list),
                 "--indirect-selection", "empty"]
    if threads:
        args += ["--threads", str(threads)]
    if fail_fast:
        args.append("--fail-fast")
    if command == "build":
        args.append("--use-fast-test-edges")
    if not write_json:
        args.append("--no-write-json")

    error: str | None = None
    interrupted = False
    try:
        result = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(args)
    except KeyboardInterrupt:
        interrupted = True
        result = None
    finally:
        release_dbt_duckdb()
    if result is not None:
        exception = result.exception
        if isinstance(exception, KeyboardInterrupt):
            interrupted = True
        elif exception is not None:
            error = one_line(str(exception))
        _settle_from_results(result.result, wanted - reported, reported, emit)
    for uid in sorted(wanted - reported):
        if interrupted:
            emit(NodeFinished(uid, CANCELLED, "cancelled"))
        elif error:
            emit(NodeFinished(uid, ERROR, error))
    emit(SegmentDone(frozenset(wanted), error=error, interrupted=interrupted))


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open after an in-process invocation.

    dbt-duckdb caches one database environment per process and leaves it open when
    dbt returns, so the file stays locked against every other process: `eltkit dev`
    idling between saves would block an `eltkit run` in another terminal. This
    reaches into dbt-duckdb's connection manager (no public API closes it); if that
    changes, the worst case is the lock held until the process exits, as before.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: nothing was opened
        return
    environment = getattr(DuckDBConnectionManager, "_ENV", None)
    if environment is not None:
        with contextlib.suppress(Exception):
            environment.close()
    with contextlib.suppress(Exception):
        DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def _settle_from_results(results: Any, missing: set[str], reported: set[str],
                         emit: Callable[[Event], None]) -> None:
    """Nodes dbt finished without a NodeFinished event (skips) come from its results."""
    for item in getattr(results, "results", None) or []:
        try:
            uid = item.node.unique_id
        except AttributeError:
            continue
        if uid not in missing:
            continue
        status = _STATUS.get(str(item.status), ERROR)
        message = item.message or ("skipped: an upstream node failed" if status == SKIPPED
                                   else None)
        emit(NodeFinished(uid, status, message, float(item.execution_time or 0.0)))
        reported.add(uid)
        missing.discard(uid)
