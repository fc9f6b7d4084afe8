"""One browser session's training: a Trainer stepped by a daemon thread.

The thread never calls Streamlit. Everything that touches the trainer, the thread's steps and the
pages' reads alike, holds `lock`, so a page always sees one whole step, never half an update.
The thread trains in slices (SLICE_S of steps, then REST_S asleep) so that several sessions and
the server's own script threads all get the GIL on a 2-core machine.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from rnn_core.config import ConfigError, TrainConfig
from rnn_core.corpus import Corpus
from rnn_core.sampling import sample
from rnn_core.trainer import DivergenceError, Trainer

R = TypeVar("R")

SLICE_S = 0.05     # seconds of training per slice, holding the lock
REST_S = 0.01      # then this long asleep: lock and GIL free for page reads and the server
SAMPLE_EVERY_S = 2.0  # the periodic sample (min-char-rnn prints one every 100 steps)
SAMPLE_LENGTH = 200
SAMPLE_TIMELINE_CAP = 200  # samples kept per session
MAX_TRAINING = int(os.environ.get("UNROLLED_MAX_TRAINING", "8"))  # concurrent playing sessions

_registry_lock = threading.Lock()
_playing: set[int] = set()  # ids of sessions whose worker is training now
_threads: set[threading.Thread] = set()


def playing_count() -> int:
    with _registry_lock:
        return len(_playing)


def live_threads() -> int:
    """Training threads alive in this process (every session's), for tests and the Limits page."""
    with _registry_lock:
        return sum(1 for t in _threads if t.is_alive())


@dataclass(frozen=True)
class TimelineSample:
    step: int
    chars_seen: int
    smooth_bpc: float
    text: str


@dataclass(frozen=True)
class SampleSettings:
    """The periodic sample's settings: fixed, so the timeline shows only the weights changing."""

    seed_text: str = ""
    length: int = SAMPLE_LENGTH
    temperature: float = 1.0
    rng_seed: int = 0


class TrainingSession:
    def __init__(self, corpus: Corpus, config: TrainConfig) -> None:
        self.lock = threading.RLock()
        self.trainer = Trainer(corpus, config)
        self.message: str | None = None  # why training stopped, for the page to show
        self.sample_settings = SampleSettings()
        self.timeline: deque[TimelineSample] = deque(maxlen=SAMPLE_TIMELINE_CAP)
        self._last_sample_time = 0.0
        self._play = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- controls (called from page callbacks) --------------------------------------------

    @property
    def playing(self) -> bool:
        return self._play.is_set()

    def play(self) -> bool:
        """Start or resume training; False (with `message` set) when the server is busy."""
        if self.playing:
            return True
        with _registry_lock:
            if len(_playing) >= MAX_TRAINING:
                self.message = (f"Server busy: {len(_playing)} sessions are training, the most this "
                                "server runs at once. Try again in a minute.")
                return False
            _playing.add(id(self))
        self.message = None
        self._ensure_thread()
        self._play.set()
        return True

    def pause(self) -> None:
        self._play.clear()
        with _registry_lock:
            _playing.discard(id(self))

    def step_once(self) -> None:
        self.pause()
        with self.lock:
            self._guarded(self.trainer.step)

    def reset(self, config: TrainConfig | None = None, corpus: Corpus | None = None) -> None:
        """A new model (same seed -> same weights). Raises CorpusError/ConfigError and keeps
        the current trainer when the new corpus or configuration is unusable."""
        trainer = Trainer(corpus or self.trainer.corpus, config or self.trainer.config)
        self.pause()
        with self.lock:
            self.trainer = trainer
            self.timeline.clear()
            self._last_sample_time = 0.0
            self.message = None

    def apply_live(self, **changes: float | str) -> None:
        """Learning rate, clipping: take effect at the next step (ConfigError if invalid)."""
        with self.lock:
            self.trainer.apply_live(**changes)

    def read(self, fn: Callable[[Trainer], R]) -> R:
        """Run fn(trainer) under the lock: a consistent snapshot of one step."""
        with self.lock:
            return fn(self.trainer)

    def close(self) -> None:
        """Stop the thread (the tab closed). State stays, so a reconnect can press Play again."""
        self.pause()
        self._stop.set()

    # --- the thread ---------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
            return
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(self._stop,), daemon=True,
                                        name=f"unrolled-train-{id(self):x}")
        with _registry_lock:
            _threads.add(self._thread)
        self._thread.start()

    def _loop(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                if not self._play.wait(timeout=0.2):
                    continue
                with self.lock:
                    self._guarded(lambda: self.trainer.run_for(SLICE_S))
                    self._maybe_sample()
                time.sleep(REST_S)
        finally:
            with _registry_lock:
                _playing.discard(id(self))
                _threads.discard(threading.current_thread())

    def _guarded(self, fn: Callable[[], object]) -> None:
        """Run a training call; a divergence or any failure pauses with a message, never a crash."""
        try:
            fn()
        except DivergenceError as exc:
            self.pause()
            self.message = str(exc)
        except (ConfigError, ValueError, FloatingPointError, MemoryError) as exc:
            self.pause()
            self.message = f"Training stopped: {exc}"

    def _maybe_sample(self) -> None:
        now = time.monotonic()
        if now - self._last_sample_time >= SAMPLE_EVERY_S:
            self._last_sample_time = now
            self.take_sample()

    def take_sample(self) -> TimelineSample | None:
        """Append a sample from the current weights to the timeline (call with the lock held)."""
        t = self.trainer
        if t.step_count == 0 and self.timeline:
            return None
        s = self.sample_settings
        text = sample(t.params, t.corpus.vocab, s.length, seed_text=s.seed_text,
                      temperature=s.temperature, rng=s.rng_seed).text
        smooth = (t.last_record.smooth_bpc if t.last_record
                  else t.initial_loss / t.config.seq_len / math.log(2))
        item = TimelineSample(t.step_count, t.chars_seen, smooth, text)
        self.timeline.append(item)
        return item
