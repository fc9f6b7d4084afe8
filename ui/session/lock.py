"""A session's lock, which notices when someone other than its worker wants it, and the way of
waiting for a lock that lets others see the wait."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

BUSY_S = 0.25  # a page's script run is taken to be drawing for this long after it read


class Acquirable(Protocol):
    def acquire(self) -> bool: ...


def acquire_noting_wait(lock: Acquirable, waiting: set[int]) -> None:
    """lock.acquire(), with this thread's ident in `waiting` while it waits, so that others can
    see someone wants the lock (set operations are atomic: no other lock needed)."""
    me = threading.get_ident()
    waiting.add(me)
    try:
        lock.acquire()
    finally:
        waiting.discard(me)


class SessionLock:
    """A session's reentrant lock that notes when threads other than its worker use it (pages'
    reads, the controls): `wanted()` tells the worker to rest longer after its slice. The worker
    takes `raw`, which notes nothing."""

    def __init__(self) -> None:
        self.raw = threading.RLock()
        self._waiting: set[int] = set()  # idents of threads about to acquire (atomic set ops)
        self._last_use = -math.inf       # monotonic time of the last acquire or release

    def __enter__(self) -> bool:
        acquire_noting_wait(self.raw, self._waiting)
        self._last_use = time.monotonic()
        return True

    def __exit__(self, *exc: object) -> None:
        self._last_use = time.monotonic()
        self.raw.release()

    def wanted(self) -> bool:
        """Someone waits for the lock, or read under it within the last BUSY_S (a script run
        that is probably still drawing, and needs the GIL)."""
        return bool(self._waiting) or time.monotonic() - self._last_use < BUSY_S
