"""Source freshness: how old each source's newest row is, against its thresholds.

The rules come from the manifest (``freshness`` with warn_after / error_after /
filter, and ``loaded_at_field``, including dbt's newer placement under
``config``); the query is built with sqlglot in the target's dialect with every
identifier quoted, never by pasting names into a string; age and status follow
dbt's arithmetic (a naive timestamp is UTC, an empty table is infinitely old,
``age > threshold`` is stale), so results match ``dbt source freshness``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlglot
from sqlglot import exp

from eltkit.graph.dag import Graph
from eltkit.graph.nodes import SOURCE

PASS, WARN, ERROR, RUNTIME_ERROR = "pass", "warn", "error", "runtime error"
_PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_EPOCH_START = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FreshnessRule:
    """What one source promises: its loaded-at expression and its thresholds."""

    unique_id: str
    source_name: str
    table_name: str
    database: str | None
    schema: str
    identifier: str
    loaded_at_field: str | None
    warn_after_s: float | None
    error_after_s: float | None
    filter: str | None

    @property
    def label(self) -> str:
        return f"{self.source_name}.{self.table_name}"


@dataclass(frozen=True)
class FreshnessResult:
    rule: FreshnessRule
    status: str
    max_loaded_at: datetime | None
    snapshotted_at: datetime | None
    age_s: float | None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "unique_id": self.rule.unique_id, "source": self.rule.label, "status": self.status,
            "max_loaded_at": _iso(self.max_loaded_at),
            "snapshotted_at": _iso(self.snapshotted_at), "age_s": self.age_s,
            "warn_after_s": self.rule.warn_after_s, "error_after_s": self.rule.error_after_s,
            "message": self.message,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def rules(graph: Graph, selected: Iterable[str] | None = None) -> list[FreshnessRule]:
    """Freshness rules of the (selected) sources that declare any, as dbt checks them."""
    wanted = set(selected) if selected is not None else None
    found = []
    for uid, node in sorted(graph.nodes.items()):
        if node.resource_type != SOURCE or (wanted is not None and uid not in wanted):
            continue
        rule = rule_of(node.raw or {})
        if rule is not None:
            found.append(rule)
    return found


def rule_of(entry: dict[str, Any]) -> FreshnessRule | None:
    config = entry.get("config") or {}
    freshness = entry.get("freshness") or config.get("freshness") or {}
    warn = _seconds(freshness.get("warn_after"))
    error = _seconds(freshness.get("error_after"))
    if warn is None and error is None:
        return None
    return FreshnessRule(
        unique_id=entry["unique_id"], source_name=entry["source_name"], table_name=entry["name"],
        database=entry.get("database"), schema=entry["schema"],
        identifier=entry.get("identifier") or entry["name"],
        loaded_at_field=entry.get("loaded_at_field") or config.get("loaded_at_field"),
        warn_after_s=warn, error_after_s=error, filter=freshness.get("filter"),
    )


def _seconds(threshold: dict[str, Any] | None) -> float | None:
    if not threshold or threshold.get("count") is None or threshold.get("period") is None:
        return None
    return float(threshold["count"]) * _PERIOD_SECONDS[str(threshold["period"])]


def freshness_sql(rule: FreshnessRule, dialect: str = "duckdb") -> str:
    """``SELECT MAX(loaded_at) AS max_loaded_at, CURRENT_TIMESTAMP AS snapshotted_at FROM t``.

    ``loaded_at_field`` may be an expression (dbt allows one), so it is parsed,
    not quoted whole; the column names in it are quoted.
    """
    if rule.loaded_at_field is None:
        raise ValueError(rule.unique_id)
    loaded_at = sqlglot.parse_one(rule.loaded_at_field, dialect=dialect)
    table = exp.Table(
        this=exp.to_identifier(rule.identifier, quoted=True),
        db=exp.to_identifier(rule.schema, quoted=True),
        catalog=exp.to_identifier(rule.database, quoted=True) if rule.database else None,
    )
    query = exp.select(
        exp.alias_(exp.Max(this=loaded_at), "max_loaded_at", quoted=True),
        exp.alias_(exp.CurrentTimestamp(), "snapshotted_at", quoted=True),
    ).from_(table)
    if rule.filter:
        query = query.where(sqlglot.parse_one(rule.filter, dialect=dialect))
    return query.sql(dialect=dialect, identify=True)


def status_for(age_s: float, rule: FreshnessRule) -> str:
    if rule.error_after_s is not None and age_s > rule.error_after_s:
        return ERROR
    if rule.warn_after_s is not None and age_s > rule.warn_after_s:
        return WARN
    return PASS


def check(rule: FreshnessRule, query: Callable[[str], tuple[Any, Any]],
          dialect: str = "duckdb") -> FreshnessResult:
    """Run one check; a failing query is a ``runtime error`` result, not an exception."""
    if rule.loaded_at_field is None:
        return FreshnessResult(
            rule, RUNTIME_ERROR, None, None, None,
            f"Could not compute freshness for source {rule.table_name}: no 'loaded_at_field' "
            "provided and duckdb adapter does not support metadata-based freshness checks.")
    try:
        max_loaded_at, snapshotted_at = query(freshness_sql(rule, dialect))
    except Exception as exc:  # noqa: BLE001 - a broken source is a result to record
        return FreshnessResult(rule, RUNTIME_ERROR, None, None, None,
                               f"{type(exc).__name__}: {exc}".strip())
    newest = _utc(max_loaded_at) if max_loaded_at is not None else _EPOCH_START
    now = _utc(snapshotted_at)
    age = (now - newest).total_seconds()
    return FreshnessResult(rule, status_for(age, rule), newest, now, age)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if hasattr(value, "isoformat"):  # a date
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def describe_age(seconds: float | None) -> str:
    """``45s``, ``16m08s``, ``12h``, ``30h05m``, ``3d04h``: short enough for a table cell."""
    if seconds is None:
        return "-"
    if seconds > 3.15e10:
        return "never loaded"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 2:
        return f"{days}d{hours:02d}h" if hours else f"{days}d"
    hours += days * 24
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
