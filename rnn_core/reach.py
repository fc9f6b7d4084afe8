"""How far back each prediction's gradient reaches: the chunk's gradient itemized by prediction
(the itemized gradients of RNNbow, Cashman et al.), for ONE stream.

The chunk loss is a sum of one term per prediction, L = sum_t L(t) with L(t) = -log y(t)[target(t)],
so its gradient at a hidden state is a sum of the terms' gradients:

    dL/dh(s) = sum_{t >= s} dL(t)/dh(s)            (dL(t)/dh(s) = 0 for s > t: h(s) comes after y(t))

Each term is one backward pass of its own, from t back to 0:

    do(t)            = y(t) - onehot(target(t))
    dL(t)/dh(t)      = V^T do(t)
    dL(t)/dh(s - 1)  = W^T ((1 - h(s)^2) * dL(t)/dh(s))        s = t, t-1, ..., 1   (the RNN)

and G[t, s] = ||dL(t)/dh(s)|| is how much of prediction t's gradient reaches t - s steps back.
All T passes run at once: stepping s back from T-1 to 0, the rows t >= s of a (T - s, H) block are
live, and a pass joins the block at its own step (s = t). Computed in float64 whatever the
params' dtype; above the diagonal (s > t) the entries are exact zeros, the true derivative.
s runs over the chunk's own states h(0)..h(T-1); the state carried in, h(-1), is not itemized.

Any cell: the step back is the cell's own (`step_back` of rnn_core/cells.py), on its whole carried
state. For the LSTM that is h and the cell state s: dL(t)/ds(t) starts at 0 (y(t) reads h(t)
only), and what flows back along s reaches h(s) through the gates. dL(t)/dh(s) is then the
gradient at h(s) with s(s) held, the dh the trainer's backward pass sums up.

Cost: one forward pass and about T^2 / 2 products of an H-vector with W (T^2 H^2 flops). For
T=25, H=128, K=103, `itemized_gradients` took about 2.0 ms per call, float64 or float32 params
alike (timeit, best of 9 x 500 calls, one BLAS thread as tune_process() sets, NumPy 2.4, on a
2-core Intel Xeon VM at load average ~7 from other jobs, so an idle machine does better); about
0.8 ms of it is the forward pass. It is meant to run on demand for one stream (the Inspect page),
never in the training step.
"""

from __future__ import annotations

import numpy as np

from rnn_core.cells import cell_of, hidden_size
from rnn_core.layout import FlatParams
from rnn_core.model import Params


def itemized_dh(params: Params, inputs: np.ndarray, targets: np.ndarray,
                h0: np.ndarray) -> np.ndarray:
    """dL(t)/dh(s) for every prediction t and step s (T, T, H), float64, indexed [t, s].

    inputs, targets: (T,) ints; h0: (C,) the state carried in (h(-1); for the LSTM h(-1) and s(-1)
    side by side, ChunkTrace.carry_prev). The cell is known by the weights' names. Summed over t,
    the vectors are the chunk loss's dL/dh(s), the dh of the cell's gradients for this stream.
    """
    cell = cell_of(params)
    inputs, targets, h0 = _one_stream(params, inputs, targets, h0)
    p64 = FlatParams(params, np.float64)      # one buffer: the gated cells' W as one view
    V = p64["V"]
    T, H, C = len(inputs), hidden_size(p64), len(h0)
    fw = cell.forward(p64, inputs[:, None], targets[:, None], h0[None, :])
    do = fw.ps[:, 0].copy()                   # (T, K) y(t)
    do[np.arange(T), targets] -= 1.0          # y(t) - onehot(target(t))
    d = np.zeros((T, T, C))                   # (T, T, C) dL(t)/d carry(s) [t, s]; 0 for s > t
    diag = np.arange(T)
    d[diag, diag, :H] = do @ V                # (T, H) dL(t)/dh(t) = V^T do(t), as rows
    for s in range(T - 1, 0, -1):
        live = d[s:, s]                       # (T-s, C) dL(t)/d carry(s) for t >= s
        d[s:, s - 1] = cell.step_back(p64, fw, s, live)  # RNN: W^T ((1 - h(s)^2) * dL(t)/dh(s))
    return np.ascontiguousarray(d[:, :, :H])


def itemized_gradients(params: Params, inputs: np.ndarray, targets: np.ndarray,
                       h0: np.ndarray) -> np.ndarray:
    """G[t, s] = ||dL(t)/dh(s)|| (T, T), float64: row t is how far prediction t's gradient reaches
    back, column s what reaches step s. 0 above the diagonal (s > t), where it is exactly 0.
    inputs, targets: (T,) ints; h0: (C,) as for itemized_dh."""
    dh = itemized_dh(params, inputs, targets, h0)  # (T, T, H)
    return np.sqrt(np.einsum("tsh,tsh->ts", dh, dh))


def reach_by_distance(G: np.ndarray, geometric: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The mean of G[t, s] over the T - d pairs with t - s = d, for d = 0..T-1: (distances (T,)
    int, means (T,) float64). Only s <= t is read. The chart of means against d falls off as the
    gradient vanishes with distance; at d = T-1 it rests on a single pair.

    Arithmetic by default: what reaches distance d in the chunk's gradient is the sum of those
    terms, so the large ones are what matter, and it stays defined when some norms are exactly 0.
    `geometric=True` gives the geometric mean instead: the typical pair, not swayed by one large
    term when the norms span decades (the better line on a log axis); 0 if any pair is 0.
    """
    G = np.asarray(G, dtype=np.float64)
    T = G.shape[0]
    if G.shape != (T, T):
        raise ValueError(f"G must be square (T, T), got shape {G.shape}")
    distances = np.arange(T)
    if geometric:
        with np.errstate(divide="ignore"):  # log(0) = -inf, whose exp is the mean 0
            means = [np.exp(np.log(np.diagonal(G, -d)).mean()) for d in distances]
    else:
        means = [np.diagonal(G, -d).mean() for d in distances]
    return distances, np.array(means, dtype=np.float64)


def last_prediction_flow(G: np.ndarray) -> np.ndarray:
    """||dL(T-1)/dh(s)|| for s = 0..T-1 (T,): the last prediction's gradient alone going back
    through the chunk, the fading made visible (the last row of G, a copy)."""
    return np.array(G[-1], dtype=np.float64)


def _one_stream(params: Params, inputs: np.ndarray, targets: np.ndarray,
                h0: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    h0 = np.asarray(h0, dtype=np.float64)
    C = cell_of(params).carry_size(hidden_size(params))
    if inputs.ndim != 1 or inputs.shape != targets.shape or len(inputs) < 1:
        raise ValueError(f"inputs and targets must be (T,) with T >= 1, got {inputs.shape} "
                         f"and {targets.shape}")
    if h0.shape != (C,):
        raise ValueError(f"h0 must be ({C},), got {h0.shape}")
    return inputs, targets, h0
