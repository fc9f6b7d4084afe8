"""ui/views/recovery.py: overfitting and training worse than a uniform guess, read from histories
(pure functions, on made-up and real histories), and the snapshots a rewind lists."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from rnn_core import PRESETS, Trainer
from rnn_core.corpus import corpus_from_text, load_builtin
from tests.rnn_support import SMALL_TEXT, Losses, tiny_config
from ui.views.recovery import (
    ABOVE_UNIFORM_STEPS,
    RISE_BPC,
    RISE_EVALS,
    Overfitting,
    overfitting,
    overfitting_message,
    read_rewind_points,
    rewind_label,
    view_overfitting,
    worse_than_guessing,
)
from ui.views.train import read_train_view

STEPS = np.arange(1.0, 2001.0)  # a history row per step


def falling(start: float, end: float) -> np.ndarray:
    return np.linspace(start, end, len(STEPS))


def check(val: list[float], train: np.ndarray) -> Overfitting | None:
    val_steps = np.arange(1, len(val) + 1) * 200.0
    return overfitting(val_steps, np.array(val), STEPS, train)


# --- overfitting --------------------------------------------------------------------------------


def test_validation_rising_for_a_while_as_training_falls_is_overfitting():
    found = check([4.6, 4.2, 4.4, 4.9, 5.5, 5.9], falling(4.0, 0.74))  # the report's 4.2 -> 5.9
    assert found == Overfitting(400, 4.2, 1200, 5.9, pytest.approx(falling(4.0, 0.74)[399]),
                                pytest.approx(falling(4.0, 0.74)[1199]))


@pytest.mark.parametrize(("val", "why"), [
    ([4.6, 4.4, 4.2, 4.0, 3.9, 3.8], "validation still falls"),
    ([4.6, 4.2, 4.4, 4.9], "not yet RISE_EVALS evaluations after the best"),
    ([4.6, 4.2, 4.21, 4.22, 4.2 + RISE_BPC / 2], "a rise smaller than RISE_BPC: noise"),
    ([4.6, 4.2, 4.25, 4.24, 4.2 + 2 * RISE_BPC], "one high reading is not a while"),
    # the default preset on python-docs, seed 0, every 200 steps to step 3,200: a wobble of 0.08
    # above the best that went on improving (2.59 at step 4,000)
    ([4.06, 3.534, 3.327, 3.15, 2.991, 2.956, 2.89, 2.844, 2.842, 2.741, 2.75, 2.718, 2.631, 2.672,
      2.665, 2.708], "the default run's wobble"),
    ([4.6, 4.2, float("nan"), 4.3, float("inf")], "too few finite evaluations"),
    ([], "no validation yet"),
])
def test_no_overfitting(val, why):
    assert check(val, falling(4.0, 1.0)) is None, why


def test_validation_and_training_rising_together_is_not_overfitting():
    """Both worse: training going wrong (a learning rate too high), not memorising."""
    assert check([4.6, 4.2, 4.4, 4.9, 5.5], falling(3.0, 3.5)) is None


def test_the_thresholds_are_the_documented_ones():
    val = [4.6, 4.2, *[4.2 + RISE_BPC + 1e-9] * RISE_EVALS]
    assert check(val, falling(4.0, 1.0)) is not None
    assert check(val[:-1], falling(4.0, 1.0)) is None  # one evaluation fewer


def test_overfitting_message_says_what_it_means_and_offers_the_best_weights():
    o = Overfitting(1200, 4.2, 3400, 5.9, 3.1, 0.74)
    text = overfitting_message(o, best_kept=1200)
    assert "risen from 4.20 bits/char at step 1,200 to 5.90 at step 3,400" in text
    assert "training loss fell from 3.10 to 0.74" in text
    assert "memorising its training text" in text and "weights of step 1,200" in text
    assert "restore them below, or train on a longer text" in overfitting_message(o, 1200)
    plain = overfitting_message(o, best_kept=None)
    assert "restore" not in plain and "Train on a longer text or a smaller network" in plain


def test_a_small_text_overfits_for_real_and_the_best_weights_are_kept():
    """A real run: 857 characters of the Zen of Python learnt by heart in a few hundred steps."""
    corpus = load_builtin("zen")
    trainer = Trainer(corpus, PRESETS["fast"].replace(hidden=64, batch=4, lr=1e-2, val_every=20),
                      val_share=None)
    found = None
    while found is None and trainer.step_count < 3000:
        trainer.run(50)
        found = view_overfitting(read_train_view(trainer))
    assert found is not None
    assert trainer.best is not None and trainer.best.step == found.best_step
    assert trainer.best_val_bpc == pytest.approx(found.best_bpc)


# --- worse than guessing ------------------------------------------------------------------------


def test_worse_than_guessing_is_flagged_after_enough_steps_with_the_rate_that_worked(monkeypatch):
    corpus = corpus_from_text(SMALL_TEXT, name="small", seq_len=10)
    trainer = Trainer(corpus, tiny_config(lr=0.01))
    trainer.run(20)
    trainer.apply_live(lr=0.05)
    losses = Losses(monkeypatch)
    losses.factor = 5.0  # worse than a uniform guess, not yet a blow-up (20 nats a character here)
    trainer.run(ABOVE_UNIFORM_STEPS - 1)
    assert trainer.steps_above_uniform == ABOVE_UNIFORM_STEPS - 1
    assert worse_than_guessing(read_train_view(trainer)) is None
    trainer.step()
    text = worse_than_guessing(read_train_view(trainer))
    assert text is not None and f"for the last {ABOVE_UNIFORM_STEPS} steps" in text
    assert f"({math.log2(trainer.vocab_size):.2f} bits/char)" in text
    assert "Lower the learning rate (now 0.05; it was 0.01 before step 21)" in text
    losses.factor = 1.0
    trainer.step()  # one step better than guessing: the count starts again
    assert worse_than_guessing(read_train_view(trainer)) is None


# --- the snapshots a rewind lists ---------------------------------------------------------------


def test_rewind_points_are_the_ring_and_the_best_newest_first():
    corpus = corpus_from_text(SMALL_TEXT * 4, seq_len=10)
    trainer = Trainer(corpus, tiny_config(val_fraction=0.25, val_every=5), val_share=None,
                      snapshot_every=5)
    trainer.run(12)
    trainer.apply_live(lr=0.05)
    trainer.run(3)
    points = read_rewind_points(trainer)
    ring = [p for p in points if not p.best]
    assert [p.step for p in ring] == sorted((s.step for s in trainer.snapshots.items()), reverse=True)
    assert [p.why for p in ring] == ["kept every 5 steps", "before a change of settings",
                                     "kept every 5 steps", "kept every 5 steps", "the start"][:len(ring)]
    assert ring[-1].bpc is None and all(p.bpc is not None for p in ring[:-1])
    (best,) = [p for p in points if p.best]
    assert best.step == trainer.best.step and f"({trainer.best_val_bpc:.2f} bits/char)" in best.why
    newest = ring[0]
    assert rewind_label(newest) == f"step {newest.step:,} · {newest.bpc:.2f} bits/char · kept every 5 steps"
    assert rewind_label(ring[-1]) == "step 0 · no steps before it · the start"


def test_a_best_ahead_of_the_current_step_is_not_listed():
    corpus = corpus_from_text(SMALL_TEXT * 4, seq_len=10)
    trainer = Trainer(corpus, tiny_config(val_fraction=0.25, val_every=5), val_share=None)
    trainer.run(10)
    ahead = dataclasses.replace(trainer.best, state=dataclasses.replace(trainer.best.state, step=99))
    trainer.best = ahead
    assert not [p for p in read_rewind_points(trainer) if p.best]
