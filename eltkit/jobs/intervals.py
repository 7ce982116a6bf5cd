"""Cron fire times in a job's timezone, and the data interval each fire covers.

Cron expressions are read as wall-clock times in the job's timezone, the way
people mean them ("05:00 in Paris"), and turned into instants. Daylight-saving
changes follow classic cron: a wall time skipped by the spring change fires
when the clock jumps (02:30 fires at 03:00), a wall time repeated by the autumn
change fires once (the first time). The run for the fire at ``t`` covers the
interval from the previous fire to ``t``, so consecutive runs tile time with
no gap and no overlap, whatever the DST changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

# A DST gap is at most a few hours; a minute step finds its end quickly.
_GAP_SEARCH_LIMIT = 24 * 60


@dataclass(frozen=True, order=True)
class Interval:
    """The half-open span of time [start, end) a run is about; both in UTC."""

    start: datetime
    end: datetime

    def vars(self, zone: ZoneInfo) -> dict[str, str]:
        """The dbt vars and task context values: ISO 8601 in the job's timezone."""
        return {
            "data_interval_start": self.start.astimezone(zone).isoformat(),
            "data_interval_end": self.end.astimezone(zone).isoformat(),
        }

    def label(self, zone: ZoneInfo) -> str:
        start, end = self.start.astimezone(zone), self.end.astimezone(zone)
        return f"{start:%Y-%m-%d %H:%M} -> {end:%Y-%m-%d %H:%M %Z}"


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall-clock time; a skipped time maps to the jump."""
    aware = wall.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return aware.astimezone(UTC)
    probe = wall
    for _ in range(_GAP_SEARCH_LIMIT):
        probe += timedelta(minutes=1)
        candidate = probe.replace(tzinfo=zone, fold=0)
        if candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == probe:
            return candidate.astimezone(UTC)
    return aware.astimezone(UTC)  # pragma: no cover - no real zone has a day-long gap


def fires_after(expression: str, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Fire instants (UTC) strictly after ``after``, in order, without repeats."""
    wall_start = after.astimezone(zone).replace(tzinfo=None)
    # Start a little earlier in wall time: around an autumn change the wall clock
    # of ``after`` may be later than that of the next fire.
    iterator = croniter(expression, wall_start - timedelta(hours=3))
    previous: datetime | None = None
    while True:
        instant = _instant(iterator.get_next(datetime), zone)
        if instant <= after or instant == previous:
            continue
        previous = instant
        yield instant


def fire_at_or_before(expression: str, zone: ZoneInfo, moment: datetime) -> datetime:
    """The latest fire instant at or before ``moment``."""
    wall = moment.astimezone(zone).replace(tzinfo=None)
    iterator = croniter(expression, wall + timedelta(hours=3))
    while True:
        instant = _instant(iterator.get_prev(datetime), zone)
        if instant <= moment:
            return instant


def previous_fire(expression: str, zone: ZoneInfo, fire: datetime) -> datetime:
    """The fire before ``fire``: the start of the interval that ends at ``fire``."""
    return fire_at_or_before(expression, zone, fire - timedelta(microseconds=1))


def interval_ending(expression: str, zone: ZoneInfo, fire: datetime) -> Interval:
    return Interval(previous_fire(expression, zone, fire), fire)


def intervals_between(expression: str, zone: ZoneInfo, start: datetime,
                      end: datetime) -> list[Interval]:
    """Intervals that start in [start, end], oldest first: a backfill's plan.

    As in Airflow, an interval is named by its start: ``--start 2026-10-01
    --end 2026-10-31`` on a daily job is the 31 days of October.
    """
    found = []
    first = fire_at_or_before(expression, zone, start)
    fires = fires_after(expression, zone, first)
    begin = first if first >= start else next(fires)
    while begin <= end:
        following = next(fires)
        found.append(Interval(begin, following))
        begin = following
    return found

