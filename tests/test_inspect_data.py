"""The Inspect and Sample pages' views (ui/views/): what they compute from a trainer or a session."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.corpus import Corpus, corpus_from_text
from rnn_core.model import forward
from rnn_core.trainer import Trainer
from ui.session.worker import TrainingSession
from ui.text import visible_char
from ui.views import grad_flow, gradcheck, hidden, own_text, softmax, text_grid, weights
from ui.views import sample as sd

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("the cat sat on the mat.\nthe dog sat on the log.\n\ta cat and a dog met on a mat by a log.\n"
        "the cat ran, the dog ran.\nthen both sat down again.\n") * 3


def corpus(text: str = TEXT) -> Corpus:
    return corpus_from_text(text, name="small", seq_len=10)


def config(**changes: object) -> TrainConfig:
    return TrainConfig(hidden=12, seq_len=10, val_fraction=0.0, seed=3).replace(**changes)


@pytest.fixture
def trainer() -> Trainer:
    t = Trainer(corpus(), config(batch=3))
    t.run(5)
    return t


# --- hidden states ------------------------------------------------------------------------------


def test_unit_order():
    hs = np.array([[0.0, 0.9, -0.5], [0.0, -0.9, -0.5], [0.1, 0.9, -0.5]])  # (T=3, H=3)
    assert hidden.unit_order(hs, "unit number").tolist() == [0, 1, 2]
    assert hidden.unit_order(hs, "most variable").tolist()[0] == 1
    assert hidden.unit_order(hs, "most saturated").tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="unknown unit order"):
        hidden.unit_order(hs, "nope")


def test_hidden_view_is_units_by_time(trainer: Trainer):
    trace = trainer.chunk_trace(1)
    view = hidden.hidden_view(trace, "most variable", max_units=5)
    assert view.z.shape == (5, 10)
    assert view.total_units == 12
    np.testing.assert_array_equal(view.z, trace.hs[:, view.units].T)
    assert view.labels == [visible_char(c) for c in trace.input_chars]
    assert np.abs(view.z).max() <= 1.0


def test_text_grid_wraps_and_pads():
    grid = text_grid.text_grid(list("ab cd\ne"), np.arange(7.0), width=3)
    assert grid.z.shape == (3, 3)
    assert grid.text == [["a", "b", "␣"], ["c", "d", "⏎"], ["e", "", ""]]
    assert grid.position[2].tolist() == [6, -1, -1]
    assert np.isnan(grid.z[2, 1:]).all() and grid.z[1, 2] == 5.0
    with pytest.raises(ValueError):
        text_grid.text_grid(list("ab"), np.zeros(3))


def test_unit_grid_clamps_the_unit(trainer: Trainer):
    trace = trainer.chunk_trace(0)
    grid, unit = hidden.unit_grid(trace, 99)
    assert unit == 11
    np.testing.assert_allclose(grid.z[0, :10], trace.hs[:, 11])


# --- softmax ------------------------------------------------------------------------------------


def test_softmax_view_terms_sum_to_chunk_loss(trainer: Trainer):
    trace = trainer.chunk_trace(2)
    view = softmax.softmax_view(trace, trainer.corpus.vocab, k=4)
    assert view.top_p.shape == (10, 4)
    assert math.isclose(float(view.losses.sum()), trace.loss, rel_tol=1e-9)
    np.testing.assert_allclose(view.losses, -np.log(view.p_target))
    assert (np.diff(view.top_p, axis=1) <= 0).all()  # most likely first
    for t in range(10):  # the true next char is marked exactly where it is among the top k
        assert (view.targets[t] in view.top_chars[t]) == view.top_is_target[t].any()
    # With 3 streams, the recorded step loss is the mean of the streams' chunk losses.
    losses = [trainer.chunk_trace(s).loss for s in range(3)]
    assert math.isclose(view.mean_loss, float(np.mean(losses)), rel_tol=1e-9)


def test_softmax_table_total_row(trainer: Trainer):
    view = softmax.softmax_view(trainer.chunk_trace(0), trainer.corpus.vocab)
    table = softmax.softmax_table(view)
    assert len(table) == 11
    assert table["t"].iloc[-1] == "Σ"
    assert math.isclose(table["loss term -ln p"].iloc[-1], view.loss, rel_tol=1e-9)
    assert math.isclose(table["loss term -ln p"].iloc[:-1].sum(), view.loss, rel_tol=1e-9)


# --- your own text ------------------------------------------------------------------------------


def test_own_text_trace_matches_forward(trainer: Trainer):
    vocab = trainer.corpus.vocab
    text = "the dog ran on the mat."
    trace = own_text.own_text_trace(trainer.params, vocab, text, step=5)
    ids = vocab.encode(text)
    fw = forward(trainer.params, ids[:-1, None], ids[1:, None], np.zeros((1, 12)))
    assert trace.hs.shape == (len(text) - 1, 12)
    np.testing.assert_allclose(trace.hs, fw.hs[1:, 0])
    assert math.isclose(trace.loss, fw.loss, rel_tol=1e-12)
    assert trace.input_chars == list(text[:-1]) and trace.target_chars == list(text[1:])
    assert trace.dh_norms.shape == (len(text) - 1,)


def test_default_own_text_is_readable():
    vocab = corpus().vocab
    assert own_text.default_own_text(vocab, TEXT) == TEXT[:60]  # no capital B in the small corpus
    full = corpus(TEXT + own_text.OWN_TEXT_EXAMPLE)
    assert own_text.default_own_text(full.vocab, full.text) == own_text.OWN_TEXT_EXAMPLE


@pytest.mark.parametrize(("text", "message"), [
    ("the ☃ cat é", "not in the training text's vocabulary.*'é', '☃'"),
    ("t", "at least two characters"),
    ("t" * (own_text.MAX_OWN_TEXT + 2), "At most"),
])
def test_own_text_rejections(trainer: Trainer, text: str, message: str):
    with pytest.raises(ValueError, match=message):
        own_text.own_text_trace(trainer.params, trainer.corpus.vocab, text)


def test_own_text_unknown_whitespace_is_named_visibly(trainer: Trainer):
    with pytest.raises(ValueError, match="'⍽'"):
        own_text.own_text_trace(trainer.params, trainer.corpus.vocab, "the\u00a0cat")


# --- gradient flow ------------------------------------------------------------------------------


def test_vanishing_ratio():
    assert grad_flow.vanishing_ratio(np.array([0.1, 0.5, 1.0])) == pytest.approx(0.1)
    assert math.isnan(grad_flow.vanishing_ratio(np.array([1.0, 0.0])))


# --- weights ------------------------------------------------------------------------------------


def test_read_weights_shapes_labels_and_update(trainer: Trainer):
    K = len(trainer.corpus.vocab)
    U = weights.read_weights(trainer, "U")
    assert U.weights.shape == (12, K) and U.full_shape == (12, K) and not U.truncated
    assert U.row_labels[:2] == ["h0", "h1"] and U.col_labels[0] == "⇥"  # '\t' sorts first
    np.testing.assert_allclose(U.update, trainer.last_update()["U"])
    assert U.effective_lr is not None and (U.effective_lr > 0).all()
    V = weights.read_weights(trainer, "V")
    assert V.weights.shape == (K, 12) and V.row_labels[1] == "⏎"
    c = weights.read_weights(trainer, "c")
    assert c.weights.shape == (1, K) and c.row_labels == ["c"] and len(c.col_labels) == K
    small = weights.read_weights(trainer, "W", max_size=5)
    assert small.weights.shape == (5, 5) and small.truncated and small.full_shape == (12, 12)
    with pytest.raises(ValueError):
        weights.read_weights(trainer, "X")


def test_read_weights_sgd_has_no_effective_lr():
    t = Trainer(corpus(), config(optimizer="sgd"))
    t.run(2)
    assert weights.read_weights(t, "W").effective_lr is None
    summary = weights.read_weight_summary(t)
    assert summary["median step size"].tolist() == [t.config.lr] * 5


def test_weight_summary(trainer: Trainer):
    summary = weights.read_weight_summary(trainer)
    assert summary["parameter"].tolist() == ["U", "W", "V", "b", "c"]
    w = summary.set_index("parameter").loc["W"]
    assert w["‖θ‖"] == pytest.approx(float(np.linalg.norm(trainer.params["W"])))
    assert 0 < w["‖Δθ‖ / ‖θ‖"] < 1


# --- gradient check -----------------------------------------------------------------------------


def test_gradcheck_on_the_current_chunk_is_small(trainer: Trainer):
    args = gradcheck.read_gradcheck_input(trainer)
    assert args is not None
    result = gradcheck.run_gradcheck(*args)
    assert set(result.errors) == {"U", "W", "V", "b", "c"}
    assert max(result.errors.values()) < 1e-5
    assert result.step == 5 and result.steps_checked == 10 and 1 <= result.entries <= 10
    table = gradcheck.gradcheck_table(result)
    assert set(table["verdict"]) == {"correct"}


def test_gradcheck_before_training_and_budget():
    assert gradcheck.read_gradcheck_input(Trainer(corpus(), config())) is None
    assert gradcheck.gradcheck_entries(25, 128, 100) == 10
    assert gradcheck.gradcheck_entries(50, 1024, 1000) == 1


# --- sampling -----------------------------------------------------------------------------------


def test_generate_uses_only_the_vocabulary_and_is_reproducible(session: TrainingSession):
    session.step_once()
    req = sd.SampleRequest(seed_text="the ", length=80, temperature=0.9, top_k=0, rng_seed=7)
    a, b = sd.generate(session, req), sd.generate(session, req)
    vocab = set(session.trainer.corpus.vocab.chars)
    assert len(a.text) == 80 and set(a.text) <= vocab
    assert a.text == b.text and a.step == 1
    assert a.top_p.shape == (80, sd.DISPLAY_TOP)
    assert (a.chosen_p > 0).all()


def test_generate_top_k_and_greedy(session: TrainingSession):
    session.step_once()
    top2 = sd.generate(session, sd.SampleRequest(length=50, top_k=2, rng_seed=1))
    assert (top2.top_p[:, 2:] == 0).all()
    assert all(c in row[:2] for c, row in zip(top2.visible, top2.top_chars, strict=True))
    greedy = sd.generate(session, sd.SampleRequest(seed_text="the", length=30, greedy=True, rng_seed=1))
    assert all(row[0] == c for c, row in zip(greedy.visible, greedy.top_chars, strict=True))


@pytest.mark.parametrize(("req", "message"), [
    (sd.SampleRequest(seed_text="☃"), "never seen"),
    (sd.SampleRequest(temperature=0.0), "temperature"),
    (sd.SampleRequest(length=0), "Length"),
    (sd.SampleRequest(length=sd.MAX_LENGTH + 1), "Length"),
])
def test_generate_rejects_bad_requests(session: TrainingSession, req: sd.SampleRequest, message: str):
    with pytest.raises(ValueError, match=message):
        sd.generate(session, req)


def test_reveal_prefixes():
    frames = sd.reveal_prefixes("abcdefghij", frames=4)
    assert frames[-1] == "abcdefghij" and len(frames) == 4
    assert all(frames[i + 1].startswith(frames[i]) for i in range(3))
    assert sd.reveal_prefixes("ab", frames=10) == ["a", "ab"]
    assert sd.reveal_prefixes("") == [""]


def test_position_table_marks_the_drawn_character(session: TrainingSession):
    result = sd.generate(session, sd.SampleRequest(length=20, greedy=True))
    table = sd.position_table(result, 3)
    assert table["drawn"].tolist()[0] is True and table["rank"].tolist()[0] == 1


def test_timeline_settings_and_table(session: TrainingSession):
    session.step_once()
    req = sd.SampleRequest(seed_text="the", length=1000, temperature=0.5, top_k=3, rng_seed=2)
    session.set_sample_settings(req.timeline_settings(every_steps=50))
    s = session.sample_settings
    assert (s.seed_text, s.length, s.temperature, s.top_k, s.every_steps) == ("the", sd.TIMELINE_MAX_LENGTH,
                                                                              0.5, 3, 50)
    items = session.timeline_items()
    assert len(items) == 1 and items[0].step == 1 and len(items[0].text) == sd.TIMELINE_MAX_LENGTH
    session.step_once()
    with session.lock:
        session.timeline.take(session.trainer)
    table = sd.timeline_table(session.timeline_items())
    assert table["step"].tolist() == [2, 1]  # newest first
    assert "\n" not in "".join(table["sample"])
    assert "About every 50 steps" in sd.describe_settings(s)
