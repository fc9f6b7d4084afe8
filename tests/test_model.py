"""The model: initialisation, forward and backward over a chunk, batched over streams."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.layout import FlatParams
from rnn_core.model import (
    PARAM_NAMES,
    backward,
    forward,
    init_params,
    input_terms,
    loss_and_grads,
    param_shapes,
    softmax,
    softmax_nll,
)

H, K, T = 6, 5, 7


def setup(B: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = init_params(H, K, rng)
    params["b"] = rng.normal(0, 0.3, H)  # nonzero biases, so a bias bug would show
    params["c"] = rng.normal(0, 0.3, K)
    inputs = rng.integers(0, K, size=(T, B))
    targets = rng.integers(0, K, size=(T, B))
    h0 = rng.uniform(-0.8, 0.8, size=(B, H))
    return params, inputs, targets, h0


def test_init_shapes_bounds_and_dtypes():
    assert param_shapes(H, K) == {"U": (H, K), "W": (H, H), "V": (K, H), "b": (H,), "c": (K,)}
    params = init_params(40, 30, np.random.default_rng(0))
    assert {k: a.shape for k, a in params.items()} == param_shapes(40, 30)
    assert all(a.dtype == np.float64 for a in params.values())
    # the article's U(-1/sqrt(n), 1/sqrt(n)), n the fan-in; it fills the interval
    assert 0.9 / math.sqrt(30) < np.abs(params["U"]).max() <= 1 / math.sqrt(30)
    for k in ("W", "V"):
        assert 0.9 / math.sqrt(40) < np.abs(params[k]).max() <= 1 / math.sqrt(40)
    assert not params["b"].any() and not params["c"].any()
    randn = init_params(40, 30, np.random.default_rng(0), "randn", np.float32)
    assert all(a.dtype == np.float32 for a in randn.values())
    assert np.std(randn["W"]) == pytest.approx(0.01, rel=0.1)
    with pytest.raises(ValueError, match="init"):
        init_params(4, 3, np.random.default_rng(0), "xavier")


def test_init_is_reproducible_from_the_generator():
    a = init_params(8, 5, np.random.default_rng(42))
    b = init_params(8, 5, np.random.default_rng(42))
    c = init_params(8, 5, np.random.default_rng(43))
    assert all(np.array_equal(a[k], b[k]) for k in PARAM_NAMES)
    assert not np.array_equal(a["W"], c["W"])


def test_forward_is_the_article_recurrence():
    params, inputs, targets, h0 = setup(B=2)
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    h0_copy = h0.copy()
    fw = forward(params, inputs, targets, h0)
    assert fw.hs.shape == (T + 1, 2, H) and fw.ps.shape == (T, 2, K) and fw.losses.shape == (T, 2)
    np.testing.assert_array_equal(fw.hs[0], h0)
    np.testing.assert_array_equal(h0, h0_copy)  # the carried state is not modified
    for s in range(2):
        h = h0[s]
        total = 0.0
        for t in range(T):
            h = np.tanh(U[:, inputs[t, s]] + W @ h + b)
            o = V @ h + c
            y = np.exp(o) / np.exp(o).sum()
            np.testing.assert_allclose(fw.hs[t + 1, s], h, rtol=1e-12)
            np.testing.assert_allclose(fw.ps[t, s], y, rtol=1e-12)
            assert fw.losses[t, s] == pytest.approx(-math.log(y[targets[t, s]]), rel=1e-12)
            total += -math.log(y[targets[t, s]])
        assert fw.losses[:, s].sum() == pytest.approx(total, rel=1e-12)
    assert fw.loss == pytest.approx(fw.losses.sum(axis=0).mean(), rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_stays_finite_where_a_probability_underflows(dtype):
    # Logits hundreds apart: exp underflows and the target's probability is 0, but its -log is
    # the log-sum-exp minus its logit, a finite number (computed here in float64 from scratch).
    params, inputs, targets, h0 = setup(B=3)
    params = init_params(H, K, np.random.default_rng(1), dtype=dtype)
    params["V"][...] = 0.0
    params["c"][...] = np.arange(K) * 1000.0  # the last character is certain
    targets = np.where(targets == K - 1, 0, targets)  # and never the target
    fw = forward(params, inputs, targets, h0.astype(dtype))
    assert (np.take_along_axis(fw.ps, targets[..., None], axis=2) == 0).all()
    c = params["c"].astype(np.float64)
    expected = (c.max() + np.log(np.exp(c - c.max()).sum())) - c[targets]
    np.testing.assert_allclose(fw.losses, expected, rtol=1e-6)
    assert np.isfinite(fw.loss) and fw.losses.dtype == dtype


def test_backward_into_a_given_buffer_overwrites_every_entry():
    params, inputs, targets, h0 = setup(B=2)
    fw = forward(params, inputs, targets, h0)
    fresh, norms = backward(params, fw)
    out = FlatParams.empty(param_shapes(H, K), np.float64)
    out.flat()[...] = np.nan  # whatever the buffer held before
    grads, norms_out = backward(params, fw, out)
    assert grads is out and out.flat() is not None
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(grads[k], fresh[k])
    np.testing.assert_array_equal(norms_out, norms)


def test_streams_are_independent_and_combined_by_the_mean():
    # B streams in one pass == B single-stream passes: loss is their mean, gradients the mean of
    # theirs, and each stream's ||dL/dh(t)|| is that of its own loss.
    B = 4
    params, inputs, targets, h0 = setup(B=B, seed=1)
    fw = forward(params, inputs, targets, h0)
    grads, dh_norms = backward(params, fw)
    assert dh_norms.shape == (T, B)
    singles = []
    for s in range(B):
        fw_s = forward(params, inputs[:, s : s + 1], targets[:, s : s + 1], h0[s : s + 1])
        g_s, n_s = backward(params, fw_s)
        singles.append((fw_s.loss, g_s))
        np.testing.assert_allclose(fw.hs[:, s], fw_s.hs[:, 0], rtol=1e-13)
        np.testing.assert_allclose(dh_norms[:, s], n_s[:, 0], rtol=1e-12)
    assert fw.loss == pytest.approx(np.mean([loss for loss, _ in singles]), rel=1e-13)
    for k in PARAM_NAMES:
        mean = np.mean([g[k] for _, g in singles], axis=0)
        np.testing.assert_allclose(grads[k], mean, rtol=1e-11, atol=1e-14)


def test_backward_shapes_and_structure():
    params, inputs, targets, h0 = setup(B=3, seed=2)
    saved = {k: a.copy() for k, a in params.items()}
    loss, grads, fw = loss_and_grads(params, inputs, targets, h0)
    assert loss == fw.loss
    assert {k: g.shape for k, g in grads.items()} == param_shapes(H, K)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(params[k], saved[k])  # backward leaves weights alone
    # U x(t) reads column x(t): characters never input get no gradient in U, the others do
    inputs = np.where(inputs == 1, 0, inputs)  # character 1 is never an input here
    _, grads, _ = loss_and_grads(params, inputs, targets, h0)
    assert not grads["U"][:, 1].any()
    used = np.unique(inputs)
    assert 1 not in used and np.abs(grads["U"][:, used]).min(axis=0).max() > 0
    # softmax + cross-entropy: dL/dc sums to 0 (each y - onehot sums to 0)
    assert abs(grads["c"].sum()) < 1e-12
    assert np.all(np.isfinite(fw.hs[-1]))


def test_float32_stays_float32_and_agrees_with_float64():
    params, inputs, targets, h0 = setup(B=2, seed=3)
    p32 = {k: a.astype(np.float32) for k, a in params.items()}
    fw32 = forward(p32, inputs, targets, h0.astype(np.float32))
    g32, _ = backward(p32, fw32)
    assert fw32.hs.dtype == np.float32 and all(g.dtype == np.float32 for g in g32.values())
    fw64 = forward(params, inputs, targets, h0)
    g64, _ = backward(params, fw64)
    assert fw32.loss == pytest.approx(fw64.loss, rel=1e-5)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-3, atol=1e-5)


def test_dh_norms_show_the_gradient_flowing_back_in_time():
    # with a tiny W almost nothing flows back: ||dL/dh(t)|| is just the output's own share
    params, inputs, targets, h0 = setup(B=1, seed=4)
    params["W"] = params["W"] * 1e-6
    fw = forward(params, inputs, targets, h0)
    _, norms = backward(params, fw)
    dy = fw.ps[:, 0].copy()
    dy[np.arange(T), targets[:, 0]] -= 1
    np.testing.assert_allclose(norms[:, 0], np.linalg.norm(dy @ params["V"], axis=1), rtol=1e-4)


# --- the speed helpers, pinned to the plain formulas ----------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spread", [3.0, 80.0, 1e4])  # within exp's range, near its edge, far out
def test_softmax_nll_is_softmax_and_minus_log_p(dtype, spread):
    rng = np.random.default_rng(int(spread))
    o = (rng.normal(size=(40, 9)) * spread).astype(dtype)
    targets = rng.integers(0, 9, 40)
    expected_y = softmax(o.astype(np.float64))
    z = o.astype(np.float64) - o.astype(np.float64).max(axis=1, keepdims=True)
    expected_nll = np.log(np.exp(z).sum(axis=1)) - z[np.arange(40), targets]  # -log y[target]
    y = o.copy()
    nll = softmax_nll(y, targets)
    assert y.dtype == nll.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y, expected_y, rtol=tol, atol=1e-30)
    np.testing.assert_allclose(nll, expected_nll, rtol=tol, atol=tol)  # log(1 + tiny): absolute
    if spread < 10:  # no underflow: -log of the probability itself
        np.testing.assert_allclose(nll, -np.log(expected_y[np.arange(40), targets]), rtol=tol)


@pytest.mark.parametrize("shape", [(3, 1), (7, 2), (25, 32)])  # T*B below and above K
def test_input_terms_are_U_x_plus_b(shape):
    params, _, _, _ = setup(B=1)
    inputs = np.random.default_rng(0).integers(0, K, size=shape)
    U, b = params["U"], params["b"]
    got = input_terms(U, b, inputs)
    for t in range(shape[0]):
        for s in range(shape[1]):
            x = np.zeros(K)
            x[inputs[t, s]] = 1.0
            np.testing.assert_array_equal(got[t, s], U @ x + b)
