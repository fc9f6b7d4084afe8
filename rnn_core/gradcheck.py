"""Gradient check: backprop's gradients against centred finite differences, for any cell."""

from __future__ import annotations

import numpy as np

from rnn_core.cells import Forward, cell_of
from rnn_core.model import Params


def backward(params: Params, fw: Forward) -> tuple[Params, np.ndarray]:
    """The cell's gradients of the chunk loss (and dL/dh(t)); the cell is known by the weights."""
    return cell_of(params).gradients(params, fw)


def grad_check(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray,
               eps: float = 1e-5, max_entries: int | None = None,
               rng: np.random.Generator | None = None) -> dict[str, float]:
    """Relative error ||g_backprop - g_numeric|| / (||g_backprop|| + ||g_numeric||) per parameter.

    The cell is known by the weights' names; h0 is the state carried in, (B, C) as the cell's
    forward takes it (h for the RNN and the GRU, h and s side by side for the LSTM). Runs in
    float64 whatever the parameters' dtype. Checks every entry, or `max_entries` random entries
    of each parameter (the app's quick check). Below about 1e-6 means backprop is right.
    """
    cell = cell_of(params)
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    h64 = h0.astype(np.float64)
    grads, _ = backward(p64, cell.forward(p64, inputs, targets, h64))
    rng = rng or np.random.default_rng(0)
    errors = {}
    for name in cell.PARAM_NAMES:
        flat = np.arange(p64[name].size)
        if max_entries is not None and max_entries < flat.size:
            flat = rng.choice(flat, size=max_entries, replace=False)
        idx = [np.unravel_index(i, p64[name].shape) for i in flat]
        analytic = np.array([grads[name][i] for i in idx])
        numeric = np.empty(len(idx))
        for n, i in enumerate(idx):  # nudge one weight at a time, then put it back
            w = p64[name][i]
            p64[name][i] = w + eps
            plus = cell.forward(p64, inputs, targets, h64).loss
            p64[name][i] = w - eps
            minus = cell.forward(p64, inputs, targets, h64).loss
            p64[name][i] = w
            numeric[n] = (plus - minus) / (2 * eps)
        denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
        errors[name] = float(np.linalg.norm(analytic - numeric) / denom) if denom > 0 else 0.0
    return errors
