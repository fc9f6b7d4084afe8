"""One browser session's training: a Trainer stepped by a daemon thread.

The thread never calls Streamlit. Everything that touches the trainer, the thread's steps and the
pages' reads alike, holds `lock`, so a page always sees one whole step, never half an update.
The thread trains in slices of SLICE_S and rests between them. The rest is REST_S when someone
else needs the lock, the GIL or a turn at training (a page reading or still drawing what it read,
another session's worker waiting), so that several sessions and the server's script threads all get
their share on a 2-core machine; otherwise only MIN_REST_S. Resting REST_S after every slice cost
17% of the training speed (bench/README.md, "Live app overhead").
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from rnn_core.config import ConfigError, TrainConfig
from rnn_core.corpus import Corpus
from rnn_core.sampling import sample
from rnn_core.trainer import DivergenceError, Trainer
from ui.inspect_data import new_grad_flow_log, record_grad_flow

R = TypeVar("R")
log = logging.getLogger(__name__)

SLICE_S = 0.05     # seconds of training per slice, holding the lock
REST_S = 0.01      # then this long asleep when wanted: lock and GIL free for page reads and the server
MIN_REST_S = 0.001  # ... and this long when nobody waits (still lets the server's threads in)
BUSY_S = 0.25      # a page's script run is taken to be drawing for this long after it read
SAMPLE_EVERY_S = 2.0  # the periodic sample (min-char-rnn prints one every 100 steps)
SAMPLE_LENGTH = 200
SAMPLE_TIMELINE_CAP = 200  # samples kept per session
MIN_SAMPLE_GAP_S = 0.5  # a timeline set to "every N steps" still samples at most this often
GRAD_FLOW_EVERY = 10    # steps between rows of the gradient-flow history (Inspect page)
RATE_WINDOW_S = 5.0   # the throughput readout averages over this many seconds
RATE_SAMPLES = 200
MAX_TRAINING = int(os.environ.get("UNROLLED_MAX_TRAINING", "8"))  # concurrent playing sessions
# Memory one session's model may take (weights, optimizer state, one step's activations). Every
# setting is bounded on its own, but together the bounds allow ~7 GB a step: one student's
# maximal settings must not take the server down for the whole room.
MAX_MODEL_MB = float(os.environ.get("UNROLLED_MAX_MODEL_MB", "256"))

# How many workers may train at the same moment, process-wide. Small NumPy ops hold the GIL, so
# with N workers training at once a click's script run gets about 1/(N+1) of it and waits; taking
# turns keeps that near 1/2 whatever N, for about the same total steps/s (it is GIL-bound anyway).
TRAIN_PARALLEL = max(1, int(os.environ.get("UNROLLED_TRAIN_PARALLEL", "1")))
_train_gate = threading.BoundedSemaphore(TRAIN_PARALLEL)
_gate_waiters: set[int] = set()  # idents of workers waiting for their turn (set ops are atomic)
_registry_lock = threading.Lock()
_playing: set[int] = set()  # ids of sessions whose worker is training now
_threads: set[threading.Thread] = set()
_sessions: weakref.WeakSet[TrainingSession] = weakref.WeakSet()


# Streamlit's gc.collect(2) after every script run is off (.streamlit/config.toml: it took half the
# server's time), so the cyclic garbage a dropped session leaves is collected here instead.
GC_EVERY_S = float(os.environ.get("UNROLLED_GC_EVERY_S", "30"))
_collector: threading.Thread | None = None


def _start_collector() -> None:
    global _collector
    with _registry_lock:
        if _collector is None or not _collector.is_alive():
            _collector = threading.Thread(target=_collect_forever, daemon=True, name="unrolled-gc")
            _collector.start()


def _collect_forever() -> None:
    while True:
        time.sleep(GC_EVERY_S)
        gc.collect()


def playing_count() -> int:
    with _registry_lock:
        return len(_playing)


def live_sessions() -> int:
    """TrainingSessions still in memory (a closed tab's is freed once Streamlit drops its session
    state, after server.disconnectedSessionTTL): for tests and the sidebar's server line."""
    with _registry_lock:
        return len(_sessions)


# Threads Streamlit's server keeps in pools and reuses: anyio's workers (prunes idle ones only when
# it next hands out work) and asyncio's default executor (never shrinks). Their number follows the
# busiest moment so far, not the sessions open now, so leak checks leave them out.
POOLED_THREAD_PREFIXES = ("AnyIO worker thread", "ThreadPoolExecutor-")


def server_threads() -> tuple[int, int]:
    """(Python threads in this process, of which pooled): for the sidebar's server line and the
    closed-tab tests (the rest, main, script runs, training and gc, must go back to baseline)."""
    names = [t.name for t in threading.enumerate()]
    return len(names), sum(1 for n in names if n.startswith(POOLED_THREAD_PREFIXES))


def live_threads() -> int:
    """Training threads alive in this process (every session's), for tests and the Limits page."""
    with _registry_lock:
        return sum(1 for t in _threads if t.is_alive())


class ModelTooBigError(ConfigError):
    """Valid settings whose model would not fit MAX_MODEL_MB."""


def model_megabytes(config: TrainConfig, vocab_size: int) -> float:
    """Upper estimate of a trainer's memory: weights with their backups and optimizer state, and
    one step's activations and gradients (measured peaks are 60-80 % of this)."""
    H, K, T, B = config.hidden, vocab_size, config.seq_len, config.batch
    item = 4 if config.dtype == "float32" else 8
    weights = (2 * H * K + H * H + H + K) * 8   # copies: params, grads, backups, optimizer slots
    step = T * B * (5 * K + 4 * H)              # logits, softmax, dy; inputs, h, dh, dhraw
    return (weights + step) * item / 2**20


def check_config(config: object, vocab_size: int) -> TrainConfig:
    """A TrainConfig that validates and fits MAX_MODEL_MB, or ConfigError with the reason. Checks
    again what TrainConfig checked: a frozen dataclass can still be forged (object.__setattr__,
    copy.replace) or replaced by another type altogether."""
    if not isinstance(config, TrainConfig):
        raise ConfigError(f"settings must be a TrainConfig, got {type(config).__name__}")
    try:
        config = TrainConfig(**dataclasses.asdict(config))  # runs every bound check again
    except TypeError as exc:
        raise ConfigError(f"invalid settings: {exc}") from None
    mb = model_megabytes(config, vocab_size)
    if mb > MAX_MODEL_MB:
        raise ModelTooBigError(
            f"hidden {config.hidden}, sequence length {config.seq_len} and {config.batch} streams "
            f"over {vocab_size} characters need about {mb:,.0f} MB, more than the "
            f"{MAX_MODEL_MB:,.0f} MB one session may use on this server. Lower the hidden size, "
            "the sequence length or the batch.")
    return config


@contextlib.contextmanager
def _turn() -> Iterator[None]:
    """A worker's turn at training (TRAIN_PARALLEL at once), noting that it waits for one."""
    me = threading.get_ident()
    _gate_waiters.add(me)
    try:
        _train_gate.acquire()
    finally:
        _gate_waiters.discard(me)
    try:
        yield
    finally:
        _train_gate.release()


class SessionLock:
    """A session's reentrant lock that notes when threads other than its worker use it (pages'
    reads, the controls): `wanted()` tells the worker to rest longer after its slice. The worker
    takes `raw`, which notes nothing."""

    def __init__(self) -> None:
        self.raw = threading.RLock()
        self._waiting: set[int] = set()  # idents of threads about to acquire (atomic set ops)
        self._last_use = -math.inf       # monotonic time of the last acquire or release

    def __enter__(self) -> bool:
        me = threading.get_ident()
        self._waiting.add(me)
        try:
            self.raw.acquire()
        finally:
            self._waiting.discard(me)
        self._last_use = time.monotonic()
        return True

    def __exit__(self, *exc: object) -> None:
        self._last_use = time.monotonic()
        self.raw.release()

    def wanted(self) -> bool:
        """Someone waits for the lock, or read under it within the last BUSY_S (a script run
        that is probably still drawing, and needs the GIL)."""
        return bool(self._waiting) or time.monotonic() - self._last_use < BUSY_S


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
    top_k: int = 0           # 0: all characters
    greedy: bool = False
    every_steps: int = 0     # 0: every SAMPLE_EVERY_S seconds; else about every N steps


class TrainingSession:
    def __init__(self, corpus: Corpus, config: TrainConfig) -> None:
        self.lock = SessionLock()
        self.trainer = Trainer(corpus, config)
        self.message: str | None = None  # why training stopped, for the page to show
        self.sample_settings = SampleSettings()
        self.timeline: deque[TimelineSample] = deque(maxlen=SAMPLE_TIMELINE_CAP)
        self._last_sample_time = 0.0
        self._last_sample_step = 0
        # ||dL/dh(t)|| of stream 0 every GRAD_FLOW_EVERY steps, thinned to stay bounded.
        self.grad_flow = new_grad_flow_log(config.seq_len)
        self._grad_flow_step = -GRAD_FLOW_EVERY
        self._play = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resume_on_reconnect = False  # playing when the websocket closed (see close())
        with _registry_lock:
            _sessions.add(self)
        _start_collector()
        # (monotonic time, step, chars seen) after each slice: the wall-clock training rate.
        self._progress: deque[tuple[float, int, int]] = deque(maxlen=RATE_SAMPLES)

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
        self._progress.clear()  # a rate across a pause would read low
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
            self._record_grad_flow(force=True)

    def reset(self, config: TrainConfig | None = None, corpus: Corpus | None = None) -> None:
        """A new model (same seed -> same weights). Raises CorpusError/ConfigError and keeps
        the current trainer when the new corpus or configuration is unusable."""
        corpus = corpus or self.trainer.corpus
        # Validated again here: a script can hand in anything as the config (see check_config).
        config = check_config(config or self.trainer.config, len(corpus.vocab))
        self.install(Trainer(corpus, config))

    def install(self, trainer: Trainer) -> None:
        """Swap in a ready trainer (a new model, or one restored from a checkpoint). Training is
        paused first and the swap happens under the lock, so no slice straddles two models."""
        self.pause()
        with self.lock:
            self.trainer = trainer
            self.timeline.clear()
            self._progress.clear()
            self._last_sample_time = 0.0
            self._last_sample_step = 0
            self.grad_flow = new_grad_flow_log(trainer.config.seq_len)
            self._grad_flow_step = -GRAD_FLOW_EVERY
            if trainer.corpus.vocab.unknown(self.sample_settings.seed_text):
                self.sample_settings = SampleSettings()  # the seed text is not in the new corpus
            self.message = None

    def apply_live(self, **changes: float | str) -> None:
        """Learning rate, clipping: take effect at the next step (ConfigError if invalid)."""
        with self.lock:
            self.trainer.apply_live(**changes)

    def read(self, fn: Callable[[Trainer], R]) -> R:
        """Run fn(trainer) under the lock: a consistent snapshot of one step."""
        with self.lock:
            return fn(self.trainer)

    def set_sample_settings(self, settings: SampleSettings) -> None:
        """New settings for the periodic sample: the timeline restarts (its samples must all share
        one seed and settings) with a sample from the current weights. ValueError if unusable."""
        with self.lock:
            t = self.trainer
            sample(t.params, t.corpus.vocab, 0, seed_text=settings.seed_text,  # validates only
                   temperature=settings.temperature, top_k=settings.top_k, greedy=settings.greedy)
            self.sample_settings = settings
            self.timeline.clear()
            self._last_sample_time = time.monotonic()
            self._last_sample_step = self.trainer.step_count
            self.take_sample()

    def timeline_items(self) -> list[TimelineSample]:
        """A copy of the timeline, oldest first (taken under the lock: the thread appends to it)."""
        with self.lock:
            return list(self.timeline)

    def throughput(self) -> tuple[float, float] | None:
        """(steps/s, chars/s) of wall-clock time over the last few seconds of playing; None when
        paused or just started. Includes the worker's rests: what the user sees."""
        if not self.playing:
            return None
        now = time.monotonic()
        with self.lock:
            recent = [p for p in self._progress if now - p[0] <= RATE_WINDOW_S]
        if len(recent) < 2 or recent[-1][0] <= recent[0][0]:
            return None
        (t0, s0, c0), (t1, s1, c1) = recent[0], recent[-1]
        return (s1 - s0) / (t1 - t0), (c1 - c0) / (t1 - t0)

    def close(self) -> None:
        """Stop the thread (the tab closed). State stays, so a reconnect can press Play again."""
        self._resume_on_reconnect = self.playing
        self.pause()
        self._stop.set()

    def resume_after_reconnect(self) -> None:
        """The websocket came back after close(): a brief network drop, not a closed tab. Training
        that was running goes on (subject to the server's cap, like any Play)."""
        if self._resume_on_reconnect:
            self._resume_on_reconnect = False
            self.play()

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
                with _turn(), self.lock.raw:  # turn first: a waiting worker holds no session lock
                    if not self._play.is_set() or stop.is_set():
                        continue  # paused while waiting for its turn
                    try:
                        self._guarded(lambda: self.trainer.run_for(SLICE_S))
                        t = self.trainer
                        self._progress.append((time.monotonic(), t.step_count, t.chars_seen))
                        self._maybe_sample()
                        self._record_grad_flow()
                    except Exception:  # a bug: without this the thread dies while "Training" shows
                        log.exception("training slice failed")
                        self.pause()
                        self.message = ("Training stopped because of an internal error (it has been "
                                        "logged). Press Play to try again, or Reset.")
                wanted = _gate_waiters or self.lock.wanted()
                time.sleep(REST_S if wanted else min(MIN_REST_S, REST_S))
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
        every = self.sample_settings.every_steps
        if every:
            due = (self.trainer.step_count - self._last_sample_step >= every
                   and now - self._last_sample_time >= MIN_SAMPLE_GAP_S)
        else:
            due = now - self._last_sample_time >= SAMPLE_EVERY_S
        if due:
            self._last_sample_time = now
            self._last_sample_step = self.trainer.step_count
            self.take_sample()

    def _record_grad_flow(self, force: bool = False) -> None:
        """Call with the lock held, after training steps."""
        step = self.trainer.step_count
        if step > self._grad_flow_step and (force or step - self._grad_flow_step >= GRAD_FLOW_EVERY):
            self._grad_flow_step = step
            record_grad_flow(self.grad_flow, self.trainer)

    def take_sample(self) -> TimelineSample | None:
        """Append a sample from the current weights to the timeline (call with the lock held)."""
        t = self.trainer
        if t.step_count == 0 and self.timeline:
            return None
        s = self.sample_settings
        text = sample(t.params, t.corpus.vocab, s.length, seed_text=s.seed_text,
                      temperature=s.temperature, top_k=s.top_k, greedy=s.greedy,
                      rng=s.rng_seed).text
        smooth = (t.last_record.smooth_bpc if t.last_record
                  else t.initial_loss / t.config.seq_len / math.log(2))
        item = TimelineSample(t.step_count, t.chars_seen, smooth, text)
        self.timeline.append(item)
        return item
