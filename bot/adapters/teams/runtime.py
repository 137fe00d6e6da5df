"""Where Teams work runs: one asyncio loop thread for the SDK, bounded worker threads for the router.

The Agents SDK is asyncio (aiohttp); learnbot's router and database are synchronous. The loop
thread runs every SDK coroutine (token checks, connector calls); `Loop.run` waits for one from
any thread. Replies are queued on `Work` so a message is acknowledged at once however slow the
connector is; a full queue says no and the person is told learnbot is busy. Everything queued is
counted, so tests wait until a request has been handled (`wait_idle`) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from bot.tracker import Tracker

log = logging.getLogger(__name__)

T = TypeVar("T")
WORKERS = 16  # router calls (database work) at once
CAPACITY = 1000  # messages being handled at once; past this: "try again in a minute"


class Loop:
    """A daemon thread running an asyncio loop; `run(coro)` from any other thread waits for its result."""

    def __init__(self, name: str = "teams-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """The coroutine's result; after `timeout` seconds it is cancelled and TimeoutError raised."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)


class Work:
    """Bounded work after the acknowledgement: tasks on the loop, the router on a thread pool; counted."""

    def __init__(self, loop: Loop, *, workers: int = WORKERS, capacity: int = CAPACITY) -> None:
        self.loop = loop
        self.capacity = capacity
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="teams-router")
        self.tracker = Tracker()
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, job: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """Start `job()` as a task on the loop (call from the loop); False when `capacity` are running."""
        if not self.tracker.start(self.capacity):
            return False

        async def run() -> None:
            try:
                await job()
            except Exception:
                log.exception("a queued Teams job failed")
            finally:
                self.tracker.done()

        task = self.loop.loop.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def call(self, fn: Callable[[], T]) -> T:
        """Run a synchronous function (the router, the database) on the pool, counted like a job."""
        self.tracker.start()
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
        finally:
            self.tracker.done()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued or running (False if still busy after `timeout` seconds)."""
        return self.tracker.wait_idle(timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
