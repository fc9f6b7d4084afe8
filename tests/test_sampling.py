"""Sampling from the weights: seed text, temperature, top-k, greedy, determinism, stable softmax."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from rnn_core.model import softmax
from rnn_core.sampling import MAX_SAMPLE_LENGTH, sample
from rnn_core.trainer import Trainer
from tests import cell_references as ref
from tests.rnn_support import small_corpus, tiny_config


@pytest.fixture(scope="module")
def model():
    """Weights trained a little on the small text, so distributions are far from uniform."""
    trainer = Trainer(small_corpus(), tiny_config(hidden=16))
    trainer.run(150)
    return trainer.snapshot_params(), trainer.corpus.vocab


def reference_greedy(params, vocab, seed_text, length):
    """Feed the seed, then repeatedly take the argmax of V h + c: the sequence greedy must give."""
    U, W, V, b, c = (params[k] for k in ("U", "W", "V", "b", "c"))
    h = np.zeros(W.shape[0])
    for ch in seed_text:
        h = np.tanh(U[:, vocab.stoi[ch]] + W @ h + b)
    out = []
    for _ in range(length):
        x = int(np.argmax(V @ h + c))
        out.append(vocab.chars[x])
        h = np.tanh(U[:, x] + W @ h + b)
    return "".join(out)


def test_same_seed_same_sample_and_different_seed_different_sample(model):
    params, vocab = model
    a = sample(params, vocab, 120, seed_text="the ", rng=7)
    b = sample(params, vocab, 120, seed_text="the ", rng=np.random.default_rng(7))
    c = sample(params, vocab, 120, seed_text="the ", rng=8)
    assert a.text == b.text and np.array_equal(a.ids, b.ids)
    assert a.text != c.text


def test_only_vocabulary_characters_and_the_requested_length(model):
    params, vocab = model
    for kwargs in ({}, {"temperature": 3.0}, {"top_k": 2}, {"greedy": True}):
        s = sample(params, vocab, 200, rng=1, **kwargs)
        assert len(s.text) == 200 == len(s.ids)
        assert set(s.text) <= set(vocab.chars)
        assert vocab.decode(s.ids) == s.text
    assert sample(params, vocab, 0, rng=1).text == ""


def test_greedy_is_the_argmax_sequence(model):
    params, vocab = model
    expected = reference_greedy(params, vocab, "the c", 60)
    assert sample(params, vocab, 60, seed_text="the c", greedy=True).text == expected
    assert len(set(expected)) > 1  # not a degenerate one-character answer


@pytest.mark.parametrize("temperature", [1e-6, 1e-30, 1e-310])
def test_temperature_to_zero_gives_the_argmax(model, temperature):
    params, vocab = model
    expected = reference_greedy(params, vocab, "a dog", 60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way to zero
        s = sample(params, vocab, 60, seed_text="a dog", temperature=temperature, rng=3, return_probs=True)
    assert s.text == expected
    assert np.array_equal(s.probs.max(axis=1), np.ones(60))


def test_top_k_one_is_greedy_and_top_k_limits_the_choices(model):
    params, vocab = model
    assert sample(params, vocab, 60, seed_text="the", top_k=1, rng=5).text == \
        reference_greedy(params, vocab, "the", 60)
    s = sample(params, vocab, 100, seed_text="the", top_k=3, rng=5, return_probs=True)
    assert ((s.probs > 0).sum(axis=1) <= 3).all()
    assert all(s.probs[i, x] > 0 for i, x in enumerate(s.ids))


def test_probabilities_are_the_tempered_softmax(model):
    params, vocab = model
    U, W, V, b, c = (params[k] for k in ("U", "W", "V", "b", "c"))
    h = np.zeros(W.shape[0])
    for ch in "the dog":
        h = np.tanh(U[:, vocab.stoi[ch]] + W @ h + b)
    o = V @ h + c
    for temperature in (0.5, 1.0, 2.0):
        s = sample(params, vocab, 5, seed_text="the dog", temperature=temperature, rng=0,
                   return_probs=True)
        assert s.probs.shape == (5, len(vocab))
        np.testing.assert_allclose(s.probs.sum(axis=1), 1.0)
        expected = np.exp(o / temperature) / np.exp(o / temperature).sum()
        np.testing.assert_allclose(s.probs[0], expected, rtol=1e-10)
    assert sample(params, vocab, 5, rng=0).probs is None


def test_seed_text_warms_up_the_state(model):
    params, vocab = model
    dists = {seed: sample(params, vocab, 1, seed_text=seed, rng=0, return_probs=True).probs[0]
             for seed in ("the c", "the d", "a m")}
    assert not np.allclose(dists["the c"], dists["the d"])
    assert not np.allclose(dists["the c"], dists["a m"])
    # after "the c" the model trained on "the cat" expects "a"
    assert vocab.chars[int(np.argmax(dists["the c"]))] == "a"


def test_float32_weights_sample_too(model):
    params, vocab = model
    p32 = {k: a.astype(np.float32) for k, a in params.items()}
    assert sample(p32, vocab, 40, seed_text="the", greedy=True).text == \
        reference_greedy(params, vocab, "the", 40)


@pytest.mark.parametrize("kwargs, match", [
    ({"seed_text": "the CAT"}, "never seen: 'ACT'"),
    ({"seed_text": "é"}, "never seen"),
    ({"temperature": 0.0}, "temperature"),
    ({"temperature": -1.0}, "temperature"),
    ({"temperature": float("nan")}, "temperature"),
    ({"top_k": -1}, "top_k"),
    ({"length": -1}, "length"),
    ({"length": MAX_SAMPLE_LENGTH + 1}, "length"),
])
def test_bad_arguments(model, kwargs, match):
    params, vocab = model
    with pytest.raises(ValueError, match=match):
        sample(params, vocab, **{"length": 10, **kwargs})


def test_naive_softmax_overflows_where_the_stable_one_does_not():
    o = np.array([1000.0, 0.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        naive = np.exp(o) / np.sum(np.exp(o))  # min-char-rnn's softmax: inf / inf
    assert np.isnan(naive).any()
    assert any(w.category is RuntimeWarning and "overflow" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stable = softmax(o)
    np.testing.assert_array_equal(stable, [1.0, 0.0])
    # batched rows, large negative and equal logits
    rows = softmax(np.array([[-1000.0, -1001.0], [5.0, 5.0], [1e300, -1e300]]))
    np.testing.assert_allclose(rows, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1))],
                                      [0.5, 0.5], [1.0, 0.0]])


# --- the gated cells ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["lstm", "gru"])
def gated_model(request):
    trainer = Trainer(small_corpus(), tiny_config(cell=request.param, hidden=16))
    trainer.run(150)
    return request.param, trainer.snapshot_params(), trainer.corpus.vocab


def reference_run(name, params, vocab, seed_text, length):
    """Feed the seed, then take the argmax of V h + c, by the equations (tests/cell_references.py):
    the greedy text and the first distribution."""
    P = ref.columns(params)
    H, K = P["V"].shape[1], len(vocab)
    h, s = np.zeros((H, 1)), np.zeros((H, 1))

    def feed(x):
        nonlocal h, s
        if name == "lstm":
            step = ref.lstm_step(P, ref.one_hot(x, K), h, s)
            h, s = step["h"], step["s"]
        else:
            h = ref.gru_step(P, ref.one_hot(x, K), h)["h"]

    for ch in seed_text:
        feed(vocab.stoi[ch])
    first = softmax((P["V"] @ h + P["c"])[:, 0])
    out = []
    for _ in range(length):
        x = int(np.argmax(P["V"] @ h + P["c"]))
        out.append(vocab.chars[x])
        feed(x)
    return "".join(out), first


def test_a_gated_cell_samples_by_its_equations(gated_model):
    name, params, vocab = gated_model
    expected, first = reference_run(name, params, vocab, "the c", 60)
    assert sample(params, vocab, 60, seed_text="the c", greedy=True).text == expected
    assert len(set(expected)) > 1
    s = sample(params, vocab, 5, seed_text="the c", rng=0, return_probs=True)
    np.testing.assert_allclose(s.probs[0], first, rtol=1e-10)
    p32 = {k: a.astype(np.float32) for k, a in params.items()}
    assert sample(p32, vocab, 40, seed_text="the c", greedy=True).text == expected[:40]


def test_a_gated_cell_samples_reproducibly_within_the_vocabulary(gated_model):
    _, params, vocab = gated_model
    a, b = (sample(params, vocab, 150, seed_text="a ", rng=7) for _ in range(2))
    assert a.text == b.text and set(a.text) <= set(vocab.chars) and len(a.text) == 150
    assert sample(params, vocab, 150, seed_text="a ", rng=8).text != a.text
    assert sample(params, vocab, 30, rng=1, top_k=2).text  # no seed: a first character drawn
