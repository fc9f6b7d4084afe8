"""Backprop against centred finite differences, for every parameter, in float64."""

from __future__ import annotations

import numpy as np
import pytest

import rnn_core.gradcheck as gradcheck_module
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
