"""Training trouble worded for the user: a divergence (rnn_core raises DivergenceError with facts
only) and training that stays worse than a uniform guess. Each says what happened (in bits per
character), where training stands, and what will help given the settings in use: it never
suggests turning clipping on when it is on, and names the learning rate that worked when known."""

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


def divergence_message(exc: DivergenceError, config: TrainConfig,
                       healthy_lr: float | None = None) -> str:
    """What happened at exc.step, what going back did, and what to change in `config` (the
    settings training ran with), as one markdown paragraph. `healthy_lr`: the learning rate of the
    step gone back to, suggested when lower than the one in use."""
    T = config.seq_len
    what = WHAT.get(exc.kind, exc.kind.replace("_", " "))
    happened = (f"**Training paused: {what}** at step {exc.step:,} (loss {_bpc(exc.loss, T)}; a "
                f"uniform guess: {bits_per_char(exc.uniform_loss, T):.2f} bits/char).")
    earlier = (healthy_lr, f"at step {exc.back_to:,}") if healthy_lr is not None else None
    fixes = _fixes(config, earlier)
    return " ".join([happened, _went_back(exc, T),
                     f"To continue, change a setting on the Train page: {_either(fixes)}. Then press Play."])


def above_uniform_message(steps: int, uniform_bpc: float, vocab_size: int, config: TrainConfig,
                          earlier_lr: tuple[float, int] | None = None) -> str:
    """Training that has stayed worse than a uniform guess for `steps` consecutive steps, and
    what will help. `earlier_lr`: (learning rate, step) from before it began, suggested when
    lower than the one in use."""
    earlier = (earlier_lr[0], f"before step {earlier_lr[1]:,}") if earlier_lr else None
    return (f"**Worse than guessing:** for the last {steps:,} steps the chunk loss has stayed above a "
            f"uniform guess's ({uniform_bpc:.2f} bits/char): the network predicts the next character "
            f"worse than a random pick among the {vocab_size} would. Training is not learning; "
            f"usually the steps are too big. {_capital(_either(_fixes(config, earlier)))}, "
            "or go back to an earlier step with Rewind below.")


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
    return (f"Training went back {exc.undone:,} {steps} to step {exc.back_to:,}{where}: the weights, "
            "the optimizer's state and the charts are as they were then (Rewind on the Train page "
            "goes back further).")


def _fixes(config: TrainConfig, earlier: tuple[float, str] | None = None) -> list[str]:
    """What to change, from the settings in use: any one of these may be enough. `earlier`: a
    learning rate that worked, and when."""
    fixes = []
    lowest = BOUNDS["lr"][0]
    if config.lr > lowest:
        if earlier is not None and lowest <= earlier[0] < config.lr:
            try_lr = f"it was {earlier[0]:g} {earlier[1]}"
        else:
            try_lr = f"try {max(config.lr / 10, lowest):g}"
        fixes.append(f"lower the learning rate (now {config.lr:g}; {try_lr})")
    if config.clip_mode == "off":
        fixes.append("turn gradient clipping on (it is off)")
    elif config.clip_mode == "value":
        fixes.append(f"clip harder (a clip value below the current {config.clip:g}, or clipping by norm)")
    else:
        fixes.append(f"clip harder (a clip value below the current {config.clip:g})")
    if config.optimizer in NON_ADAPTIVE:
        fixes.append("switch to an optimizer that scales each weight's step, such as Adam (on Reset)")
    return fixes


def _either(fixes: list[str]) -> str:
    return fixes[0] if len(fixes) == 1 else ", ".join(fixes[:-1]) + " or " + fixes[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
