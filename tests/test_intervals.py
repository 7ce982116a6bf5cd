"""Cron fires in a job's timezone: wall-clock times, classic cron rules at DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

from eltkit.jobs.intervals import fire_at_or_before, fires_after, intervals_between

PARIS = ZoneInfo("Europe/Paris")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_wall_time_skipped_in_spring_fires_at_the_jump() -> None:
    fires = list(islice(fires_after("30 2 * * *", PARIS, utc(2026, 3, 27, 12)), 3))
    assert fires == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]


def test_a_wall_time_repeated_in_autumn_fires_once() -> None:
    fires = list(islice(fires_after("30 2 * * *", PARIS, utc(2026, 10, 23, 12)), 3))
    # 02:30 CEST on the 24th and 25th (the first 02:30 of the 25th), then 02:30 CET.
    assert fires == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30),
                     utc(2026, 10, 26, 1, 30)]


def test_every_fifteen_minutes_through_the_spring_gap_has_no_repeats() -> None:
    fires = list(islice(fires_after("*/15 * * * *", PARIS, utc(2026, 3, 29, 0, 40)), 4))
    # 01:45 CET, then the gap (02:00-02:45 do not exist) collapses to one fire at 03:00 CEST.
    assert fires == [utc(2026, 3, 29, 0, 45), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 15),
                     utc(2026, 3, 29, 1, 30)]


def test_intervals_tile_a_month_across_the_autumn_change() -> None:
    intervals = intervals_between("0 0 * * *", PARIS, datetime(2026, 10, 1, tzinfo=PARIS),
                                  datetime(2026, 10, 31, tzinfo=PARIS))
    assert len(intervals) == 31
    assert all(a.end == b.start for a, b in pairwise(intervals))
    hours = {(i.end - i.start).total_seconds() / 3600 for i in intervals}
    assert hours == {24.0, 25.0}  # the day the clocks go back is 25 hours long
    assert intervals[-1].vars(PARIS) == {
        "data_interval_start": "2026-10-31T00:00:00+01:00",
        "data_interval_end": "2026-11-01T00:00:00+01:00",
    }


def test_fire_at_or_before_an_exact_fire_is_that_fire() -> None:
    assert fire_at_or_before("0 5 * * *", UTC, utc(2026, 11, 1, 5)) == utc(2026, 11, 1, 5)
    assert fire_at_or_before("0 5 * * *", UTC, utc(2026, 11, 1, 4, 59)) == utc(2026, 10, 31, 5)
