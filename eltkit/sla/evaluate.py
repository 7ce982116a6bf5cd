"""The SLA state machine: met, pending, at risk or missed, at a given moment.

A deadline recurs (every day at 08:00 in a timezone, or at each time of a
cron). Its occurrences cut time into windows; the instance due at ``D``
covers ``(previous occurrence, D]``. At ``now``:

* the instance that fell due last (``P``) is **missed** if some node had no
  success in its window by ``P`` and still has none since; it stays the
  current instance until those nodes are built (late), so a miss is visible
  and escalates until someone fixes it;
* otherwise the current instance is the next one (``N``): **met** when every
  node succeeded since ``P``, else **pending** or **at risk** by whether the
  predicted finish (:mod:`eltkit.sla.prediction`) is after ``N``.

``max_staleness`` adds: a node whose newest success is older than that is a
**miss** now, whatever the deadline says. Its due moment is when the data went
stale (the oldest newest success plus ``max_staleness``).

``now`` is always passed in (never read from the clock here), so the machine
is tested with fixed datetimes and no sleeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from eltkit.durations import duration
from eltkit.graph.dag import Graph
from eltkit.sla.config import SlaConfig
from eltkit.sla.prediction import Prediction, predict_finish
from eltkit.state.slas import latest_successes
from eltkit.state.store import HistoryStore

MET, PENDING, AT_RISK, MISSED = "met", "pending", "at risk", "missed"
STATES = (MET, PENDING, AT_RISK, MISSED)
#: States in which an SLA has slipped and its escalation ladder runs.
SLIPPED = (AT_RISK, MISSED)
DEADLINE, STALENESS = "deadline", "max_staleness"


@dataclass(frozen=True)
class SlaStatus:
    """One evaluation of one SLA.

    ``due_at`` is the moment the evaluated promise falls (fell) due: a
    deadline occurrence, or for a staleness miss the moment the data went
    stale; ``promise`` says which. It is None only when a staleness-only SLA
    has nodes that were never built.
    """

    name: str
    state: str
    reason: str
    promise: str
    due_at: datetime | None
    evaluated_at: datetime
    predicted_finish: datetime | None = None
    finished_at: datetime | None = None
    window_start: datetime | None = None
    nodes: tuple[str, ...] = ()
    remaining: tuple[str, ...] = ()

    @property
    def due_ts(self) -> float | None:
        """``due_at`` in Unix seconds, as the history stores it."""
        return None if self.due_at is None else self.due_at.timestamp()

    @property
    def due_key(self) -> float:
        """The due instance as stored in the history (0 for "never built")."""
        return self.due_at.timestamp() if self.due_at is not None else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "state": self.state, "reason": self.reason,
            "promise": self.promise, "due_at": _iso(self.due_at),
            "predicted_finish": _iso(self.predicted_finish),
            "finished_at": _iso(self.finished_at), "window_start": _iso(self.window_start),
            "evaluated_at": _iso(self.evaluated_at), "nodes": len(self.nodes),
            "remaining": list(self.remaining),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def due_instances(cron: str, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime, datetime]:
    """The deadline occurrences around ``now``: (before the last, the last <= now, the next > now).

    Computed in the SLA's timezone so "08:00" stays 08:00 across a DST change.
    """
    local = now.astimezone(zone)
    following = croniter(cron, local).get_next(datetime)
    last = croniter(cron, following).get_prev(datetime)
    before = croniter(cron, last).get_prev(datetime)
    return before, last, following


def evaluate_sla(name: str, sla: SlaConfig, graph: Graph, store: HistoryStore,
                 nodes: Sequence[str], now: datetime) -> SlaStatus:
    """The state of SLA ``name`` at ``now`` (timezone-aware), from the run history."""
    if now.tzinfo is None:
        raise ValueError("evaluate_sla needs a timezone-aware `now`")
    return _Evaluation(name, sla, graph, store, tuple(nodes), now).run()


class _Evaluation:
    """One evaluation's inputs and helpers, so each step reads as a sentence."""

    def __init__(self, name: str, sla: SlaConfig, graph: Graph, store: HistoryStore,
                 nodes: tuple[str, ...], now: datetime) -> None:
        self.name, self.sla, self.graph, self.store, self.nodes = name, sla, graph, store, nodes
        self.zone = sla.zone
        self.now = now.astimezone(self.zone)
        self.now_ts = now.timestamp()

    def run(self) -> SlaStatus:
        stale = self._staleness()
        if self.sla.cron is None:
            return stale[0] if stale else self._fresh_status()
        before, last, following = due_instances(self.sla.cron, self.zone, self.now)
        missed = self._missed_instance(before, last, stale[1] if stale else None)
        if missed is not None:
            return missed
        if stale is not None:
            return stale[0]
        return self._current_instance(last, following)

    # -- deadline ------------------------------------------------------------------

    def _missed_instance(self, before: datetime, last: datetime,
                         stale: str | None) -> SlaStatus | None:
        """The last instance if it was missed and is still not built (late); else None."""
        on_time = latest_successes(self.store, self.nodes, after=before.timestamp(),
                                   until=last.timestamp())
        if len(on_time) == len(self.nodes):
            return None
        since = latest_successes(self.store, self.nodes, after=before.timestamp(),
                                 until=self.now_ts)
        remaining = self._without(since)
        if not remaining:
            return None  # built late: that instance is closed, the next one is current
        prediction = predict_finish(self.graph, self.store, remaining, before.timestamp(),
                                    self.now_ts)
        reason = (f"due {self._clock(last)} passed: {self._names(remaining)} not built "
                  f"successfully since {self._clock(before)}; "
                  f"{self._forecast(prediction, would=prediction.run_id is None)}")
        if stale is not None:
            reason += f"; also {stale}"
        return self._status(MISSED, reason, DEADLINE, last, window_start=before,
                            remaining=remaining, prediction=prediction)

    def _current_instance(self, last: datetime, following: datetime) -> SlaStatus:
        done = latest_successes(self.store, self.nodes, after=last.timestamp(),
                                until=self.now_ts)
        remaining = self._without(done)
        if not remaining:
            finished = datetime.fromtimestamp(max(done.values()), self.zone)
            reason = (f"all {len(self.nodes)} nodes built and tested by {self._clock(finished)}"
                      f" for the deadline {self._clock(following)}")
            if self.sla.max_staleness is not None:
                reason += f"; none older than {duration(self.sla.max_staleness)}"
            return self._status(MET, reason, DEADLINE, following, window_start=last,
                                finished_at=finished)
        prediction = predict_finish(self.graph, self.store, remaining, last.timestamp(),
                                    self.now_ts)
        late = prediction.finish > following.timestamp()
        forecast = self._forecast(prediction, would=prediction.run_id is None)
        if late:
            over = duration(prediction.finish - following.timestamp())
            reason = f"{forecast}, {over} after the deadline {self._clock(following)}"
        else:
            reason = f"{forecast}, before the deadline {self._clock(following)}"
        reason += f"; {len(remaining)} of {len(self.nodes)} nodes not built since " \
                  f"{self._clock(last)}"
        return self._status(AT_RISK if late else PENDING, reason, DEADLINE, following,
                            window_start=last, remaining=remaining, prediction=prediction)

    # -- staleness -----------------------------------------------------------------

    def _staleness(self) -> tuple[SlaStatus, str] | None:
        """A MISSED status when some node's newest success is older than max_staleness.

        Also returns the staleness part of its reason alone, for a deadline miss
        that is a staleness miss as well.
        """
        limit = self.sla.max_staleness
        if limit is None:
            return None
        window_start = self.now_ts - limit
        newest = latest_successes(self.store, self.nodes, until=self.now_ts)
        stale = tuple(uid for uid in self.nodes
                      if uid not in newest or newest[uid] <= window_start)
        if not stale:
            return None
        never = [uid for uid in stale if uid not in newest]
        prediction = predict_finish(self.graph, self.store, stale, window_start, self.now_ts)
        forecast = self._forecast(prediction, would=prediction.run_id is None)
        if never:
            text = f"{self._names(never)} never built successfully " \
                   f"(max_staleness {duration(limit)})"
            return self._status(MISSED, f"{text}; {forecast}", STALENESS, None,
                                remaining=stale, prediction=prediction), text
        oldest = min(stale, key=lambda uid: newest[uid])
        went_stale = datetime.fromtimestamp(newest[oldest] + limit, self.zone)
        age = duration(self.now_ts - newest[oldest])
        text = (f"{self._names(stale)} last built {age} ago, older than max_staleness "
                f"{duration(limit)} since {self._clock(went_stale)}")
        return self._status(MISSED, f"{text}; {forecast}", STALENESS, went_stale,
                            window_start=datetime.fromtimestamp(window_start, self.zone),
                            remaining=stale, prediction=prediction), text

    def _fresh_status(self) -> SlaStatus:
        """A staleness-only SLA whose nodes are all fresh: met until the oldest goes stale."""
        assert self.sla.max_staleness is not None
        newest = latest_successes(self.store, self.nodes, until=self.now_ts)
        oldest = min(self.nodes, key=lambda uid: newest[uid])
        goes_stale = datetime.fromtimestamp(newest[oldest] + self.sla.max_staleness, self.zone)
        reason = (f"every node built within {duration(self.sla.max_staleness)}; the oldest, "
                  f"{self._names([oldest])}, goes stale at {self._clock(goes_stale)}")
        return self._status(MET, reason, STALENESS, goes_stale,
                            finished_at=datetime.fromtimestamp(max(newest.values()), self.zone))

    # -- helpers -------------------------------------------------------------------

    def _status(self, state: str, reason: str, promise: str, due_at: datetime | None, *,
                window_start: datetime | None = None, remaining: Sequence[str] = (),
                prediction: Prediction | None = None,
                finished_at: datetime | None = None) -> SlaStatus:
        predicted = None if prediction is None else \
            datetime.fromtimestamp(prediction.finish, self.zone)
        return SlaStatus(self.name, state, reason, promise, due_at, self.now, predicted,
                         finished_at, window_start, self.nodes, tuple(remaining))

    def _without(self, done: dict[str, float]) -> tuple[str, ...]:
        return tuple(uid for uid in self.nodes if uid not in done)

    def _names(self, unique_ids: Sequence[str], limit: int = 3) -> str:
        """Node names, models before tests, a few of them: ``fct_orders, fct_customers +4 more``."""
        nodes = sorted((self.graph.nodes[uid] for uid in unique_ids),
                       key=lambda node: (node.is_test, node.name))
        names = [node.name for node in nodes[:limit]]
        more = len(nodes) - limit
        return ", ".join(names) + (f" +{more} more" if more > 0 else "")

    def _forecast(self, prediction: Prediction, *, would: bool) -> str:
        """``fct_orders will finish at 08:20 by its last 7 runs`` (``would`` if no run is on)."""
        finish = self._clock(datetime.fromtimestamp(prediction.finish, self.zone))
        name = self.graph.nodes[prediction.last_node].name if prediction.last_node else "it"
        if prediction.with_tests:
            name += " and its tests"
        verb = "would finish" if would else "will finish"
        basis = (f"by its last {prediction.samples} run{'s' if prediction.samples != 1 else ''}"
                 if prediction.samples else "(it has no past runs to time it by)")
        where = f" (run {prediction.run_id} in progress)" if prediction.run_id else \
            " if a run started now"
        return f"{name} {verb} at {finish} {basis}{where}"

    def _clock(self, moment: datetime) -> str:
        """``08:20`` today, else ``2026-11-24 08:20``, in the SLA's timezone."""
        local = moment.astimezone(self.zone)
        if local.date() == self.now.date():
            return local.strftime("%H:%M")
        return local.strftime("%Y-%m-%d %H:%M")
