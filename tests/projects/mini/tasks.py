"""Tasks of the minimal test project.

Environment variables make them misbehave on purpose, so tests can exercise
retries, timeouts and crashes against real runs:

- MINI_FAIL_TIMES=N: load_t2 fails its first N attempts (counted in a file)
- MINI_SLEEP=S: load_t2 sleeps S seconds before loading
- MINI_HANG=1: load_t2 spins in Python forever (a timeout must stop it)
"""

import os
import time
from pathlib import Path

from eltkit import TaskContext, task


@task(produces=["source:src.t1"], tags=["extract"])
def load_t1(ctx: TaskContext) -> int:
    """Load the first raw table."""
    ctx.warehouse.execute("create schema if not exists raw")
    ctx.warehouse.execute("create or replace table raw.t1 as select range as id from range(5)")
    ctx.log.info("loaded 5 rows into raw.t1")
    return 5


@task(produces=["source:src.t2"], tags=["extract"], retries=2, retry_delay=0.2,
      timeout=float(os.environ.get("MINI_TIMEOUT", "60")))
def load_t2(ctx: TaskContext) -> int:
    """Load the second raw table, misbehaving as the environment says."""
    fail_times = int(os.environ.get("MINI_FAIL_TIMES", "0"))
    counter = Path("target") / "load_t2_attempts"
    counter.parent.mkdir(exist_ok=True)
    seen = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(seen + 1))
    if seen < fail_times:
        raise RuntimeError(f"flaky API: attempt {seen + 1} failed")
    time.sleep(float(os.environ.get("MINI_SLEEP", "0")))
    while os.environ.get("MINI_HANG"):
        pass
    ctx.warehouse.execute("create schema if not exists raw")
    ctx.warehouse.execute("create or replace table raw.t2 as select range as id from range(3)")
    return 3


@task(depends_on=["c"], tags=["export"])
def export_c(ctx: TaskContext) -> None:
    """Ship model c somewhere downstream."""
    rows = ctx.warehouse.execute("select count(*) from c").fetchone()[0]
    ctx.log.info("exported %s rows of c", rows)
