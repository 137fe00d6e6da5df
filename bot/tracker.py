"""Counting work not yet finished, so tests (and shutdown) wait until a request is handled, never sleep.

Both chat adapters queue the work after their acknowledgement; each counts it with a `Tracker`.
"""

from __future__ import annotations

import threading
import time


class Tracker:
    """Counts tasks not yet finished, across pools and threads; `wait_idle` blocks until none are left."""

    def __init__(self) -> None:
        self._pending = 0
        self.finished = 0
        self._changed = threading.Condition()

    def start(self, capacity: int | None = None) -> bool:
        """Count one more task; False (nothing counted) when `capacity` are already pending."""
        with self._changed:
            if capacity is not None and self._pending >= capacity:
                return False
            self._pending += 1
            return True

    def done(self) -> None:
        with self._changed:
            self._pending -= 1
            self.finished += 1
            self._changed.notify_all()

    @property
    def pending(self) -> int:
        with self._changed:
            return self._pending

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is pending (False if still busy after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True
