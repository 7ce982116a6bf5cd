"""What the freshness screen shows: every source with freshness rules and its last check.

The rules come from the project's DAG (the ``freshness:`` of each source in the
manifest), the checks from the history (``eltkit freshness`` records every
result), so a source that was never checked is listed too. Called from a
thread worker; returns plain dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eltkit.state.store import HistoryStore
    from eltkit.tui.data import Catalog

NEVER_CHECKED = "never checked"
#: Most urgent first: the order of the list and of the summary's counts.
STATUS_ORDER = ("error", "runtime error", "warn", NEVER_CHECKED, "pass")


@dataclass(frozen=True)
class SourceFreshness:
    """One source: its thresholds and what its most recent check found."""

    unique_id: str
    source: str  # jaffle.raw_orders
    status: str  # pass | warn | error | runtime error | never checked
    warn_after_s: float | None
    error_after_s: float | None
    checked_at: float | None = None
    newest_at: float | None = None  # the newest row's loaded-at time, as the check saw it
    age_at_check_s: float | None = None
    message: str | None = None
    loaded_at_field: str | None = None
    #: False for a source checked in the past whose rule is gone from the project
    has_rule: bool = True

    def age_now(self, now: float) -> float | None:
        """How old the newest row is now (it can only have aged since the check)."""
        if self.newest_at is not None:
            return max(0.0, now - self.newest_at)
        if self.age_at_check_s is not None and self.checked_at is not None:
            return self.age_at_check_s + max(0.0, now - self.checked_at)
        return None

    def status_now(self, now: float) -> str | None:
        """The status the age now would get (what ``eltkit freshness`` would say)."""
        age = self.age_now(now)
        if age is None:
            return None
        if self.error_after_s is not None and age > self.error_after_s:
            return "error"
        if self.warn_after_s is not None and age > self.warn_after_s:
            return "warn"
        return "pass"


@dataclass(frozen=True)
class FreshnessData:
    sources: list[SourceFreshness]
    dag_error: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for source in self.sources:
            counts[source.status] = counts.get(source.status, 0) + 1
        return counts

    @property
    def last_checked_at(self) -> float | None:
        return max((s.checked_at for s in self.sources if s.checked_at is not None),
                   default=None)


def read_freshness(store: HistoryStore | None, catalog: Catalog) -> FreshnessData:
    """Rules from the DAG joined with the latest check of each source."""
    # Imports sqlglot (a fifth of a second): here, in the worker, never on the UI thread.
    from eltkit.schedule.freshness import rules as freshness_rules

    checks: dict[str, dict[str, Any]] = {}
    if store is not None:
        checks = {row["unique_id"]: row for row in store.latest_freshness()}
    rules = []
    graph = catalog.graph()
    if graph is not None:
        rules = freshness_rules(graph)
    sources = []
    for rule in rules:
        check = checks.pop(rule.unique_id, None)
        if check is None:
            sources.append(SourceFreshness(rule.unique_id, rule.label, NEVER_CHECKED,
                                           rule.warn_after_s, rule.error_after_s,
                                           loaded_at_field=rule.loaded_at_field))
        else:
            # The thresholds of today's rule: the YAML may have changed since the check.
            sources.append(_checked(check, rule.warn_after_s, rule.error_after_s,
                                    rule.loaded_at_field, has_rule=True))
    for check in checks.values():
        if graph is None or check["unique_id"] in graph.nodes:
            sources.append(_checked(check, check["warn_after_s"], check["error_after_s"],
                                    None, has_rule=graph is None))
    rank = {status: index for index, status in enumerate(STATUS_ORDER)}
    sources.sort(key=lambda s: (rank.get(s.status, len(rank)), s.source))
    return FreshnessData(sources, catalog.error if graph is None else None)


def _checked(check: dict[str, Any], warn: float | None, error: float | None,
             loaded_at_field: str | None, *, has_rule: bool) -> SourceFreshness:
    return SourceFreshness(
        check["unique_id"], check["source"], check["status"], warn, error,
        checked_at=check["checked_at"], newest_at=_timestamp(check["max_loaded_at"]),
        age_at_check_s=check["age_s"], message=check["message"],
        loaded_at_field=loaded_at_field, has_rule=has_rule)


def _timestamp(iso: str | None) -> float | None:
    """An ISO time from the history; a year-1 time (an empty table) stays None."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.year < 1970:
        return None
    if moment.tzinfo is None:  # eltkit writes UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
