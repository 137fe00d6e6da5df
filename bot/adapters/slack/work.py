"""Work after the ack: bounded thread pools, so Slack gets its 200 at once however slow Slack is.

Listeners only ack and queue (`Work.submit`); the queued job looks the person up, calls the
router and posts. At most `capacity` jobs wait or run; past that `submit` says no and the
listener tells the person it is busy (in the ack, or through the small `urgent` lane). The
urgent lane also carries what must reach Slack within seconds (a modal on a 3-second trigger
id). Everything Bolt runs for us and everything queued here is counted, so tests can wait
until a request has been handled completely (`wait_idle`) instead of sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bot.tracker import Tracker

log = logging.getLogger(__name__)

WORKERS = 16  # Slack calls in flight at once for replies (each can take up to 10 s when Slack is slow)
CAPACITY = 1000  # jobs waiting or running (~7 s of work at full speed); past this: "try again in a minute"
URGENT_WORKERS = 4
URGENT_CAPACITY = 64
BUSY = "I'm busy right now, so I couldn't do that. Please try again in a minute."  # when submit says no


class CountedExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks the tracker counts (Bolt's listener pool: tests see its work too)."""

    def __init__(self, tracker: Tracker, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.tracker = tracker

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tracker.start()

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self.tracker.done()

        try:
            return super().submit(counted)
        except BaseException:
            self.tracker.done()
            raise


class Lane:
    """One bounded pool: `submit` returns False instead of queueing past `capacity`."""

    def __init__(self, name: str, tracker: Tracker, workers: int, capacity: int) -> None:
        self.name, self.capacity = name, capacity
        self._pool = CountedExecutor(tracker, workers, thread_name_prefix=f"slack-{name}")
        self._queued = Tracker()  # this lane's own jobs, against its capacity

    def submit(self, job: Callable[[], None]) -> bool:
        if not self._queued.start(self.capacity):
            return False

        def run() -> None:
            try:
                job()
            except Exception:
                log.exception("a queued Slack job (%s) failed", self.name)
            finally:
                self._queued.done()

        self._pool.submit(run)
        return True

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Work:
    """The adapter's queued work: a main lane for replies, an urgent lane for modals and busy notes."""

    def __init__(
        self,
        *,
        workers: int = WORKERS,
        capacity: int = CAPACITY,
        urgent_workers: int = URGENT_WORKERS,
        urgent_capacity: int = URGENT_CAPACITY,
    ) -> None:
        self.tracker = Tracker()
        self.main = Lane("work", self.tracker, workers, capacity)
        self.urgent = Lane("urgent", self.tracker, urgent_workers, urgent_capacity)

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue a reply job; False when the process is overloaded (the caller tells the person)."""
        accepted = self.main.submit(job)
        if not accepted:
            log.warning("overloaded: %d Slack jobs queued, a request was refused", self.main.capacity)
        return accepted

    def soon(self, job: Callable[[], None]) -> bool:
        """Queue something that must reach Slack within seconds (a modal, a busy note)."""
        return self.urgent.submit(job)

    def executor(self, max_workers: int) -> CountedExecutor:
        """The pool Bolt runs listeners in (they only ack and queue), counted like the rest."""
        return CountedExecutor(self.tracker, max_workers, thread_name_prefix="slack-listener")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.tracker.wait_idle(timeout)

    def shutdown(self) -> None:
        self.main.shutdown()
        self.urgent.shutdown()
