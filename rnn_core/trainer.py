"""The step-wise trainer the UI and the CLI drive: `step()`, `run(n)`, `reset()`.

Pull-based: no threads, callbacks, sleeps or prints. A caller that steps it from another thread
holds its own lock around `step()` and around reads (see ui/worker.py).

Batched streams. The training text is cut into B equal segments; stream i reads segment i from
its start, T characters per step, carrying its own hidden state, and all streams wrap together
(hidden state reset to zero) when the next chunk would run past the segment's end, exactly as
min-char-rnn wraps at the end of its data. The step's loss is the mean over streams of each
stream's chunk loss (a sum over T), and the gradient is that mean's gradient, so the loss reads the
same for any B and B = 1 (float64) is min-char-rnn operation for operation.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import time
from dataclasses import dataclass

import numpy as np

from rnn_core.config import LIVE_SETTINGS, ConfigError, TrainConfig
from rnn_core.corpus import Corpus, CorpusError
from rnn_core.history import History
from rnn_core.model import (
    PARAM_NAMES,
    FlatParams,
    Forward,
    Params,
    copy_into,
    forward,
    gradients,
    init_params,
    param_shapes,
)
from rnn_core.optim import ClipStats, Optimizer, clip_gradients, make_optimizer
from rnn_core.trace import ChunkTrace, chunk_trace

LN2 = math.log(2.0)
HISTORY_CAP = 1000  # rows kept per history: at most 2 * HISTORY_CAP (see History)
VAL_MAX_CHARS = 10_000  # validation reads at most this much of the held-out tail
VAL_STREAMS = 10  # long pieces: less of the text is read from the zero state
EXPLOSION_FACTOR = 5.0     # see Trainer.explosion_loss
EXPLOSION_MIN_NATS = 20.0  # per character: a mean probability of the target of e^-20

STEP_COLUMNS = (
    "step", "chars_seen", "loss", "smooth_loss", "bpc", "smooth_bpc", "lr", "time", "step_time",
    "global_pre", "global_post", "clipped_fraction",
    *(f"pre_{k}" for k in PARAM_NAMES), *(f"post_{k}" for k in PARAM_NAMES),
)
VAL_COLUMNS = ("step", "chars_seen", "time", "val_bpc")
_by_name = operator.itemgetter(*PARAM_NAMES)  # a dict's values in PARAM_NAMES order


def _finite(arrays: Params) -> bool:
    # One check over all arrays when they are stored as one vector.
    buf = arrays.flat() if isinstance(arrays, FlatParams) else None
    if buf is not None:
        # Any NaN or inf makes the sum of squares non-finite; only when it is (or overflowed) is
        # every entry looked at.
        return math.isfinite(buf.dot(buf)) or bool(np.isfinite(buf).all())
    return all(np.isfinite(a).all() for a in arrays.values())


def _copy(arrays: Params) -> Params:
    return FlatParams(arrays) if isinstance(arrays, FlatParams) else {k: a.copy() for k, a in arrays.items()}


class DivergenceError(ArithmeticError):
    """A step produced NaN or inf, or a loss far worse than guessing; the trainer has rolled back
    to the last state from which a step went normally."""


@dataclass(frozen=True)
class StepRecord:
    step: int            # number of updates done, including this one
    chars_seen: int      # training characters read so far (B * T per step)
    loss: float          # chunk loss in nats: sum over T, mean over streams
    smooth_loss: float   # min-char-rnn's 0.999 / 0.001 moving average
    lr: float
    time: float          # training seconds so far (validation not included)
    step_time: float     # seconds this step took
    clip: ClipStats
    seq_len: int
    val_bpc: float | None = None  # validation bits per character, when evaluated at this step

    @property
    def bpc(self) -> float:
        """Bits per character of this chunk."""
        return self.loss / self.seq_len / LN2

    @property
    def smooth_bpc(self) -> float:
        return self.smooth_loss / self.seq_len / LN2

    def values(self) -> list[float]:
        """The STEP_COLUMNS in order (a history row)."""
        c = self.clip
        return [self.step, self.chars_seen, self.loss, self.smooth_loss, self.bpc, self.smooth_bpc,
                self.lr, self.time, self.step_time, c.global_pre, c.global_post, c.clipped_fraction,
                *_by_name(c.norm_pre), *_by_name(c.norm_post)]

    def as_row(self) -> dict[str, float]:
        """Flat dict with the STEP_COLUMNS (plus val_bpc when evaluated): one JSON log line."""
        row = dict(zip(STEP_COLUMNS, self.values(), strict=True))
        if self.val_bpc is not None:
            row["val_bpc"] = self.val_bpc
        return row


@dataclass(frozen=True)
class _Undo:
    """Everything a committed step changed besides the weights and the optimizer state (whose
    values before the step are kept in Trainer._before and the optimizer's previous_state)."""

    p: int
    h: np.ndarray
    step_count: int
    chars_seen: int
    smooth_loss: float
    train_time: float
    t: int
    last_record: StepRecord | None
    last_fw: Forward | None
    last_dh: np.ndarray | None
    validated: bool = False


class Trainer:
    """Trains a char-RNN on a corpus; see the module docstring for the batching."""

    def __init__(self, corpus: Corpus, config: TrainConfig | None = None) -> None:
        self.corpus = corpus
        self.config = config or TrainConfig()
        self.dtype = np.dtype(self.config.dtype)
        T = self.config.seq_len
        data = corpus.data
        n_val = int(len(data) * self.config.val_fraction)
        if n_val < 2 or len(data) - n_val < T + 1:
            n_val = 0
        self.train_data = data[: len(data) - n_val]
        self.val_data = data[len(data) - n_val :]
        if len(self.train_data) < T + 1:
            raise CorpusError(
                f"The text is too short: {len(self.train_data)} characters, but training on chunks "
                f"of {T} needs at least {T + 1}. Use a longer text or a shorter sequence length."
            )
        # Streams that fit: each segment must hold one chunk plus its last target.
        self.streams = min(self.config.batch, len(self.train_data) // (T + 1))
        self.segment_len = len(self.train_data) // self.streams
        self.segments = self.train_data[: self.streams * self.segment_len].reshape(
            self.streams, self.segment_len)  # (B, L)
        self.reset()

    # --- state -----------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.corpus.vocab)

    @property
    def initial_loss(self) -> float:
        """Loss of a uniform guess over the chunk: -ln(1/K) * T (min-char-rnn's smooth_loss start)."""
        return -math.log(1.0 / self.vocab_size) * self.config.seq_len

    @property
    def explosion_loss(self) -> float:
        """A chunk loss above this counts as a divergence: EXPLOSION_FACTOR times worse than a
        uniform guess (at least EXPLOSION_MIN_NATS per character). Training that got there has
        blown up, even while every number is still finite (the loss is computed from the logits,
        so it stays finite where a probability underflows)."""
        per_char = max(EXPLOSION_FACTOR * math.log(self.vocab_size), EXPLOSION_MIN_NATS)
        return per_char * self.config.seq_len

    def reset(self) -> None:
        """New weights from the configured seed: the same seed gives the same run."""
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        self.params: Params = init_params(cfg.hidden, self.vocab_size, rng, cfg.init, self.dtype)
        self.optimizer: Optimizer = make_optimizer(cfg.optimizer, self.params)
        self.step_count = 0
        self.chars_seen = 0
        self.train_time = 0.0
        self.p = 0                                                  # position in each segment
        self.h = np.zeros((self.streams, cfg.hidden), self.dtype)  # (B, H) carried state
        self.smooth_loss = self.initial_loss
        self.history = History(STEP_COLUMNS, HISTORY_CAP)
        self.val_history = History(VAL_COLUMNS, HISTORY_CAP)
        self.last_record: StepRecord | None = None
        self.error: str | None = None
        self._last_fw: Forward | None = None
        self._last_dh: np.ndarray | None = None  # (T, B, H) dL/dh(t); its norms only when viewed
        # Weights before the last update; its buffer takes the next update's result (the two swap
        # every step, as do the optimizer's state and previous_state: nothing is copied).
        self._before = _copy(self.params)
        self._grads = FlatParams.empty(param_shapes(cfg.hidden, self.vocab_size), self.dtype)
        self._undo: _Undo | None = None  # how to take back the last step (None: not possible)

    def apply_live(self, **changes: float | str) -> None:
        """Change settings that need no new model (lr, clip, clip_mode, val_every) between steps."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:
            raise ConfigError(f"unknown setting {', '.join(sorted(unknown))}")
        needs_reset = set(changes) - set(LIVE_SETTINGS)
        if needs_reset:
            raise ConfigError(f"{', '.join(sorted(needs_reset))} only change with a new model (Reset)")
        self.config = self.config.replace(**changes)  # validated by TrainConfig

    def set_lr(self, lr: float) -> None:
        self.apply_live(lr=lr)

    # --- training --------------------------------------------------------------------------

    def _chunk(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        T = self.config.seq_len
        inputs = np.ascontiguousarray(self.segments[:, p : p + T].T)          # (T, B)
        targets = np.ascontiguousarray(self.segments[:, p + 1 : p + T + 1].T)  # (T, B)
        return inputs, targets

    def step(self) -> StepRecord:
        """One update on the next chunk of every stream.

        Raises DivergenceError when the loss, a gradient, a weight or the optimizer state stops
        being finite, after rolling back to the last state from which a finite step was taken:
        non-finite weights or optimizer state after an update undo that update; a non-finite loss
        or gradient means the previous update produced unusable weights, so that step is undone
        (weights, optimizer state, pointer, hidden state, counters and its history row). Either
        way, training continues from there, e.g. after lowering the learning rate.
        """
        with np.errstate(all="ignore"):  # non-finite values are detected, not warned about
            return self._step()

    def _step(self) -> StepRecord:
        cfg = self.config
        T = cfg.seq_len
        t0 = time.perf_counter()
        p, h = self.p, self.h
        if self.step_count == 0 or p + T + 1 >= self.segment_len:
            p, h = 0, np.zeros_like(self.h)  # wrap: back to the start, memory wiped
        inputs, targets = self._chunk(p)
        fw = forward(self.params, inputs, targets, h)
        grads, dh = gradients(self.params, fw, self._grads)
        clipped, stats = clip_gradients(grads, cfg.clip_mode, cfg.clip)
        loss = fw.loss
        if not (loss <= self.explosion_loss and math.isfinite(stats.global_pre)):  # NaN too
            failed_at = self.step_count + 1
            if not math.isfinite(loss) or not math.isfinite(stats.global_pre):
                what = "loss" if not math.isfinite(loss) else "gradients"
                what = f"the {what} became NaN or infinite at step {failed_at}"
            else:
                what = (f"the loss exploded at step {failed_at}, to {loss / T / LN2:,.1f} bits per "
                        f"character (guessing uniformly gives {self.initial_loss / T / LN2:.1f})")
            undone = self._undo_last_step()
            self._diverged(what, "the update before it was undone" if undone else None)
        undo = _Undo(self.p, self.h.copy(), self.step_count, self.chars_seen, self.smooth_loss,
                     self.train_time, self.optimizer.t, self.last_record, self._last_fw,
                     self._last_dh)
        self._undo = None  # _before now takes this step's starting point, no longer the last one's
        self.optimizer.step_into(self.params, clipped, cfg.lr, self._before)
        self.params, self._before = self._before, self.params
        if not (_finite(self.params) and all(_finite(d) for d in self.optimizer.state.values())):
            what = "weights" if not _finite(self.params) else "optimizer state"
            self._rollback(undo.t)
            if _finite(self.params):
                self._diverged(f"the {what} became NaN or infinite at step {self.step_count + 1}",
                               "that update was undone")
            # Only weights changed from outside the trainer are non-finite before an update.
            self._diverged(f"the weights were NaN or infinite before step {self.step_count + 1}", None)
        # Commit: the step succeeded.
        self.error = None
        self.p, self.h = p + T, fw.hs[-1].copy()
        self.step_count += 1
        self.chars_seen += self.streams * T
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        self._last_fw, self._last_dh = fw, dh
        step_time = time.perf_counter() - t0
        self.train_time += step_time
        val = None
        if cfg.val_every and self.step_count % cfg.val_every == 0 and len(self.val_data):
            val = self.validation_bpc()
        record = StepRecord(self.step_count, self.chars_seen, loss, self.smooth_loss, cfg.lr,
                            self.train_time, step_time, stats, T, val)
        self.history.append_values(record.values())
        self.last_record = record
        self._undo = undo if val is None else dataclasses.replace(undo, validated=True)
        return record

    def _rollback(self, t_before: int) -> None:
        """Weights and optimizer state back to their values before the last update."""
        self.params, self._before = self._before, self.params
        copy_into(self._before, self.params)  # both hold the restored weights (a rare path)
        self.optimizer.undo_step_into()
        self.optimizer.t = t_before

    def _undo_last_step(self) -> bool:
        """Take back the last committed step entirely; False when there is none to take back."""
        u = self._undo
        if u is None:
            return False
        self._rollback(u.t)
        self.p, self.h, self.step_count, self.chars_seen = u.p, u.h, u.step_count, u.chars_seen
        self.smooth_loss, self.train_time, self.last_record = u.smooth_loss, u.train_time, u.last_record
        self._last_fw, self._last_dh = u.last_fw, u.last_dh
        self.history.undo_last()
        if u.validated:
            self.val_history.undo_last()
        self._undo = None
        return True

    def _diverged(self, what: str, undone: str | None) -> None:
        if undone:
            where = (f"{undone.capitalize()}: the weights are back at step {self.step_count}, "
                     "before it went wrong. Lower the learning rate (now "
                     f"{self.config.lr:g}) or turn gradient clipping on, then continue.")
        else:
            where = (f"There is no earlier finite state to go back to, so nothing was changed "
                     f"(step {self.step_count}). Reset the model, with a lower learning rate (now "
                     f"{self.config.lr:g}) or gradient clipping on.")
        self.error = f"Training stopped: {what}. {where}"
        raise DivergenceError(self.error)

    def run(self, n: int) -> list[StepRecord]:
        """n steps; a DivergenceError propagates after the rollback described in `step`."""
        return [self.step() for _ in range(n)]

    def run_for(self, seconds: float, max_steps: int = 1_000_000) -> list[StepRecord]:
        """Steps until `seconds` of wall time have passed (at least one step)."""
        end = time.perf_counter() + seconds
        records = [self.step()]
        while len(records) < max_steps and time.perf_counter() < end:
            records.append(self.step())
        return records

    # --- evaluation and inspection ---------------------------------------------------------

    def validation_bpc(self, max_chars: int = VAL_MAX_CHARS) -> float | None:
        """Bits per character on the held-out tail, each of up to VAL_STREAMS pieces read from a
        zero state. Recorded in `val_history`. None when there is no held-out text."""
        data = self.val_data[: max_chars + 1]
        if len(data) < 2:
            return None
        S = min(VAL_STREAMS, len(data) - 1)
        L = (len(data) - 1) // S
        inputs = np.ascontiguousarray(data[: S * L].reshape(S, L).T)            # (L, S)
        targets = np.ascontiguousarray(data[1 : S * L + 1].reshape(S, L).T)     # (L, S)
        h0 = np.zeros((S, self.config.hidden), self.dtype)
        with np.errstate(all="ignore"):  # diverging weights give an infinite bpc, not a warning
            fw = forward(self.params, inputs, targets, h0)
        bpc = float(fw.losses.mean()) / LN2
        self.val_history.append({"step": self.step_count, "chars_seen": self.chars_seen,
                                 "time": self.train_time, "val_bpc": bpc})
        return bpc

    def chunk_trace(self, stream: int = 0) -> ChunkTrace | None:
        """The last training chunk of one stream (None before the first step)."""
        fw, dh = self._last_fw, self._last_dh
        if fw is None or dh is None:
            return None
        if not 0 <= stream < self.streams:
            raise ValueError(f"stream must be in [0, {self.streams}), got {stream}")
        return chunk_trace(fw, dh, self.corpus.vocab, stream, self.step_count)

    def last_update(self) -> Params:
        """The change each weight took in the last step (weights after minus before)."""
        return {k: self.params[k] - self._before[k] for k in PARAM_NAMES}

    def effective_lr(self) -> Params | None:
        """Per-weight step size of adaptive optimizers (Adagrad: lr / sqrt(mem + 1e-8))."""
        out = {k: self.optimizer.effective_lr(k, self.config.lr) for k in PARAM_NAMES}
        return None if any(v is None for v in out.values()) else out  # type: ignore[misc]

    def snapshot_params(self) -> Params:
        return {k: a.copy() for k, a in self.params.items()}

