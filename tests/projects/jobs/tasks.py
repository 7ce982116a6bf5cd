"""Tasks of the jobs test project: record the data interval they were given.

Files in the project folder make them misbehave, so a test can change the
behaviour of a job run the scheduler starts in another process:
- fail_load: load_events raises;
- hang_on: load_events sleeps for a minute when its interval starts with the
  file's content (a backfill can then be killed in the middle).
"""

import time
from pathlib import Path

from eltkit import TaskContext, task


@task(produces=["source:raw.events"], tags=["extract"])
def load_events(ctx: TaskContext) -> None:
    """Append this run's interval to raw.events."""
    if Path("fail_load").exists():
        raise RuntimeError("the events API is down (fail_load exists)")
    start = ctx.data_interval_start.isoformat() if ctx.data_interval_start else "none"
    hang_on = Path("hang_on")
    if hang_on.exists() and start.startswith(hang_on.read_text().strip()):
        time.sleep(60)
    ctx.warehouse.execute("create schema if not exists raw")
    ctx.warehouse.execute(
        "create table if not exists raw.events (interval_start varchar, interval_end varchar)")
    end = ctx.data_interval_end.isoformat() if ctx.data_interval_end else "none"
    ctx.warehouse.execute("insert into raw.events values (?, ?)", [start, end])
