"""Backfills: one job run per past interval, resumable by running the same command again.

Intervals that already succeeded are skipped (unless forced), so a backfill
that crashed or was stopped resumes where it stopped. Runs go one at a time:
a DuckDB warehouse has one writer, and an interval's models usually read the
previous interval's results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from eltkit.errors import ConfigError, EltkitError
from eltkit.jobs.config import JobConfig
from eltkit.jobs.intervals import Interval, intervals_between
from eltkit.state.jobs import successful_intervals
from eltkit.state.store import HistoryStore

MAX_BACKFILL_INTERVALS = 10_000


@dataclass(frozen=True)
class PlannedInterval:
    interval: Interval
    run: bool
    why: str


def parse_moment(text: str, job: JobConfig, option: str, *,
                 end_of_day: bool = False) -> datetime:
    """A date or an ISO datetime; naive values are in the job's timezone.

    A date alone is the start of that day, or with ``end_of_day`` its last
    moment: ``--end 2026-10-31`` includes every interval starting on the 31st.
    """
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end_of_day else time(), tzinfo=job.zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a date; write 2026-10-01 or "
                          "2026-10-01T05:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=job.zone)


def plan_backfill(store: HistoryStore, name: str, job: JobConfig, start: datetime,
                  end: datetime, *, force: bool, newest_first: bool) -> list[PlannedInterval]:
    if job.schedule is None:
        raise ConfigError(f"job {name} has no schedule: a backfill needs its cron to cut "
                          "the range into intervals; add schedule: to the job")
    if end < start:
        raise ConfigError(f"--end {end.isoformat()} is before --start {start.isoformat()}; "
                          "swap them")
    intervals = intervals_between(job.schedule, job.zone, start, end)
    if len(intervals) > MAX_BACKFILL_INTERVALS:
        raise EltkitError(f"the range holds {len(intervals)} intervals of job {name}; "
                          f"backfill at most {MAX_BACKFILL_INTERVALS} at a time")
    done = successful_intervals(store, name)
    planned = []
    for interval in intervals:
        key = (interval.start.timestamp(), interval.end.timestamp())
        if key in done and not force:
            planned.append(PlannedInterval(interval, False, "already succeeded"))
        else:
            planned.append(PlannedInterval(interval, True,
                                           "forced" if key in done else "to run"))
    if newest_first:
        planned.reverse()
    return planned
