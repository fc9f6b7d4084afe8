"""Backprop against centred finite differences, for every parameter, in float64."""

from __future__ import annotations

import numpy as np
import pytest

import rnn_core.gradcheck as gradcheck_module
from rnn_core.cells import get
from rnn_core.gradcheck import grad_check
from rnn_core.model import PARAM_NAMES, init_params


def chunk(B: int, seed: int, H: int = 7, K: int = 6, T: int = 8):
    rng = np.random.default_rng(seed)
    params = init_params(H, K, rng)
    # Weights large enough that every gradient is well above rounding (and tanh is non-linear).
    params = {k: v * 2.0 for k, v in params.items()}
    params["b"] = rng.normal(0, 0.5, H)
    params["c"] = rng.normal(0, 0.5, K)
    inputs = rng.integers(0, K, size=(T, B))
    targets = rng.integers(0, K, size=(T, B))
    h0 = rng.uniform(-0.9, 0.9, size=(B, H))  # a nonzero state carried in from a previous chunk
    return params, inputs, targets, h0


@pytest.mark.parametrize("B", [1, 3])
def test_every_parameter_passes_the_gradient_check(B):
    params, inputs, targets, h0 = chunk(B, seed=B)
    saved = {k: a.copy() for k, a in params.items()}
    errors = grad_check(params, inputs, targets, h0)
    assert set(errors) == set(PARAM_NAMES)
    for name, err in errors.items():
        assert err < 1e-6, (name, err)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(params[k], saved[k])  # every nudge was put back


def test_float32_parameters_are_checked_in_float64():
    params, inputs, targets, h0 = chunk(2, seed=5)
    p32 = {k: a.astype(np.float32) for k, a in params.items()}
    errors = grad_check(p32, inputs, targets, h0.astype(np.float32))
    assert max(errors.values()) < 1e-6
    assert all(a.dtype == np.float32 for a in p32.values())


def test_sampled_entries():
    params, inputs, targets, h0 = chunk(2, seed=6, H=20)
    errors = grad_check(params, inputs, targets, h0, max_entries=5, rng=np.random.default_rng(1))
    assert max(errors.values()) < 1e-6


def test_a_wrong_gradient_is_caught(monkeypatch):
    real_backward = gradcheck_module.backward

    def wrong_backward(params, fw):  # dW off by 1%
        grads, norms = real_backward(params, fw)
        grads = dict(grads, W=grads["W"] * 1.01)
        return grads, norms

    monkeypatch.setattr(gradcheck_module, "backward", wrong_backward)
    params, inputs, targets, h0 = chunk(1, seed=7)
    errors = grad_check(params, inputs, targets, h0)
    assert errors["W"] > 1e-3
    assert max(errors[k] for k in ("U", "V", "b", "c")) < 1e-6


# --- the gated cells ------------------------------------------------------------------------------


def gated_chunk(name: str, B: int, seed: int, H: int = 5, K: int = 6, T: int = 7):
    cell = get(name)
    rng = np.random.default_rng(seed)
    params = dict(cell.init_params(H, K, rng))
    for k, a in params.items():  # every gate clearly non-linear, nonzero biases
        params[k] = a * 2.0 if a.ndim == 2 else rng.normal(0, 0.5, a.shape)
    inputs = rng.integers(0, K, size=(T, B))
    targets = rng.integers(0, K, size=(T, B))
    carry0 = rng.uniform(-0.9, 0.9, size=(B, cell.carry_size(H)))  # h, and the LSTM's s
    return cell, params, inputs, targets, carry0


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_every_parameter_of_the_gated_cells_passes_the_gradient_check(name, B):
    cell, params, inputs, targets, carry0 = gated_chunk(name, B, seed=B)
    saved = {k: a.copy() for k, a in params.items()}
    errors = grad_check(params, inputs, targets, carry0)
    assert tuple(errors) == cell.PARAM_NAMES
    for k, err in errors.items():
        assert err < 1e-6, (k, err)
        np.testing.assert_array_equal(params[k], saved[k])
    p32 = {k: a.astype(np.float32) for k, a in params.items()}  # checked in float64 all the same
    assert max(grad_check(p32, inputs, targets, carry0.astype(np.float32), max_entries=4).values()) < 1e-6


@pytest.mark.parametrize("name, wrong", [("lstm", "W_f"), ("lstm", "b_o"), ("gru", "W_n"), ("gru", "U_r")])
def test_a_wrong_gate_gradient_is_caught(monkeypatch, name, wrong):
    real_backward = gradcheck_module.backward

    def wrong_backward(params, fw):  # one gate's gradient off by 1%
        grads, dh = real_backward(params, fw)
        return dict(grads, **{wrong: grads[wrong] * 1.01}), dh

    monkeypatch.setattr(gradcheck_module, "backward", wrong_backward)
    _, params, inputs, targets, carry0 = gated_chunk(name, 1, seed=7)
    errors = grad_check(params, inputs, targets, carry0)
    assert errors[wrong] > 1e-3
    assert max(e for k, e in errors.items() if k != wrong) < 1e-6
