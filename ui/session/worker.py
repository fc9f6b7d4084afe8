"""One browser session's training: a Trainer stepped by a daemon thread.

The thread never calls Streamlit. Everything that touches the trainer, the thread's steps and the
pages' reads alike, holds `lock`, so a page always sees one whole step, never half an update.
The thread trains in slices of SLICE_S and rests between them. The rest is REST_S when someone
else needs the lock, the GIL or a turn at training (a page reading or still drawing what it read,
another session's worker waiting), so that several sessions and the server's script threads all get
their share on a 2-core machine; otherwise only MIN_REST_S. Resting REST_S after every slice cost
17% of the training speed (bench/README.md, "Live app overhead").

The worker trains one thing at a time: the session's model, or its comparison (several runs
interleaved, ui/session/compare.py), whichever was last played. Either costs the one training slot.

After each slice of the model the worker feeds the session's recorders: the throughput, the sample
timeline and the gradient-flow log. The event log records what changed the run (live settings, a
divergence, a rewind, a new model). When training goes back to an earlier step (a divergence, or a
rewind the user asks for) every recorder is cut back to that step, as the trainer's histories are.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from rnn_core.config import ConfigError, TrainConfig
from rnn_core.corpus import Corpus
from rnn_core.trainer import DivergenceError, Trainer
from ui.session import server
from ui.session.compare import Comparison
from ui.session.divergence import divergence_message
from ui.session.events import Event, EventLog
from ui.session.grad_flow import GradFlow, GradFlowLog
from ui.session.limits import check_config
from ui.session.lock import SessionLock
from ui.session.server import SERVER
from ui.session.throughput import Throughput
from ui.session.timeline import SampleSettings, SampleTimeline, TimelineSample

R = TypeVar("R")
log = logging.getLogger(__name__)

SLICE_S = 0.05     # seconds of training per slice, holding the lock
REST_S = 0.01      # then this long asleep when wanted: lock and GIL free for page reads and the server
MIN_REST_S = 0.001  # ... and this long when nobody waits (still lets the server's threads in)


class TrainingSession:
    def __init__(self, corpus: Corpus, config: TrainConfig) -> None:
        self.lock = SessionLock()
        self.trainer = Trainer(corpus, config)
        self.message: str | None = None  # why training stopped, for the page to show
        self.timeline = SampleTimeline()
        self.grad_flow = GradFlowLog(config.seq_len)
        self.events = EventLog()
        self.model_serial = 0  # counts new models (Reset, a new text, a load): what a message is about
        self.comparison: Comparison | None = None  # the Compare page's runs
        self._target = "model"  # what the worker trains while playing: "model" or "comparison"
        self._throughput = Throughput()
        self._play = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resume_on_reconnect = False  # playing when the websocket closed (see close())
        SERVER.add_session(self)

    # --- controls (called from page callbacks) --------------------------------------------

    @property
    def playing(self) -> bool:
        """Whether the worker trains the session's model."""
        return self._play.is_set() and self._target == "model"

    @property
    def comparing(self) -> bool:
        """Whether the worker trains the comparison's runs."""
        return self._play.is_set() and self._target == "comparison"

    @property
    def busy(self) -> bool:
        """Whether the worker trains anything (the live views poll while it does)."""
        return self._play.is_set()

    def play(self) -> bool:
        """Start or resume training the model (a comparison playing pauses); False (with
        `message` set) when the server is busy."""
        if self.playing:
            return True
        if not self._start("model"):
            return False
        self._throughput.clear()  # a rate across a pause would read low
        return True

    def play_comparison(self) -> bool:
        """Train the comparison's runs in turn (the model pauses); False when there is none, it
        is done, or the server is busy (then with `message` set)."""
        if self.comparing:
            return True
        if self.comparison is None or self.comparison.done:
            return False
        return self._start("comparison")

    def _start(self, target: str) -> bool:
        self._play.clear()  # the other target stops before this one starts (the slot is kept)
        if not SERVER.take_slot(id(self)):
            self.message = (f"Server busy: {server.MAX_TRAINING} sessions are training, the most "
                            "this server runs at once. Try again in a minute.")
            return False
        self.message = None
        self._target = target  # read once per slice: a slice of the other target just ends
        self._ensure_thread()
        self._play.set()
        return True

    def pause(self) -> None:
        """Stop training, whatever the worker trains."""
        self._play.clear()
        SERVER.free_slot(id(self))

    def set_comparison(self, comparison: Comparison | None) -> None:
        """Swap in a new comparison (its runs start from scratch); training pauses first."""
        self.pause()
        with self.lock:
            self.comparison = comparison

    def set_comparison_budget(self, budget: int) -> None:
        """Characters each run reads: a lower budget stops the runs past it at their next turn."""
        with self.lock:
            if self.comparison is not None:
                self.comparison.budget = budget

    def step_comparison(self) -> None:
        """One step of every run of the comparison that is not done, then pause."""
        self.pause()
        with self.lock:
            if self.comparison is not None:
                self._comparison_guarded(self.comparison.step_round)

    def read_comparison(self, fn: Callable[[Comparison | None], R]) -> R:
        """Run fn(comparison) under the lock: every run at a whole step."""
        with self.lock:
            return fn(self.comparison)

    def step_once(self) -> None:
        self.pause()
        with self.lock:
            self._guarded(self.trainer.step)
            self.grad_flow.record(self.trainer, force=True)

    def reset(self, config: TrainConfig | None = None, corpus: Corpus | None = None) -> None:
        """A new model (same seed -> same weights). Raises CorpusError/ConfigError and keeps
        the current trainer when the new corpus or configuration is unusable."""
        new_text = corpus is not None and corpus is not self.trainer.corpus
        corpus = corpus or self.trainer.corpus
        # Validated again here: a script can hand in anything as the config (see check_config).
        config = check_config(config or self.trainer.config, len(corpus.vocab))
        self.install(Trainer(corpus, config), *(("corpus", "new text") if new_text else ("reset", "Reset")))
        if new_text and self.comparison is not None and not self.comparison.preset:
            self.set_comparison(None)  # its runs read the old text; the Compare page starts anew

    def install(self, trainer: Trainer, kind: str = "reset", label: str = "Reset") -> None:
        """Swap in a ready trainer (a new model, or one restored from a checkpoint); the event log
        starts again with (kind, label) at its step. Training is paused first and the swap happens
        under the lock, so no slice straddles two models."""
        self.pause()
        with self.lock:
            self.trainer = trainer
            self.timeline.new_model(trainer.corpus.vocab)
            self.grad_flow = GradFlowLog(trainer.config.seq_len)
            self.events.new_model(trainer.step_count, kind, label)
            self.model_serial += 1
            self._throughput.clear()
            self.message = None

    def apply_live(self, **changes: float | str) -> None:
        """Learning rate, clipping: take effect at the next step (ConfigError if invalid). A change
        is marked in the event log."""
        with self.lock:
            before = self.trainer.config
            self.trainer.apply_live(**changes)
            label = setting_change(before, self.trainer.config)
            if label:
                self.events.add(self.trainer.step_count, "setting", label)

    def rewind(self, step: int, best: bool = False) -> bool:
        """Go back to the snapshot kept at `step` (one of trainer.snapshots, or with `best` the
        best validation's, trainer.best): weights, optimizer, position and histories as they were
        then, and every recorder cut back to it. Training is paused first. False, with nothing
        changed, when no such snapshot is kept or it is not behind the current step."""
        self.pause()
        with self.lock:
            trainer = self.trainer
            kept = [trainer.best] if best else trainer.snapshots.items()
            snap = next((s for s in kept if s is not None and s.step == step), None)
            if snap is None or snap.step > trainer.step_count:
                return False
            came_from = trainer.step_count
            trainer.restore(snap)
            self._went_back(snap.step)
            self.events.add(snap.step, "rewind", "best weights" if best else f"rewound from {came_from:,}")
            self.message = None
            return True

    def read(self, fn: Callable[[Trainer], R]) -> R:
        """Run fn(trainer) under the lock: a consistent snapshot of one step."""
        with self.lock:
            return fn(self.trainer)

    # --- the recorders, read under the lock ----------------------------------------------------

    @property
    def sample_settings(self) -> SampleSettings:
        return self.timeline.settings

    def set_sample_settings(self, settings: SampleSettings) -> None:
        """New settings for the periodic sample: the timeline restarts (its samples must all share
        one seed and settings) with a sample from the current weights. ValueError if unusable."""
        with self.lock:
            self.timeline.restart(self.trainer, settings)

    def timeline_items(self) -> list[TimelineSample]:
        """A copy of the timeline, oldest first."""
        with self.lock:
            return self.timeline.items()

    def event_items(self) -> list[Event]:
        """A copy of the event log, oldest first."""
        with self.lock:
            return self.events.items()

    def grad_flow_history(self) -> GradFlow:
        """A copy of the gradient-flow log."""
        with self.lock:
            return self.grad_flow.flow()

    def throughput(self) -> tuple[float, float] | None:
        """(steps/s, chars/s) of wall-clock time over the last few seconds of playing; None when
        paused or just started. Includes the worker's rests: what the user sees."""
        if not self.playing:
            return None
        with self.lock:
            return self._throughput.rate()

    # --- the tab ------------------------------------------------------------------------------

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
        SERVER.add_thread(self._thread)
        self._thread.start()

    def _loop(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                if not self._play.wait(timeout=0.2):
                    continue
                with SERVER.turn(), self.lock.raw:  # turn first: a waiting worker holds no session lock
                    if not self._play.is_set() or stop.is_set():
                        continue  # paused while waiting for its turn
                    try:
                        if self._target == "comparison":
                            self._comparison_slice()
                        else:
                            self._guarded(lambda: self.trainer.run_for(SLICE_S))
                            self._record_slice()
                    except Exception:  # a bug: without this the thread dies while "Training" shows
                        log.exception("training slice failed")
                        self.pause()
                        self.message = ("Training stopped because of an internal error (it has been "
                                        "logged). Press Play to try again, or Reset.")
                wanted = SERVER.turn_wanted() or self.lock.wanted()
                time.sleep(REST_S if wanted else min(MIN_REST_S, REST_S))
        finally:
            SERVER.free_slot(id(self))
            SERVER.discard_thread(threading.current_thread())

    def _guarded(self, fn: Callable[[], object]) -> None:
        """Run a training call; a divergence or any failure pauses with a message, never a crash."""
        try:
            fn()
        except DivergenceError as exc:
            self.pause()
            lrs = self.trainer.history.column("lr")  # cut back: the rate of the step gone back to
            self.message = divergence_message(exc, self.trainer.config,
                                              float(lrs[-1]) if len(lrs) else None)
            self._went_back(exc.back_to)
            self.events.add(exc.back_to, "divergence", f"diverged at {exc.step:,}")
        except (ConfigError, ValueError, FloatingPointError, MemoryError) as exc:
            self.pause()
            self.message = f"Training stopped: {exc}"

    def _comparison_slice(self) -> None:
        """A slice of the comparison's runs, in turn (the lock is held); pauses once all are done."""
        comparison = self.comparison
        if comparison is None or comparison.done:
            self.pause()
            return
        self._comparison_guarded(lambda: comparison.run_for(SLICE_S))
        if comparison.done:
            self.pause()

    def _comparison_guarded(self, fn: Callable[[], object]) -> None:
        """A run's divergence stops that run (Comparison.step); anything else the engine refuses
        pauses with a message, never a crash."""
        try:
            fn()
        except (ConfigError, ValueError, FloatingPointError, MemoryError) as exc:
            self.pause()
            self.message = f"The comparison stopped: {exc}"

    def _went_back(self, step: int) -> None:
        """The trainer went back to `step` (the lock is held): cut the recorders back to it, and
        show a sample of the weights gone back to."""
        self.events.cut_back(step)
        self.grad_flow.cut_back(step)
        self.timeline.cut_back(step)
        newest = self.timeline.items()[-1:]
        if not newest or newest[0].step != step:
            self.timeline.take(self.trainer)

    def _record_slice(self) -> None:
        """Feed the recorders after a slice (the lock is held)."""
        self._throughput.note(self.trainer)
        self.timeline.maybe_take(self.trainer)
        self.grad_flow.record(self.trainer)


def setting_change(before: TrainConfig, after: TrainConfig) -> str | None:
    """A live change of settings in a few words for a chart ('lr 0.002 → 0.05'), None if none."""
    parts = []
    if after.lr != before.lr:
        parts.append(f"lr {before.lr:g} → {after.lr:g}")
    if after.clip_mode != before.clip_mode:
        parts.append(f"clipping {before.clip_mode} → {after.clip_mode}")
    if after.clip != before.clip:
        parts.append(f"clip {before.clip:g} → {after.clip:g}")
    if after.val_every != before.val_every:
        parts.append(f"validation every {after.val_every}")
    return ", ".join(parts) or None
