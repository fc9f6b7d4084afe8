"""Gated recurrent unit (GRU), forward and backward over one chunk, batched over streams: the
LSTM's remedy for vanishing gradients with two gates and no separate cell state.

    r(t) = σ(U_r x(t) + W_r h(t-1) + b_r)               reset gate: how much of the past n(t) sees
    z(t) = σ(U_z x(t) + W_z h(t-1) + b_z)               update gate: how much of h(t-1) to keep
    n(t) = tanh(U_n x(t) + b_n + r(t) * (W_n h(t-1)))   candidate
    h(t) = z(t) * h(t-1) + (1 - z(t)) * n(t)
    y(t) = softmax(V h(t) + c)                          the output, as the RNN's
    L    = mean over streams of  sum over t of  -log y(t)[target(t)]

* is element-wise, σ(z) = 1 / (1 + exp(-z)); letters as in rnn_core/model.py (T, B, H, K; U x(t)
is column x(t) of U). Where z(t) is near 1, h(t) is h(t-1) and so is the gradient going back:
memory and its gradient pass through the update gate alone.

Variants: z(t) keeps the old state, as in Cho et al. 2014 and PyTorch (Wikipedia's z is 1 - z),
and the reset gate multiplies W_n h(t-1), as in PyTorch's nn.GRU and cuDNN, rather than h(t-1)
before W_n (Cho et al.): so one product W h(t-1) per step serves all three. PyTorch also adds a
second bias inside the reset, r(t) * (W_n h(t-1) + b_hn); here there is none (b_hn = 0).

Parameters, and the usual names (Wikipedia's "Gated recurrent unit", where W multiplies the input
and U the previous state, the other way round from the article's RNN):

    here   U_r  U_z  U_n  (H, K)      W_r  W_z  W_n  (H, H)      b_r  b_z  b_n  (H,)
    usual  W_r  W_z  W_h              U_r  U_z  U_h              b_r  b_z  b_h
    and V (K, H), c (K,) as in the RNN; n(t) is the usual candidate h^(t).

PyTorch's nn.GRU stacks the same gates in the same order: weight_ih = [U_r; U_z; U_n],
weight_hh = [W_r; W_z; W_n], bias_ih = [b_r; b_z; b_n] (with bias_hh = 0).

A stream carries h from one chunk into the next, (B, H), as the RNN's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core import gated, model
from rnn_core.layout import FlatParams, stacked
from rnn_core.model import Params, input_terms, scatter_columns

NAME = "gru"
GATES = ("r", "z", "n")  # the order of the gates wherever they are stacked; r and z are σ gates
PARAM_NAMES = gated.param_names(GATES)
U_NAMES, W_NAMES, B_NAMES = (tuple(f"{m}_{g}" for g in GATES) for m in "UWb")
CARRY = ("h",)


def carry_size(H: int) -> int:
    """Numbers per stream in the carried state: h(t)."""
    return H


def param_shapes(H: int, K: int) -> dict[str, tuple[int, ...]]:
    return gated.param_shapes(GATES, H, K)


def init_params(H: int, K: int, rng: np.random.Generator, scheme: str = "uniform",
                dtype: np.dtype | type = np.float64) -> FlatParams:
    """Initial weights as the RNN's (rnn_core/gated.py); biases start at zero."""
    return gated.init_params(GATES, H, K, rng, scheme, dtype)


@dataclass
class Forward(model.Forward):
    """The RNN's Forward (inputs, targets, hs, ps, losses, loss), plus what the GRU's backward
    pass needs."""

    acts: np.ndarray  # (T, B, 3, H): r(t), z(t), n(t)
    wh_n: np.ndarray  # (T, B, H): W_n h(t-1)

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """r, z, n (T, B, H) each (views)."""
        return {name: self.acts[:, :, k] for k, name in enumerate(GATES)}


def forward(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray) -> Forward:
    """Run the GRU over a chunk. inputs, targets: (T, B) ints; h0: (B, H)."""
    # The gates' weights as one matrix each (views of the weights' buffer): rows gate by gate.
    U, W, b = (stacked(params, names) for names in (U_NAMES, W_NAMES, B_NAMES))  # (3H, K) (3H, H) (3H,)
    T, B = inputs.shape
    H = W.shape[1]
    dtype = W.dtype
    # σ(z) = tanh(z / 2) / 2 + 1/2: r's and z's pre-activations are halved (exactly) beforehand.
    scale = np.repeat(np.array([0.5, 0.5, 1.0], dtype), H)   # (3H,)
    WT = np.empty((H, 3 * H), dtype)             # rows are streams: h @ W^T
    np.multiply(W.T, scale, out=WT)              # (H, 3H)
    xz = input_terms(U * scale[:, None], b * scale, inputs).reshape(T, B, 3, H)  # U x(t) + b
    hs = np.empty((T + 1, B, H), dtype)
    acts = np.empty((T, B, 3, H), dtype)
    wh = np.empty((T, B, 3, H), dtype)           # W h(t-1) (halved for r and z)
    hs[0] = h0
    for t in range(T):
        hs[t].dot(WT, out=wh[t].reshape(B, 3 * H))  # W h(t-1), all gates in one product
        rz = acts[t, :, :2]                      # (B, 2, H)
        np.add(wh[t, :, :2], xz[t, :, :2], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5                                # r(t), z(t)
        r, z, n = acts[t].swapaxes(0, 1)         # (B, H) each
        np.multiply(r, wh[t, :, 2], out=n)       # r(t) * (W_n h(t-1))
        n += xz[t, :, 2]                         # + U_n x(t) + b_n
        np.tanh(n, out=n)                        # n(t)
        h = hs[t + 1]                            # (B, H)
        np.subtract(hs[t], n, out=h)
        h *= z
        h += n                                   # h(t) = n(t) + z(t) * (h(t-1) - n(t))
    ps, losses = gated.output(hs, params["V"], params["c"], targets)  # (T, B, K), (T, B)
    return Forward(inputs, targets, hs, ps, losses, acts=acts, wh_n=wh[:, :, 2])


def _local_derivatives(acts: np.ndarray, wh_n: np.ndarray,
                       h_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What one step back multiplies by, for any leading shape (all t and streams, or one step):
    da_dh: n's pre-activation a_n(t) per unit of dh(t); dr_da: r's pre-activation per unit of
    da_n(t); dz_dh: z's pre-activation per unit of dh(t). σ' = σ (1 - σ), tanh' = 1 - tanh^2."""
    r, z, n = np.moveaxis(acts, -2, 0)           # (..., H) each
    one_minus_z = 1 - z
    da_dh = n * n                                # in place from here: no temporaries
    np.subtract(1, da_dh, out=da_dh)
    da_dh *= one_minus_z                         # (1 - z) (1 - n^2)
    dr_da = wh_n * r
    dr_da *= 1 - r                               # W_n h(t-1) r (1 - r)
    dz_dh = h_prev - n
    dz_dh *= z
    dz_dh *= one_minus_z                         # (h(t-1) - n) z (1 - z)
    return da_dh, dr_da, dz_dh


def gradients(params: Params, fw: Forward, out: FlatParams | None = None) -> tuple[FlatParams, np.ndarray]:
    """Backpropagation through time over the chunk: the gradients of the chunk loss (keys
    PARAM_NAMES, a FlatParams: `out` when given) and each stream's own dL/dh(t) (T, B, H).

        dy(t)   = y(t) - onehot(target(t))        dV = sum_t dy(t) h(t)^T      dc = sum_t dy(t)
        dh(t)   = V^T dy(t) + z(t+1) * dh(t+1) + sum over gates G of W_G^T dq_G(t+1)
        da_n(t) = dh(t) * (1 - z(t)) * (1 - n(t)^2)              (a_n: n's pre-activation)
        dz_r(t) = da_n(t) * (W_n h(t-1)) * r(t) * (1 - r(t))     (dz_G: G's pre-activation)
        dz_z(t) = dh(t) * (h(t-1) - n(t)) * z(t) * (1 - z(t))
        dq_G(t) = what reaches W_G h(t-1): dz_r(t), dz_z(t), and r(t) * da_n(t) for n
        dW_G = sum_t dq_G(t) h(t-1)^T    dU_G = sum_t dz_G(t) x(t)^T    db_G = sum_t dz_G(t)
                                         (with dz_n = da_n)
    """
    W = stacked(params, W_NAMES)                 # (3H, H)
    V = params["V"]
    T, B = fw.inputs.shape
    K, H = V.shape
    N = T * B
    dtype = W.dtype
    grads = FlatParams.empty(param_shapes(H, K), dtype) if out is None else out
    dU, dW, db = (stacked(grads, names, view=True) for names in (U_NAMES, W_NAMES, B_NAMES))
    # For the sum of the streams' losses (divided by B at the end, as in the RNN).
    dh = gated.output_backward(fw.ps, fw.targets, fw.hs, V, grads["V"], grads["c"])  # (T, B, H)
    da_dh, dr_da, dz_dh = _local_derivatives(fw.acts, fw.wh_n, fw.hs[:-1])  # (T, B, H) each
    r, z = fw.acts[:, :, 0], fw.acts[:, :, 1]    # (T, B, H) each
    dq = np.empty((T, B, 3, H), dtype)           # dq_r = dz_r, dq_z = dz_z, dq_n = r * da_n
    da_n = np.empty((T, B, H), dtype)
    dh_next = np.empty((B, H), dtype)            # z(t+1) * dh(t+1) + W^T dq(t+1)
    for t in reversed(range(T)):
        if t < T - 1:
            dh[t] += dh_next                     # dh(t) = V^T dy(t) + z(t+1) dh(t+1) + W^T dq(t+1)
        np.multiply(dh[t], da_dh[t], out=da_n[t])           # da_n(t)
        np.multiply(da_n[t], dr_da[t], out=dq[t, :, 0])     # dz_r(t)
        np.multiply(dh[t], dz_dh[t], out=dq[t, :, 1])       # dz_z(t)
        np.multiply(da_n[t], r[t], out=dq[t, :, 2])         # r(t) * da_n(t)
        if t:
            dq[t].reshape(B, 3 * H).dot(W, out=dh_next)     # W^T dq(t), rows are streams: dq @ W
            dh_next += dh[t] * z[t]                         # + z(t) * dh(t)
    dq2 = dq.reshape(N, 3 * H)
    np.dot(dq2.T, fw.hs[:-1].reshape(N, H), out=dW)  # (3H, H) sum_t dq(t) h(t-1)^T
    dq[:, :, 2] = da_n                           # the input side gets dz_n = da_n itself
    np.dot(np.ones(N, dtype), dq2, out=db)       # (3H,)
    scatter_columns(dU, fw.inputs.ravel(), dq2)  # (3H, K)
    if B > 1:  # the gradient of the mean over streams
        grads.flat()[...] /= B
    return grads, dh


def step(params: Params, x: int, h: np.ndarray) -> np.ndarray:
    """One character of one stream, gate by gate (sampling): h(t-1) (H,) in, h(t) out."""
    def gate(G: str) -> np.ndarray:              # U_G x(t) + W_G h(t-1) + b_G
        return params[f"U_{G}"][:, x] + params[f"W_{G}"] @ h + params[f"b_{G}"]

    r, z = gated.sigmoid(gate("r")), gated.sigmoid(gate("z"))
    n = np.tanh(params["U_n"][:, x] + params["b_n"] + r * (params["W_n"] @ h))
    return z * h + (1 - z) * n


def step_back(params: Params, fw: Forward, t: int, dh: np.ndarray, stream: int = 0) -> np.ndarray:
    """One step back through the cell for one stream of `fw`, on rows (rnn_core/reach.py):
    dL/dh(t) (n, H) -> dL/dh(t-1) (n, H), as in `gradients`."""
    W = stacked(params, W_NAMES)                 # (3H, H)
    r, z = fw.acts[t, stream, 0], fw.acts[t, stream, 1]  # (H,) each
    da_dh, dr_da, dz_dh = _local_derivatives(fw.acts[t, stream], fw.wh_n[t, stream],
                                             fw.hs[t, stream])  # (H,) each
    da_n = dh * da_dh                            # (n, H)
    dq = np.stack((da_n * dr_da, dh * dz_dh, da_n * r), axis=1)  # (n, 3, H)
    return dq.reshape(len(dh), -1) @ W + dh * z
