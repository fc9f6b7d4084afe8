"""Gradient check: backprop's gradients against centred finite differences."""

from __future__ import annotations

import numpy as np

from rnn_core.model import PARAM_NAMES, Params, backward, forward


def grad_check(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray,
               eps: float = 1e-5, max_entries: int | None = None,
               rng: np.random.Generator | None = None) -> dict[str, float]:
    """Relative error ||g_backprop - g_numeric|| / (||g_backprop|| + ||g_numeric||) per parameter.

    Runs in float64 whatever the parameters' dtype. Checks every entry, or `max_entries` random
    entries of each parameter (the app's quick check). Below about 1e-6 means backprop is right.
    """
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    h64 = h0.astype(np.float64)
    grads, _ = backward(p64, forward(p64, inputs, targets, h64))
    rng = rng or np.random.default_rng(0)
    errors = {}
    for name in PARAM_NAMES:
        flat = np.arange(p64[name].size)
        if max_entries is not None and max_entries < flat.size:
            flat = rng.choice(flat, size=max_entries, replace=False)
        idx = [np.unravel_index(i, p64[name].shape) for i in flat]
        analytic = np.array([grads[name][i] for i in idx])
        numeric = np.empty(len(idx))
        for n, i in enumerate(idx):  # nudge one weight at a time, then put it back
            w = p64[name][i]
            p64[name][i] = w + eps
            plus = forward(p64, inputs, targets, h64).loss
            p64[name][i] = w - eps
            minus = forward(p64, inputs, targets, h64).loss
            p64[name][i] = w
            numeric[n] = (plus - minus) / (2 * eps)
        denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
        errors[name] = float(np.linalg.norm(analytic - numeric) / denom) if denom > 0 else 0.0
    return errors
