"""What every session on this server shares: training slots (at most MAX_TRAINING sessions
playing), turns (at most TRAIN_PARALLEL workers training at the same moment), a census of
sessions and training threads, and the thread that collects cyclic garbage. One `SERVER` per
process; nothing here calls Streamlit."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
import weakref
from collections.abc import Iterator

from ui.session.lock import acquire_noting_wait

MAX_TRAINING = int(os.environ.get("UNROLLED_MAX_TRAINING", "8"))  # concurrent playing sessions
# How many workers may train at the same moment, process-wide. Small NumPy ops hold the GIL, so
# with N workers training at once a click's script run gets about 1/(N+1) of it and waits; taking
# turns keeps that near 1/2 whatever N, for about the same total steps/s (it is GIL-bound anyway).
TRAIN_PARALLEL = max(1, int(os.environ.get("UNROLLED_TRAIN_PARALLEL", "1")))
# Streamlit's gc.collect(2) after every script run is off (.streamlit/config.toml: it took half the
# server's time), so the cyclic garbage a dropped session leaves is collected here instead.
GC_EVERY_S = float(os.environ.get("UNROLLED_GC_EVERY_S", "30"))
STEP_ASIDE_S = 1.0  # the longest a worker waits for script runs (a stuck run never stops training)
# Threads Streamlit's server keeps in pools and reuses: anyio's workers (prunes idle ones only when
# it next hands out work) and asyncio's default executor (never shrinks). Their number follows the
# busiest moment so far, not the sessions open now, so leak checks leave them out.
POOLED_THREAD_PREFIXES = ("AnyIO worker thread", "ThreadPoolExecutor-")


class Server:
    def __init__(self, parallel: int = TRAIN_PARALLEL) -> None:
        self._lock = threading.Lock()  # guards the sets below and the collector
        self._playing: set[int] = set()  # keys of sessions holding a training slot
        self._threads: set[threading.Thread] = set()
        self._sessions: weakref.WeakSet[object] = weakref.WeakSet()
        self._gate = threading.BoundedSemaphore(parallel)
        self._turn_waiters: set[int] = set()  # idents of workers waiting for a turn (atomic set ops)
        self._collector: threading.Thread | None = None
        self._interactive = 0  # full script runs (a click's, a page's) in progress, all sessions
        self._no_run = threading.Condition(self._lock)  # notified when the last of them ends

    # --- training slots ---------------------------------------------------------------------

    def take_slot(self, key: int) -> bool:
        """A training slot for session `key`: False when MAX_TRAINING sessions already train."""
        with self._lock:
            if key not in self._playing and len(self._playing) >= MAX_TRAINING:
                return False
            self._playing.add(key)
            return True

    def free_slot(self, key: int) -> None:
        with self._lock:
            self._playing.discard(key)

    def playing_count(self) -> int:
        with self._lock:
            return len(self._playing)

    # --- turns ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """A worker's turn at training (TRAIN_PARALLEL at once), noting that it waits for one."""
        acquire_noting_wait(self._gate, self._turn_waiters)
        try:
            yield
        finally:
            self._gate.release()

    def turn_wanted(self) -> bool:
        """Whether a worker waits for its turn (the one training then rests longer)."""
        return bool(self._turn_waiters)

    # --- a click first ---------------------------------------------------------------------

    @contextlib.contextmanager
    def interactive(self) -> Iterator[None]:
        """A full script run (after a click or a page switch) is in progress: while any is,
        workers end their slice after the current step and wait (up to STEP_ASIDE_S), so the run
        has the GIL to itself. Measured with 4 sessions training: a click's run took 80 ms of CPU
        but 0.6-1.2 s of wall time while the workers kept training."""
        with self._lock:
            self._interactive += 1
        try:
            yield
        finally:
            with self._lock:
                self._interactive -= 1
                if not self._interactive:
                    self._no_run.notify_all()

    def interactive_now(self) -> bool:
        return self._interactive > 0

    def step_aside(self) -> None:
        """Wait while a full script run is in progress, STEP_ASIDE_S at most."""
        with self._no_run:
            self._no_run.wait_for(lambda: not self._interactive, timeout=STEP_ASIDE_S)

    # --- census -----------------------------------------------------------------------------

    def add_session(self, session: object) -> None:
        """Count a new session (weakly) and make sure the collector runs."""
        with self._lock:
            self._sessions.add(session)
            if self._collector is None or not self._collector.is_alive():
                self._collector = threading.Thread(target=_collect_forever, daemon=True,
                                                   name="unrolled-gc")
                self._collector.start()

    def live_sessions(self) -> int:
        """Sessions still in memory (a closed tab's is freed once Streamlit drops its session
        state, after server.disconnectedSessionTTL): for tests and the sidebar's server line."""
        with self._lock:
            return len(self._sessions)

    def add_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.add(thread)

    def discard_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._threads.discard(thread)

    def live_threads(self) -> int:
        """Training threads alive in this process (every session's), for tests and the Limits page."""
        with self._lock:
            return sum(1 for t in self._threads if t.is_alive())


def _collect_forever() -> None:
    while True:
        time.sleep(GC_EVERY_S)
        gc.collect()


def server_threads() -> tuple[int, int]:
    """(Python threads in this process, of which pooled): for the sidebar's server line and the
    closed-tab tests (the rest, main, script runs, training and gc, must go back to baseline)."""
    names = [t.name for t in threading.enumerate()]
    return len(names), sum(1 for n in names if n.startswith(POOLED_THREAD_PREFIXES))


SERVER = Server()
