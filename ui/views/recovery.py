"""What can go wrong while training, read from the histories, and the ways back: the snapshots a
rewind can go back to, training that stays worse than a uniform guess, and overfitting (the
validation loss rising while the training loss falls).

`read_rewind_points` runs inside `TrainingSession.read`; the rest are pure functions of a
TrainView's histories (unit-tested on made-up ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.trainer import Trainer
from rnn_core.units import bits_per_char
from ui.session.divergence import above_uniform_message
from ui.views.train import TrainView

ABOVE_UNIFORM_STEPS = 100  # consecutive steps worse than a uniform guess before the page says so
# Overfitting: the last RISE_EVALS validations all at least RISE_BPC bits/char above the best one
# while training improved. On the default preset (python-docs, 10,000 held-out characters) the
# validation loss wobbles by up to 0.08 above its best while still improving overall; a text
# learnt by heart rises by a bit and more (4.2 to 5.9 in the report that asked for this).
RISE_EVALS = 3
RISE_BPC = 0.1

WHY = {"start": "the start", "periodic": "kept every {every} steps",
       "setting": "before a change of settings", "best": "best validation"}


@dataclass(frozen=True)
class RewindPoint:
    step: int
    bpc: float | None  # mean chunk loss of the steps that led to it (bits/char); None: none yet
    why: str           # why it was kept, in words
    best: bool         # the best validation's weights (trainer.best), not one of the ring


def read_rewind_points(trainer: Trainer) -> list[RewindPoint]:
    """The states a rewind can go back to, newest first: the snapshot ring and the best
    validation's weights (call under the session's lock)."""
    T = trainer.config.seq_len
    points = []
    for snap in trainer.snapshots.items():
        bpc = bits_per_char(snap.loss, T) if np.isfinite(snap.loss) else None
        why = WHY.get(snap.reason, snap.reason).format(every=trainer.snapshot_every)
        points.append(RewindPoint(snap.step, bpc, why, best=False))
    best = trainer.best
    if best is not None and best.step <= trainer.step_count:
        points.append(RewindPoint(best.step, bits_per_char(best.loss, T) if np.isfinite(best.loss) else None,
                                  f"{WHY['best']} ({trainer.best_val_bpc:.2f} bits/char)", best=True))
    return sorted(points, key=lambda p: (p.step, not p.best), reverse=True)  # the ring's first


def rewind_label(point: RewindPoint) -> str:
    """'step 1,200 · 2.31 bits/char · kept every 100 steps'."""
    loss = f"{point.bpc:.2f} bits/char" if point.bpc is not None else "no steps before it"
    return f"step {point.step:,} · {loss} · {point.why}"


def worse_than_guessing(view: TrainView) -> str | None:
    """A warning when the chunk loss has been above a uniform guess's for ABOVE_UNIFORM_STEPS
    steps in a row (training that has stopped learning without blowing up), else None."""
    n = view.steps_above_uniform
    if n < ABOVE_UNIFORM_STEPS:
        return None
    began = view.step - n + 1
    h = view.history
    before = np.flatnonzero(h["step"] < began)  # the steps before it began, and their rate
    earlier = (float(h["lr"][before[-1]]), began) if len(before) else None
    return above_uniform_message(n, view.uniform_bpc, view.vocab_size, view.config, earlier)


@dataclass(frozen=True)
class Overfitting:
    best_step: int      # the lowest validation loss ...
    best_bpc: float
    now_step: int       # ... and the newest, higher
    now_bpc: float
    train_then: float   # the smooth training loss (bits/char) at those steps: it fell
    train_now: float


def overfitting(val_steps: np.ndarray, val_bpc: np.ndarray, steps: np.ndarray, smooth_bpc: np.ndarray,
                rise_evals: int = RISE_EVALS, rise_bpc: float = RISE_BPC) -> Overfitting | None:
    """Overfitting seen in the histories: the validation loss has risen for a while (the last
    `rise_evals` evaluations all at least `rise_bpc` bits/char above its lowest) while the smooth
    training loss fell over the same steps. None otherwise (also while validation falls, when it
    only wobbles, or when training got worse as well: that is not memorising, it is training
    going wrong)."""
    ok = np.isfinite(val_bpc)
    val_steps, val_bpc = val_steps[ok], val_bpc[ok]
    if len(val_bpc) < rise_evals + 1 or not len(steps):
        return None
    b = int(np.argmin(val_bpc))
    if len(val_bpc) - 1 - b < rise_evals or not (val_bpc[-rise_evals:] >= val_bpc[b] + rise_bpc).all():
        return None

    def train_at(step: float) -> float:  # the newest kept row at or before the step
        i = int(np.searchsorted(steps, step, side="right")) - 1
        return float(smooth_bpc[max(i, 0)])

    then, now = train_at(val_steps[b]), train_at(val_steps[-1])
    if not now < then:
        return None
    return Overfitting(int(val_steps[b]), float(val_bpc[b]), int(val_steps[-1]), float(val_bpc[-1]),
                       then, now)


def view_overfitting(view: TrainView) -> Overfitting | None:
    """overfitting() on a TrainView's histories."""
    h = view.history
    return overfitting(view.val["step"], view.val["val_bpc"], h["step"], h["smooth_bpc"])


def overfitting_message(o: Overfitting, best_kept: int | None) -> str:
    """What overfitting is, in the numbers seen, and what to do. `best_kept`: the step of the best
    weights kept (trainer.best), when there are any to restore."""
    advice = "train on a longer text or a smaller network (fewer hidden units, on Reset)."
    if best_kept is not None:
        advice = (f"The weights of step {best_kept:,}, the best on validation, are kept: restore "
                  f"them below, or {advice}")
    else:
        advice = advice[:1].upper() + advice[1:]
    return (f"**Overfitting:** the validation loss has risen from {o.best_bpc:.2f} bits/char at step "
            f"{o.best_step:,} to {o.now_bpc:.2f} at step {o.now_step:,}, while the training loss fell "
            f"from {o.train_then:.2f} to {o.train_now:.2f}. The network is memorising its training "
            f"text instead of learning what carries over to text it has not seen. {advice}")
