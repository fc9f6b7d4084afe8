"""The explanations beside the Train charts (ui/views/explain.py): every number they quote is the
running model's, checked here against the trainer computed independently (the smooth loss's
update, the uniform guess, the share of steps clipped, the saturated units, and the last
prediction's gradient going back, by a hand-written backward pass), and the sentences carry them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.trainer import Trainer
from tests.rnn_support import small_corpus, tiny_config
from ui.views.explain import (
    CATCH_UP_90_STEPS,
    CATCH_UP_STEPS,
    FADE_DISTANCE,
    SATURATED,
    SMOOTH_KEEP,
    ExplainNumbers,
    clipping_text,
    explain_numbers,
    inside_text,
    loss_text,
    nats,
    percent,
    sample_text,
    times,
    uniform_formula,
)
from ui.views.grad_flow import read_reach
from ui.views.train import CLIP_WINDOW, read_train_view

TEXTS = (loss_text, clipping_text, inside_text, sample_text)


def trained(steps: int, **changes) -> Trainer:
    trainer = Trainer(small_corpus(seq_len=14), tiny_config(seq_len=14, **changes))
    trainer.run(steps)
    return trainer


def numbers_of(trainer: Trainer) -> ExplainNumbers:
    return explain_numbers(read_train_view(trainer), read_reach(trainer))


def last_prediction_by_hand(trainer: Trainer) -> np.ndarray:
    """||dL(T-1)/dh(s)|| for s = 0..T-1 of stream 0's last chunk: the RNN's backward pass written
    out, dL(T-1)/dh(T-1) = V^T (y - onehot), one step back = W^T ((1 - h(s)^2) * dL/dh(s))."""
    trace, params = trainer.chunk_trace(0), trainer.chunk_params()
    T = len(trace.inputs)
    do = trace.ps[-1].copy()
    do[trace.targets[-1]] -= 1.0
    dh = params["V"].T @ do
    norms = np.zeros(T)
    for s in range(T - 1, -1, -1):
        norms[s] = np.linalg.norm(dh)
        dh = params["W"].T @ ((1.0 - trace.hs[s] ** 2) * dh)
    return norms


def test_the_numbers_are_the_running_models():
    trainer = trained(40, clip_mode="norm", clip=1.0)
    n = numbers_of(trainer)
    K, T = len(trainer.corpus.vocab), trainer.config.seq_len
    assert (n.vocab_size, n.seq_len, n.step) == (K, T, trainer.step_count) == (K, T, 40)
    assert n.uniform_loss == pytest.approx(-math.log(1 / K) * T, rel=1e-12)
    assert n.uniform_bpc == pytest.approx(math.log2(K))
    assert n.smooth_loss == trainer.smooth_loss
    assert n.chunk_loss == trainer.last_record.loss
    assert n.lag == pytest.approx(trainer.smooth_loss - trainer.last_record.loss)
    # By norm: the share of the last CLIP_WINDOW steps whose global norm was scaled down.
    h = trainer.history.as_dict()
    recent = slice(-min(CLIP_WINDOW, len(h["step"])), None)
    assert n.clip_window == min(CLIP_WINDOW, 40)
    assert n.clipped_share == pytest.approx(np.mean(h["global_post"][recent] < h["global_pre"][recent]))
    assert 0 < n.clipped_share <= 1  # clip 1 bites this early
    assert (n.global_pre, n.global_post) == (trainer.last_record.clip.global_pre,
                                             trainer.last_record.clip.global_post)
    assert n.global_post == pytest.approx(1.0)
    # Saturation over stream 0's whole chunk (T x H), and the fading of the last prediction's gradient.
    hs = trainer.chunk_trace(0).hs
    assert hs.shape == (T, trainer.config.hidden)
    assert n.saturated == pytest.approx(np.mean(np.abs(hs) > SATURATED))
    by_hand = last_prediction_by_hand(trainer)
    assert n.fade_distance == FADE_DISTANCE
    assert n.fade == pytest.approx(by_hand[T - 1 - FADE_DISTANCE] / by_hand[T - 1], rel=1e-9)


def test_the_sentences_quote_those_numbers():
    trainer = trained(40, clip_mode="norm", clip=1.0)
    n = numbers_of(trainer)
    K, T = len(trainer.corpus.vocab), trainer.config.seq_len
    for short in (False, True):
        loss = loss_text(n, short)
        assert f"ln({K}) × {T} = {math.log(K) * T:,.1f} nats" in loss
        assert f"**{trainer.smooth_loss:,.1f}**" in loss and f"**{trainer.last_record.loss:,.1f}**" in loss
        assert "about 1,000 steps" in loss
        clip = clipping_text(n, short)
        assert f"{n.clip:g}" in clip
        assert f"**{percent(n.clipped_share)}** of the last {n.clip_window} steps" in clip
        inside = inside_text(n, short)
        assert f"**{100 * n.saturated:.0f} %**" in inside and f"**{times(n.fade)}**" in inside
        assert f"{FADE_DISTANCE} steps back" in inside
        assert str(K) in sample_text(n, short)
        assert len(loss) < (400 if short else 1200)
        bits = loss_text(n, short, bits=True)  # the loss chart in bits per character
        assert f"log2({K}) = {math.log2(K):.2f} bits/char" in bits
        assert f"**{trainer.smooth_loss / T / math.log(2):.2f}**" in bits
        assert f"**{trainer.last_record.loss / T / math.log(2):.2f}**" in bits
    assert f"{trainer.last_record.clip.global_pre:.3g} before" in clipping_text(n)
    for text in TEXTS:  # the shorter version for presentation mode
        assert len(text(n, short=True)) < len(text(n))


def test_the_smooth_loss_is_min_char_rnns_moving_average_and_its_lag_in_steps():
    trainer = trained(3)
    before = trainer.smooth_loss
    record = trainer.step()
    expected = before * SMOOTH_KEEP + record.loss * (1 - SMOOTH_KEEP)
    assert trainer.smooth_loss == pytest.approx(expected, rel=1e-15)
    assert math.isclose(SMOOTH_KEEP ** CATCH_UP_STEPS, math.exp(-1), rel_tol=0.01)  # 1,000 steps: 1 - 1/e
    assert math.isclose(SMOOTH_KEEP ** CATCH_UP_90_STEPS, 0.1, rel_tol=0.01)  # 2,300 steps: 90 %
    assert (CATCH_UP_STEPS, CATCH_UP_90_STEPS) == (1000, 2300)


def test_the_issues_example_the_built_in_text_at_the_default_chunk():
    n = ExplainNumbers(step=0, vocab_size=103, seq_len=25, uniform_loss=-math.log(1 / 103) * 25,
                       uniform_bpc=math.log2(103), smooth_loss=-math.log(1 / 103) * 25, chunk_loss=None,
                       val_bpc=None, clip_mode="norm", clip=20.0, clip_window=0, clipped_share=None,
                       global_pre=None, global_post=None, entries_clipped=None, saturated=None,
                       fade_distance=10, fade=None)
    assert uniform_formula(n) == "ln(103) × 25 = 115.9 nats"
    for text in TEXTS:  # before the first step: nothing to quote, nothing breaks
        for short in (False, True):
            assert "None" not in text(n, short) and "nan" not in text(n, short)
    assert "Press Play" in inside_text(n)


@pytest.mark.parametrize("mode", ["value", "off"])
def test_clipping_by_value_and_off(mode):
    trainer = trained(30, clip_mode=mode, clip=0.05)
    n = numbers_of(trainer)
    text = clipping_text(n)
    h = trainer.history.as_dict()
    if mode == "value":
        assert n.entries_clipped == trainer.last_record.clip.clipped_fraction > 0
        assert f"**{percent(n.entries_clipped)}** of the entries" in text
        assert n.clipped_share == pytest.approx(np.mean(h["clipped_fraction"][-CLIP_WINDOW:] > 0))
        assert "[−0.05, 0.05]" in text
    else:
        assert "Clipping is off" in text and f"**{trainer.last_record.clip.global_pre:.3g}**" in text


def test_a_short_chunk_measures_the_fading_as_far_back_as_it_goes():
    trainer = Trainer(small_corpus(seq_len=6), tiny_config(seq_len=6))
    trainer.run(5)
    n = numbers_of(trainer)
    by_hand = last_prediction_by_hand(trainer)
    assert n.fade_distance == 5
    assert n.fade == pytest.approx(by_hand[0] / by_hand[-1], rel=1e-9)
    assert "5 steps back" in inside_text(n)


def test_the_gated_cells_hidden_values_are_not_called_tanh_units():
    trainer = Trainer(small_corpus(seq_len=14), tiny_config(seq_len=14, cell="lstm"))
    trainer.run(5)
    n = numbers_of(trainer)
    assert n.cell == "lstm" and n.fade is not None
    assert "hidden values" in inside_text(n) and "tanh units" not in inside_text(n)


def test_formatting():
    assert (nats(115.868), percent(0.26), percent(0.004), percent(0.0)) == ("115.9", "26 %", "0.4 %", "0 %")
    assert (times(1 / 16), times(0.62), times(3.2), times(float("nan"))) == ("1/16 of", "0.62 ×", "3.2 ×",
                                                                            "undefined")
