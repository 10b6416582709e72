"""Keeping under a platform's documented request rate, and pausing politely.

Platforms throttle or block clients that exceed their rate (Nexudus: 120
requests a minute; Cobot: 6 a minute on memberships), so requests wait their
turn here rather than earn a 409 or 429.  The clock and the pause are
injectable so that tests run in no time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]


class RateLimitedError(Exception):
    """The next free slot is later than the caller is willing to wait."""


class Pause:
    """Sleeps that a shutdown can cut short."""

    def __init__(self) -> None:
        self._stopping = threading.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def __call__(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def stop(self) -> None:
        self._stopping.set()


class RateLimiter:
    """At most ``limit`` request starts in any ``window_s`` seconds.

    Each caller reserves the earliest start that keeps every window within the
    limit, then waits for it outside the lock, so a thread that is waiting
    never holds up one that need not.
    """

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.sleep = sleep
        self._starts: deque[float] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def acquire(self, max_wait_s: float | None = None) -> float:
        """Wait for a slot; return the seconds waited.

        Raises RateLimitedError, reserving nothing, when the wait would exceed
        ``max_wait_s``.
        """
        with self._lock:
            now = self.clock()
            start = now
            if len(self._starts) == self.limit:
                start = max(now, self._starts[0] + self.window_s)
            if max_wait_s is not None and start - now > max_wait_s:
                raise RateLimitedError(f"next request allowed in {start - now:.1f} s")
            self._starts.append(start)

        wait = start - now
        if wait > 0:
            self.sleep(wait)
        return wait
