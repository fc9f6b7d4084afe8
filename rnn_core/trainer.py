"""The step-wise trainer the UI and the CLI drive: `step()`, `run(n)`, `reset()`.

Pull-based: no threads, callbacks, sleeps or prints. A caller that steps it from another thread
holds its own lock around `step()` and around reads (see ui/session/worker.py).

Batched streams. The training text is cut into B equal segments; stream i reads segment i from
its start, T characters per step, carrying its own hidden state, and all streams wrap together
(hidden state reset to zero) when the next chunk would run past the segment's end, exactly as
min-char-rnn wraps at the end of its data. The step's loss is the mean over streams of each
stream's chunk loss (a sum over T), and the gradient is that mean's gradient, so the loss reads the
same for any B and B = 1 (float64) is min-char-rnn operation for operation.

Cells. The configured cell (config.cell: the article's RNN, an LSTM or a GRU; rnn_core/cells.py)
does the forward and backward passes; everything else here is the same for every cell. Each
stream's carried state is the cell's (B, C) carry: h, and for the LSTM its cell state s beside it.

Divergence. A step whose loss or gradients are NaN or infinite, whose gradients are so large that
their squares could overflow, or whose loss is far worse than a uniform guess, is not taken: the
trainer goes back to the newest kept snapshot (SnapshotRing) whose loss was healthy and raises
DivergenceError, whose fields say what happened and where training now stands. The app and the
CLI word it; training continues from there, e.g. after lowering the learning rate. With finite,
bounded gradients every optimizer's update is finite (Adagrad, RMSProp and Adam move a weight by
at most a few times lr), so the update is made in place; the weights are checked again whenever a
snapshot is taken (an infinite weight can hide in a saturated tanh or gate).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rnn_core import cells
from rnn_core.config import LIVE_SETTINGS, ConfigError, TrainConfig
from rnn_core.corpus import Corpus, CorpusError
from rnn_core.history import History
from rnn_core.layout import FlatParams, all_finite, copy_into, copy_params
from rnn_core.model import PARAM_NAMES, Forward, Params
from rnn_core.optim import ClipStats, Optimizer, clip_gradients, make_optimizer
from rnn_core.snapshots import Snapshot, SnapshotRing, TrainerState
from rnn_core.trace import ChunkTrace, chunk_trace
from rnn_core.units import bits_per_char, uniform_loss

HISTORY_CAP = 1000  # rows kept per history: at most 2 * HISTORY_CAP (see History)
VAL_MAX_CHARS = 10_000  # validation reads at most this much of the held-out tail
VAL_STREAMS = 10  # long pieces: less of the text is read from the zero state
VAL_TIME_SHARE = 0.05  # a due validation waits while validation has taken more of the training time
EXPLOSION_FACTOR = 5.0     # see Trainer.explosion_loss
EXPLOSION_MIN_NATS = 20.0  # per character: a mean probability of the target of e^-20
SNAPSHOT_EVERY = 100  # steps between the snapshots a divergence can go back to
SNAPSHOTS = 5         # kept in the ring (SnapshotRing), plus the best validation's


@functools.cache
def step_columns(param_names: Sequence[str]) -> tuple[str, ...]:
    """The columns of a history row: counters, losses and clipping, then each weight's gradient
    norm before clipping (pre_U, ...) and after it (post_U, ...), in the order of `param_names`."""
    return ("step", "chars_seen", "loss", "smooth_loss", "bpc", "smooth_bpc", "lr", "time", "step_time",
            "global_pre", "global_post", "clipped_fraction",
            *(f"pre_{k}" for k in param_names), *(f"post_{k}" for k in param_names))


STEP_COLUMNS = step_columns(PARAM_NAMES)  # the RNN's: pre_U ... post_c
VAL_COLUMNS = ("step", "chars_seen", "time", "val_bpc")
DIVERGENCE_KINDS = ("loss_not_finite", "gradients_not_finite", "loss_exploded", "update_not_finite")


class DivergenceError(ArithmeticError):
    """Training diverged at `step`; the trainer went back to step `back_to` (`undone` steps taken
    back, 0 when there was nothing to go back to). Facts only: the app and the CLI word them."""

    def __init__(self, kind: str, step: int, loss: float, uniform_loss: float, back_to: int,
                 undone: int, snapshot_loss: float) -> None:
        self.kind = kind                    # one of DIVERGENCE_KINDS
        self.step = step                    # the step that would have been taken
        self.loss = loss                    # its chunk loss, nats (may be NaN or inf)
        self.uniform_loss = uniform_loss    # a uniform guess's chunk loss, for comparison
        self.back_to = back_to              # the step the trainer is at now
        self.undone = undone                # steps taken back
        self.snapshot_loss = snapshot_loss  # mean chunk loss before the snapshot gone back to
        super().__init__(f"{kind} at step {step} (loss {loss:g} nats, uniform guess "
                         f"{uniform_loss:g}); back to step {back_to}, {undone} steps undone")


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
        return bits_per_char(self.loss, self.seq_len)

    @property
    def smooth_bpc(self) -> float:
        return bits_per_char(self.smooth_loss, self.seq_len)

    @property
    def columns(self) -> tuple[str, ...]:
        """The history's columns for this record's weights: step_columns(their names)."""
        return step_columns(tuple(self.clip.norm_pre))

    def values(self) -> list[float]:
        """The values of `columns` in order (a history row)."""
        c = self.clip
        return [self.step, self.chars_seen, self.loss, self.smooth_loss, self.bpc, self.smooth_bpc,
                self.lr, self.time, self.step_time, c.global_pre, c.global_post, c.clipped_fraction,
                *c.norm_pre.values(), *c.norm_post.values()]

    def as_row(self) -> dict[str, float]:
        """Flat dict with the `columns` (plus val_bpc when evaluated): one JSON log line."""
        row = dict(zip(self.columns, self.values(), strict=True))
        if self.val_bpc is not None:
            row["val_bpc"] = self.val_bpc
        return row


@dataclass(frozen=True)
class StepPreview:
    """Everything the next step computes, phase by phase, without taking it (`Trainer.peek`):
    what a step-through view shows. `step()` right after takes exactly this update."""

    step: int               # the step it would be
    p: int                  # position of the chunk in every stream's segment
    inputs: np.ndarray      # (T, B) int
    targets: np.ndarray     # (T, B) int
    h0: np.ndarray          # (B, C) the carried state it starts from (the cell's carry)
    forward: Forward        # hs, ps (softmax), losses
    loss: float             # chunk loss, nats (mean over streams)
    grads: Params           # before clipping
    dh: np.ndarray          # (T, B, H) dL/dh(t), each stream's own
    clipped: Params         # after clipping
    clip: ClipStats
    lr: float
    params: Params          # the weights before the update
    params_after: Params    # ... and after it (what step() will make them)
    diverges: bool          # step() would raise DivergenceError instead of updating


class Trainer:
    """Trains a character-level RNN, LSTM or GRU on a corpus; see the module docstring for the
    batching, the cells and divergence."""

    def __init__(self, corpus: Corpus, config: TrainConfig | None = None,
                 val_share: float | None = VAL_TIME_SHARE, snapshot_every: int = SNAPSHOT_EVERY) -> None:
        """val_share: validation runs every config.val_every steps while it has taken at most this
        share of the training time (None: always). snapshot_every: steps between snapshots."""
        self.corpus = corpus
        self.config = config or TrainConfig()
        self.cell = cells.get(self.config.cell)  # forward, gradients, its weights' names
        self.dtype = np.dtype(self.config.dtype)
        self.val_share = val_share
        self.snapshot_every = snapshot_every
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

    # --- facts -----------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return len(self.corpus.vocab)

    @property
    def initial_loss(self) -> float:
        """Loss of a uniform guess over the chunk: -ln(1/K) * T (min-char-rnn's smooth_loss start)."""
        return uniform_loss(self.vocab_size, self.config.seq_len)

    @property
    def explosion_loss(self) -> float:
        """A chunk loss above this counts as a divergence: EXPLOSION_FACTOR times worse than a
        uniform guess (at least EXPLOSION_MIN_NATS per character). Training that got there has
        blown up, even while every number is still finite (the loss is computed from the logits,
        so it stays finite where a probability underflows)."""
        per_char = max(EXPLOSION_FACTOR * math.log(self.vocab_size), EXPLOSION_MIN_NATS)
        return per_char * self.config.seq_len

    @property
    def params(self) -> Params:
        """The weights, keyed `param_names` (read them; change them only through load_state)."""
        return self._params

    @property
    def gradient_limit(self) -> float:
        """A larger global gradient norm counts as a divergence: its squares would come within
        1e-8 of overflowing the dtype (Adagrad's and Adam's state add them up)."""
        return math.sqrt(float(np.finfo(self.dtype).max)) * 1e-4

    @property
    def param_names(self) -> tuple[str, ...]:
        """The cell's weights: U, W, V, b, c for the RNN; per gate for the LSTM and GRU."""
        return self.cell.PARAM_NAMES

    @property
    def carry_size(self) -> int:
        """C: numbers per stream in the carried state `h` (B, C): H, or 2H for the LSTM."""
        return self.cell.carry_size(self.config.hidden)

    # --- state -----------------------------------------------------------------------------

    def reset(self) -> None:
        """New weights from the configured seed: the same seed gives the same run."""
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        self._params = self.cell.init_params(cfg.hidden, self.vocab_size, rng, cfg.init, self.dtype)
        self.optimizer: Optimizer = make_optimizer(cfg.optimizer, self._params)
        shapes = self.cell.param_shapes(cfg.hidden, self.vocab_size)
        self._grads = FlatParams.empty(shapes, self.dtype)
        self._delta = FlatParams.zeros(shapes, self.dtype)  # the last update's change to each weight
        self.step_count = 0
        self.chars_seen = 0
        self.train_time = 0.0
        self.val_time = 0.0   # seconds spent in validation
        self.p = 0                                                  # position in each segment
        self.h = np.zeros((self.streams, self.carry_size), self.dtype)  # (B, C) carried state
        self.smooth_loss = self.initial_loss
        self.steps_above_uniform = 0  # consecutive steps whose loss was worse than a uniform guess
        self.history = History(step_columns(self.param_names), HISTORY_CAP)
        self.val_history = History(VAL_COLUMNS, HISTORY_CAP)
        self.last_record: StepRecord | None = None
        self._last_fw: Forward | None = None
        self._last_dh: np.ndarray | None = None  # (T, B, H) dL/dh(t); its norms only when viewed
        self.snapshots = SnapshotRing(SNAPSHOTS)
        self.best: Snapshot | None = None  # the state with the lowest validation loss so far
        self.best_val_bpc = math.inf
        self._loss_since_snapshot = [0.0, 0]  # sum and count of chunk losses since the last one
        self._went_back_to: tuple[int, TrainConfig] | None = None  # by the last divergence
        self._keep_snapshot("start")

    def state(self, with_update: bool = True) -> TrainerState:
        """A copy of everything needed to continue training exactly, and the last update (not
        needed to continue: left out, as None, without `with_update`)."""
        return TrainerState(
            params=copy_params(self.params),
            last_update=copy_params(self._delta) if with_update else None,
            optimizer=self.optimizer.state_dict(), p=self.p, h=self.h.copy(), step=self.step_count,
            chars_seen=self.chars_seen, smooth_loss=self.smooth_loss, train_time=self.train_time)

    def load_state(self, state: TrainerState) -> None:
        """Continue from `state` (its arrays are copied in), which becomes the starting point that
        snapshots and the best validation loss count from. ValueError, with nothing changed, when
        it does not fit this trainer (shapes, optimizer, streams) or holds NaN or inf."""
        self._set_state(state)
        self.snapshots = SnapshotRing(SNAPSHOTS)
        self.best, self.best_val_bpc = None, math.inf
        self._keep_snapshot("start")

    def _set_state(self, state: TrainerState) -> None:
        shapes = self.cell.param_shapes(self.config.hidden, self.vocab_size)
        checked = [("weights", state.params)]
        if state.last_update is not None:
            checked.append(("last update", state.last_update))
        for what, arrays in checked:
            if {k: arrays[k].shape for k in arrays} != shapes:
                raise ValueError(f"the {what} do not fit hidden {self.config.hidden} and "
                                 f"{self.vocab_size} characters")
            if not all_finite(arrays):
                raise ValueError(f"the {what} hold NaN or infinite values")
        if state.h.shape != self.h.shape:
            raise ValueError(f"the carried state has shape {state.h.shape}, not {self.h.shape}")
        if not 0 <= state.p <= self.segment_len:
            raise ValueError(f"position {state.p} is outside the segments of {self.segment_len}")
        self.optimizer.load_state(state.optimizer)  # checks the optimizer's own fit first
        copy_into(self._params, state.params)
        if state.last_update is None:
            self._delta.flat()[...] = 0
        else:
            copy_into(self._delta, state.last_update)
        self.p, self.h = state.p, state.h.astype(self.dtype, copy=True)
        self.step_count, self.chars_seen = state.step, state.chars_seen
        self.smooth_loss, self.train_time = state.smooth_loss, state.train_time
        self.steps_above_uniform = 0
        self._last_fw = self._last_dh = None
        self._loss_since_snapshot = [0.0, 0]

    def apply_live(self, **changes: float | str) -> None:
        """Change settings that need no new model (lr, clip, clip_mode, val_every) between steps.
        The state before the change is kept as a snapshot, to go back to if it goes wrong."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:
            raise ConfigError(f"unknown setting {', '.join(sorted(unknown))}")
        needs_reset = set(changes) - set(LIVE_SETTINGS)
        if needs_reset:
            raise ConfigError(f"{', '.join(sorted(needs_reset))} only change with a new model (Reset)")
        config = self.config.replace(**changes)  # validated by TrainConfig
        if config != self.config:
            newest = self.snapshots.newest
            if newest is not None and newest.step == self.step_count:
                if newest.reason != "start":  # the state is kept already: keep it as this one
                    self.snapshots.add(dataclasses.replace(newest, reason="setting"))
            else:
                self._keep_snapshot("setting")
        self.config = config

    def set_lr(self, lr: float) -> None:
        self.apply_live(lr=lr)

    # --- training --------------------------------------------------------------------------

    def step(self) -> StepRecord:
        """One update on the next chunk of every stream: forward, loss, backward, clip, update,
        record. Raises DivergenceError (see the module docstring) instead of a bad update."""
        with np.errstate(all="ignore"):  # non-finite values are detected, not warned about
            t0 = time.perf_counter()
            cfg = self.config
            p, inputs, targets, h0 = self._next_chunk()
            fw = self.cell.forward(self.params, inputs, targets, h0)
            loss = fw.loss
            grads, dh = self.cell.gradients(self.params, fw, self._grads)
            clipped, clip = clip_gradients(grads, cfg.clip_mode, cfg.clip)
            self._check(loss, clip)
            self._update(clipped)
            return self._record(fw, dh, p, loss, clip, t0)

    def peek(self) -> StepPreview:
        """The next step computed on copies, phase by phase, without taking it: the trainer is
        unchanged (tests/test_trainer.py checks that step() then takes exactly this update)."""
        with np.errstate(all="ignore"):
            cfg = self.config
            p, inputs, targets, h0 = self._next_chunk()
            fw = self.cell.forward(self.params, inputs, targets, h0)
            loss = fw.loss
            grads, dh = self.cell.gradients(self.params, fw)  # a new buffer: the trainer's stays
            clipped, clip = clip_gradients(grads, cfg.clip_mode, cfg.clip)
            clipped = copy_params(clipped)  # clipping may return the gradients themselves
            after = copy_params(self.params)
            copy.deepcopy(self.optimizer).step(after, clipped, cfg.lr)  # on a copy of its state
            diverges = not (math.isfinite(loss) and clip.global_pre <= self.gradient_limit
                            and loss <= self.explosion_loss)
        return StepPreview(self.step_count + 1, p, inputs, targets, h0, fw, loss, grads, dh, clipped,
                           clip, cfg.lr, copy_params(self.params), after, diverges)

    def _next_chunk(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """Position, inputs and targets (T, B) and the carried state (B, C) for the next step."""
        T = self.config.seq_len
        p, h = self.p, self.h
        if self.step_count == 0 or p + T + 1 >= self.segment_len:
            p, h = 0, np.zeros_like(self.h)  # wrap: back to the start, memory wiped
        inputs = np.ascontiguousarray(self.segments[:, p : p + T].T)          # (T, B)
        targets = np.ascontiguousarray(self.segments[:, p + 1 : p + T + 1].T)  # (T, B)
        return p, inputs, targets, h

    def _check(self, loss: float, clip: ClipStats) -> None:
        if not math.isfinite(loss):
            self._diverged("loss_not_finite", loss)
        if not clip.global_pre <= self.gradient_limit:  # NaN and inf too
            self._diverged("gradients_not_finite", loss)
        if loss > self.explosion_loss:
            self._diverged("loss_exploded", loss)

    def _update(self, grads: Params) -> None:
        """The optimizer's update, in place; the change to each weight is kept in _delta."""
        self.optimizer.step(self._params, grads, self.config.lr, delta=self._delta)

    def _record(self, fw: Forward, dh: np.ndarray, p: int, loss: float, clip: ClipStats,
                t0: float) -> StepRecord:
        cfg = self.config
        T = cfg.seq_len
        self.p, self.h = p + T, fw.carry.copy()
        self.step_count += 1
        self.chars_seen += self.streams * T
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        self.steps_above_uniform = self.steps_above_uniform + 1 if loss > self.initial_loss else 0
        self._last_fw, self._last_dh = fw, dh
        step_time = time.perf_counter() - t0
        self.train_time += step_time
        self._loss_since_snapshot[0] += loss
        self._loss_since_snapshot[1] += 1
        val = self._validate_if_due()
        record = StepRecord(self.step_count, self.chars_seen, loss, self.smooth_loss, cfg.lr,
                            self.train_time, step_time, clip, T, val)
        self.history.append_values(record.values())
        self.last_record = record
        if val is not None and val < self.best_val_bpc:
            self.best_val_bpc = val
            self.best = self._snapshot("best")
        if self.step_count % self.snapshot_every == 0:
            if not (all_finite(self._params) and all(map(all_finite, self.optimizer.state.values()))):
                self._diverged("update_not_finite", loss, failed=self.step_count)
            self._keep_snapshot("periodic")
        return record

    def _validate_if_due(self) -> float | None:
        every = self.config.val_every
        if not (every and self.step_count % every == 0 and len(self.val_data)):
            return None
        if self.val_share is not None and self.val_time > self.val_share * self.train_time:
            return None
        t0 = time.perf_counter()
        bpc = self.validation_bpc()
        self.val_time += time.perf_counter() - t0
        return bpc

    # --- going back --------------------------------------------------------------------------

    def _snapshot(self, reason: str) -> Snapshot:
        total, n = self._loss_since_snapshot
        return Snapshot(self.state(with_update=False), total / n if n else math.nan, reason,
                        self.history.appends, self.val_history.appends)

    def _keep_snapshot(self, reason: str) -> None:
        self.snapshots.add(self._snapshot(reason))
        self._loss_since_snapshot = [0.0, 0]
        self._went_back_to = None

    def restore(self, snap: Snapshot) -> None:
        """Go back to a snapshot (one of `snapshots.items()`, or `best`): the weights, optimizer,
        position and counters of that step; the histories are cut back to it, and the snapshots
        of later steps forgotten (the best validation's too: it belongs to the steps undone)."""
        s = snap.state
        self._set_state(dataclasses.replace(s, last_update=None))
        self.history.truncate(snap.history_rows)
        self.val_history.truncate(snap.val_rows)
        self.snapshots.drop_after(snap.step)
        if self.best is not None and self.best.step > snap.step:
            self.best, self.best_val_bpc = None, math.inf
        self.last_record = None

    def _diverged(self, kind: str, loss: float, failed: int | None = None) -> None:
        """Go back to the newest healthy snapshot and raise. When training diverged from that
        snapshot before and the settings have changed since, the snapshot itself is taken to be
        spoiled (e.g. Adam's moments after a too-high learning rate) and an older one is used."""
        failed = self.step_count + 1 if failed is None else failed  # the step that went wrong
        uniform = self.initial_loss
        snap = self.snapshots.newest_healthy(uniform)
        last = self._went_back_to
        if snap is not None and last is not None and last[0] == snap.step and last[1] != self.config:
            snap = self.snapshots.newest_healthy(uniform, before=snap.step) or snap
        if snap is None:
            raise DivergenceError(kind, failed, loss, uniform, self.step_count, 0, math.nan)
        undone = self.step_count - snap.step
        self.restore(snap)
        self._went_back_to = (snap.step, self.config)
        raise DivergenceError(kind, failed, loss, uniform, snap.step, undone, snap.loss)

    # --- running ---------------------------------------------------------------------------

    def run(self, n: int) -> list[StepRecord]:
        """n steps; a DivergenceError propagates after going back (see `step`)."""
        return [self.step() for _ in range(n)]

    def run_for(self, seconds: float, max_steps: int = 1_000_000,
                until: Callable[[], bool] | None = None) -> list[StepRecord]:
        """Steps until `seconds` of wall time have passed or `until()` says stop (at least one
        step)."""
        end = time.perf_counter() + seconds
        records = [self.step()]
        while (len(records) < max_steps and time.perf_counter() < end
               and not (until is not None and until())):
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
        h0 = np.zeros((S, self.carry_size), self.dtype)
        with np.errstate(all="ignore"):  # diverging weights give an infinite bpc, not a warning
            fw = self.cell.forward(self.params, inputs, targets, h0)
        bpc = bits_per_char(float(fw.losses.sum()), fw.losses.size)
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
        return chunk_trace(fw, dh, self.corpus.vocab, stream, self.step_count, self.cell.NAME)

    def chunk_params(self) -> Params | None:
        """Copies of the weights the last training chunk was computed with: those before the
        last update (None before the first step). What redoing that chunk's passes needs, e.g.
        rnn_core.reach on one stream of `chunk_trace`. The weights now minus the last update:
        those before it up to rounding (the update is added in place)."""
        if self._last_fw is None:
            return None
        return {k: self.params[k] - self._delta[k] for k in self.params}

    def last_update(self) -> Params:
        """The change each weight took in the last step (a copy; zero before any step)."""
        return copy_params(self._delta)

    def effective_lr(self) -> Params | None:
        """Per-weight step size of adaptive optimizers (Adagrad: lr / sqrt(mem + 1e-8))."""
        out = {k: self.optimizer.effective_lr(k, self.config.lr) for k in self.param_names}
        return None if any(v is None for v in out.values()) else out  # type: ignore[misc]

    def snapshot_params(self) -> Params:
        return {k: a.copy() for k, a in self.params.items()}
