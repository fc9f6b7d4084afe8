"""A divergence worded for the user. rnn_core raises DivergenceError with facts only; this says
what happened (in bits per character), where training stands after going back, and what will help
given the settings in use: it never suggests turning clipping on when it is on."""

from __future__ import annotations

import math

from rnn_core.config import BOUNDS, TrainConfig
from rnn_core.trainer import DivergenceError
from rnn_core.units import bits_per_char

WHAT = {
    "loss_not_finite": "the loss was not a finite number",
    "gradients_not_finite": "the gradients overflowed",
    "loss_exploded": "the loss exploded",
    "update_not_finite": "the update would have made the weights or the optimizer's state infinite",
}
NON_ADAPTIVE = ("sgd", "momentum")  # one step size for every weight


def divergence_message(exc: DivergenceError, config: TrainConfig) -> str:
    """What happened at exc.step, what going back did, and what to change in `config` (the
    settings training ran with), as one markdown paragraph."""
    T = config.seq_len
    what = WHAT.get(exc.kind, exc.kind.replace("_", " "))
    happened = (f"**Training paused: {what}** at step {exc.step:,} (loss {_bpc(exc.loss, T)}; a "
                f"uniform guess: {bits_per_char(exc.uniform_loss, T):.2f} bits/char).")
    return " ".join([happened, _went_back(exc, T), _advice(config)])


def _bpc(nats: float, seq_len: int) -> str:
    if math.isnan(nats):
        return "NaN"
    if math.isinf(nats):
        return "infinite"
    return f"{bits_per_char(nats, seq_len):,.2f} bits/char"


def _went_back(exc: DivergenceError, seq_len: int) -> str:
    if exc.undone == 0:
        return f"That step was not taken: the weights are still those of step {exc.back_to:,}."
    steps = "step" if exc.undone == 1 else "steps"
    where = ("" if not math.isfinite(exc.snapshot_loss)
             else f", where the loss was {_bpc(exc.snapshot_loss, seq_len)}")
    return f"Training went back {exc.undone:,} {steps} to step {exc.back_to:,}{where}."


def _advice(config: TrainConfig) -> str:
    """What to change, from the settings in use: any one of these may be enough."""
    fixes = []
    lowest = BOUNDS["lr"][0]
    if config.lr > lowest:
        fixes.append(f"lower the learning rate (now {config.lr:g}; try {max(config.lr / 10, lowest):g})")
    if config.clip_mode == "off":
        fixes.append("turn gradient clipping on (it is off)")
    elif config.clip_mode == "value":
        fixes.append(f"clip harder (a clip value below the current {config.clip:g}, or clipping by norm)")
    else:
        fixes.append(f"clip harder (a clip value below the current {config.clip:g})")
    if config.optimizer in NON_ADAPTIVE:
        fixes.append("switch to an optimizer that scales each weight's step, such as Adam (on Reset)")
    either = fixes[0] if len(fixes) == 1 else ", ".join(fixes[:-1]) + " or " + fixes[-1]
    return f"To continue, change a setting on the Train page: {either}. Then press Play."
