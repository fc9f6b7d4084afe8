"""ui/session/divergence.py: a divergence's facts worded for the user, with advice that fits the
settings in use."""

from __future__ import annotations

import math

import pytest

from rnn_core.config import PRESETS, TrainConfig
from rnn_core.trainer import DIVERGENCE_KINDS, DivergenceError
from rnn_core.units import uniform_loss
from ui.session.divergence import above_uniform_message, divergence_message

T, K = 25, 100
UNIFORM = uniform_loss(K, T)  # log2(100) = 6.64 bits/char


def exploded(**changes: object) -> DivergenceError:
    facts = {"kind": "loss_exploded", "step": 1203, "loss": 30 * UNIFORM, "uniform_loss": UNIFORM,
             "back_to": 1100, "undone": 102, "snapshot_loss": UNIFORM / 2}
    return DivergenceError(**{**facts, **changes})  # type: ignore[arg-type]


def config(**changes: object) -> TrainConfig:
    return PRESETS["min-char-rnn"].replace(seq_len=T, **changes)


def test_says_what_happened_in_bits_per_character_and_where_training_went_back() -> None:
    message = divergence_message(exploded(), config())
    assert "the loss exploded** at step 1,203" in message
    assert f"loss {30 * math.log2(K):.2f} bits/char" in message
    assert f"a uniform guess: {math.log2(K):.2f} bits/char" in message
    back = f"went back 102 steps to step 1,100, where the loss was {math.log2(K) / 2:.2f} bits/char"
    assert back in message
    assert "the optimizer's state and the charts are as they were then" in message  # what going back did
    assert "Rewind" in message  # and how to go back further
    assert "nats" not in message and "loss_exploded" not in message  # no engine words


@pytest.mark.parametrize("kind", DIVERGENCE_KINDS)
def test_every_kind_is_worded(kind: str) -> None:
    message = divergence_message(exploded(kind=kind), config())
    assert kind not in message and "Training paused:" in message


def test_a_loss_that_is_not_a_number_and_nothing_to_go_back_to() -> None:
    message = divergence_message(exploded(kind="loss_not_finite", loss=math.nan, back_to=0, undone=0,
                                          snapshot_loss=math.nan, step=1), config())
    assert "(loss NaN;" in message
    assert "not taken: the weights are still those of step 0" in message and "went back" not in message
    assert "infinite" in divergence_message(exploded(loss=math.inf), config())


def test_one_step_back_is_singular_and_an_unknown_snapshot_loss_is_left_out() -> None:
    message = divergence_message(exploded(undone=1, back_to=1202, snapshot_loss=math.nan), config())
    assert "went back 1 step to step 1,202: the weights" in message


def test_advice_with_clipping_off_is_to_turn_it_on() -> None:
    message = divergence_message(exploded(), config(lr=10.0, clip_mode="off"))
    assert "lower the learning rate (now 10; try 1)" in message
    assert "turn gradient clipping on" in message


@pytest.mark.parametrize(("mode", "also"), [("value", "clipping by norm"), ("norm", "")])
def test_advice_with_clipping_on_never_says_turn_it_on(mode: str, also: str) -> None:
    message = divergence_message(exploded(), config(lr=0.5, clip=5.0, clip_mode=mode))
    assert "turn" not in message and "clipping on" not in message
    assert "lower the learning rate (now 0.5; try 0.05)" in message
    assert "a clip value below the current 5" in message
    assert also in message


def test_advice_names_an_adaptive_optimizer_only_for_sgd_and_momentum() -> None:
    for optimizer in ("sgd", "momentum"):
        assert "such as Adam" in divergence_message(exploded(), config(optimizer=optimizer))
    for optimizer in ("adagrad", "rmsprop", "adam"):
        assert "such as Adam" not in divergence_message(exploded(), config(optimizer=optimizer))


def test_no_lower_learning_rate_below_the_bound() -> None:
    message = divergence_message(exploded(), config(lr=1e-7))
    assert "learning rate" not in message and "clip harder" in message


def test_the_learning_rate_of_the_step_gone_back_to_is_suggested_when_lower() -> None:
    message = divergence_message(exploded(), config(lr=1.0, clip_mode="off"), healthy_lr=0.002)
    assert "lower the learning rate (now 1; it was 0.002 at step 1,100)" in message
    # not when it was the same (the change that broke training was another one)
    same = divergence_message(exploded(), config(lr=1.0), healthy_lr=1.0)
    assert "(now 1; try 0.1)" in same


def test_training_above_a_uniform_guess_says_so_with_advice() -> None:
    message = above_uniform_message(412, math.log2(K), K, config(lr=0.1, clip=20.0, clip_mode="norm",
                                                                  optimizer="adam"),
                                    earlier_lr=(0.002, 1234))
    assert "**Worse than guessing:** for the last 412 steps" in message
    assert f"uniform guess's ({math.log2(K):.2f} bits/char)" in message and f"among the {K}" in message
    assert "Lower the learning rate (now 0.1; it was 0.002 before step 1,234)" in message
    assert "clip harder (a clip value below the current 20)" in message and "Rewind" in message
    plain = above_uniform_message(150, math.log2(K), K, config(lr=0.1, clip_mode="off"))
    assert "(now 0.1; try 0.01)" in plain and "turn gradient clipping on" in plain
