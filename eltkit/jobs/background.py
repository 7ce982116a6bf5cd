"""Work the scheduler hands off so a slow webhook never delays a cron fire.

Notifications and SLA escalations may wait on the network for tens of seconds
(timeouts, retries with backoff); they run one at a time, in order, on one
worker thread, while the scheduler's loop keeps ticking.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger("eltkit.scheduler")


class BackgroundWork:
    def __init__(self) -> None:
        self._queue: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="eltkit-notify", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], object]) -> None:
        self._queue.put(work)

    @property
    def pending(self) -> int:
        return self._queue.unfinished_tasks

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted is done; False if ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout: float) -> None:
        self.drain(timeout)
        self._queue.put(None)
        self._thread.join(timeout=1.0)

    def _work(self) -> None:
        while True:
            work = self._queue.get()
            try:
                if work is None:
                    return
                work()
            except Exception:  # one failed alert must not stop the next (logged)
                log.exception("a notification failed")
            finally:
                self._queue.task_done()
