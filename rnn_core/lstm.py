"""Long short-term memory (LSTM), forward and backward over one chunk, batched over streams: the
remedy for the vanishing gradient that the article ends on.

    i(t) = σ(U_i x(t) + W_i h(t-1) + b_i)        input gate: how much of g(t) to write
    f(t) = σ(U_f x(t) + W_f h(t-1) + b_f)        forget gate: how much of s(t-1) to keep
    g(t) = tanh(U_g x(t) + W_g h(t-1) + b_g)     candidate
    o(t) = σ(U_o x(t) + W_o h(t-1) + b_o)        output gate: how much of the cell to show
    s(t) = f(t) * s(t-1) + i(t) * g(t)           cell state
    h(t) = o(t) * tanh(s(t))
    y(t) = softmax(V h(t) + c)                   the output, as the RNN's
    L    = mean over streams of  sum over t of  -log y(t)[target(t)]

* is element-wise, σ(z) = 1 / (1 + exp(-z)). Letters as in rnn_core/model.py (T, B, H, K; U x(t) is
column x(t) of U); here o(t) is the output gate, as in most texts, and the output's logits are
just V h(t) + c. The cell state is s, not the usual c, which is the output bias. Along s the
gradient flows back through f(t) alone, no weight matrix and no squashing: with the forget gate
open it reaches far back.

Parameters, and the usual names (e.g. Wikipedia's "Long short-term memory", where W multiplies the
input and U the previous state, the other way round from the article's RNN):

    here   U_i  U_f  U_g  U_o  (H, K)      W_i  W_f  W_g  W_o  (H, H)     b_i  b_f  b_g  b_o  (H,)
    usual  W_i  W_f  W_c  W_o              U_i  U_f  U_c  U_o             b_i  b_f  b_c  b_o
    and V (K, H), c (K,) as in the RNN; s(t) is the usual c(t), g(t) the usual c~(t).

PyTorch's nn.LSTM stacks the same gates in the same order: weight_ih = [U_i; U_f; U_g; U_o],
weight_hh = [W_i; W_f; W_g; W_o], and bias_ih + bias_hh = [b_i; b_f; b_g; b_o].

A stream carries h and s from one chunk into the next, side by side in one (B, 2H) array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core import gated, model
from rnn_core.layout import FlatParams, stacked
from rnn_core.model import Params, input_terms, scatter_columns

NAME = "lstm"
GATES = ("i", "f", "g", "o")  # the order of the gates wherever they are stacked
SIGMOID_GATES = ("i", "f", "o")
PARAM_NAMES = gated.param_names(GATES)
U_NAMES, W_NAMES, B_NAMES = (tuple(f"{m}_{g}" for g in GATES) for m in "UWb")
CARRY = ("h", "s")
FORGET_BIAS = 1.0  # b_f's initial value


def carry_size(H: int) -> int:
    """Numbers per stream in the carried state: h(t) and s(t)."""
    return 2 * H


def param_shapes(H: int, K: int) -> dict[str, tuple[int, ...]]:
    return gated.param_shapes(GATES, H, K)


def init_params(H: int, K: int, rng: np.random.Generator, scheme: str = "uniform",
                dtype: np.dtype | type = np.float64) -> FlatParams:
    """Initial weights as the RNN's (rnn_core/gated.py), except b_f = 1: the forget gate starts
    mostly open (σ(1) = 0.73), so the cell keeps what it holds from the first step on (Gers et
    al. 2000; Jozefowicz et al. 2015)."""
    return gated.init_params(GATES, H, K, rng, scheme, dtype, biases={"b_f": FORGET_BIAS})


@dataclass
class Forward(model.Forward):
    """The RNN's Forward (inputs, targets, hs, ps, losses, loss), plus what the LSTM's backward
    pass needs."""

    ss: np.ndarray      # (T+1, B, H): ss[0] = s(-1) carried in, ss[t+1] = s(t)
    acts: np.ndarray    # (T, B, 4, H): i(t), f(t), g(t), o(t)
    tanh_s: np.ndarray  # (T, B, H): tanh(s(t))

    @property
    def carry(self) -> np.ndarray:
        """(B, 2H) what each stream carries into its next chunk: h(T-1) and s(T-1) side by side."""
        return np.concatenate((self.hs[-1], self.ss[-1]), axis=1)

    @property
    def states(self) -> dict[str, np.ndarray]:
        """h and s (T+1, B, H) each, [0] the ones carried in."""
        return {"h": self.hs, "s": self.ss}

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """i, f, g, o (T, B, H) each (views)."""
        return {name: self.acts[:, :, k] for k, name in enumerate(GATES)}


def _sigmoid_columns(H: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(4H,) scale and offset. σ(z) = tanh(z / 2) / 2 + 1/2, so one tanh over all four gates'
    pre-activations, with those of i, f, o halved beforehand, times `scale` plus `offset` gives
    σ for i, f, o and tanh for g: scale is 1/2 in their columns (1 in g's), offset 1/2 (0)."""
    sig = np.repeat([g in SIGMOID_GATES for g in GATES], H)
    return np.where(sig, 0.5, 1.0).astype(dtype), np.where(sig, 0.5, 0.0).astype(dtype)


def forward(params: Params, inputs: np.ndarray, targets: np.ndarray, carry0: np.ndarray) -> Forward:
    """Run the LSTM over a chunk. inputs, targets: (T, B) ints; carry0: (B, 2H), h(-1) and s(-1)."""
    # The gates' weights as one matrix each (views of the weights' buffer): rows gate by gate.
    U, W, b = (stacked(params, names) for names in (U_NAMES, W_NAMES, B_NAMES))  # (4H, K) (4H, H) (4H,)
    T, B = inputs.shape
    H = W.shape[1]
    dtype = W.dtype
    scale, offset = _sigmoid_columns(H, dtype)    # (4H,) each
    WT = np.empty((H, 4 * H), dtype)              # rows are streams: h @ W^T
    np.multiply(W.T, scale, out=WT)               # (H, 4H), σ gates' columns halved
    xz = input_terms(U * scale[:, None], b * scale, inputs)  # (T, B, 4H) U x(t) + b, halved alike
    hs = np.empty((T + 1, B, H), dtype)
    ss = np.empty((T + 1, B, H), dtype)
    acts = np.empty((T, B, 4, H), dtype)
    tanh_s = np.empty((T, B, H), dtype)
    hs[0], ss[0] = carry0[:, :H], carry0[:, H:]
    for t in range(T):
        z = acts[t].reshape(B, 4 * H)            # (B, 4H) the four gates side by side
        hs[t].dot(WT, out=z)                     # W h(t-1), all gates in one product
        z += xz[t]                               # + U x(t) + b
        np.tanh(z, out=z)
        z *= scale                               # σ for i, f, o; tanh for g
        z += offset
        i, f, g, o = acts[t].swapaxes(0, 1)      # (B, H) each
        s = ss[t + 1]                            # (B, H)
        np.multiply(f, ss[t], out=s)             # f(t) * s(t-1)
        s += i * g                               # + i(t) * g(t)
        np.tanh(s, out=tanh_s[t])
        np.multiply(o, tanh_s[t], out=hs[t + 1])  # h(t) = o(t) * tanh(s(t))
    ps, losses = gated.output(hs, params["V"], params["c"], targets)  # (T, B, K), (T, B)
    return Forward(inputs, targets, hs, ps, losses, ss=ss, acts=acts, tanh_s=tanh_s)


def _local_derivatives(acts: np.ndarray, tanh_s: np.ndarray,
                       s_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What one step back multiplies by, for any leading shape (all t and streams, or one step):
    dz_gates (..., 4, H): each gate's pre-activation per unit of ds(t) (i, f, g) or of dh(t) (o);
    ds_dh (..., H): ds(t) per unit of dh(t). σ' = σ (1 - σ), tanh' = 1 - tanh^2."""
    i, f, g, o = np.moveaxis(acts, -2, 0)        # (..., H) each
    dz_gates = np.empty_like(acts)
    dz_i, dz_f, dz_g, dz_o = np.moveaxis(dz_gates, -2, 0)  # written in place: no temporaries
    np.multiply(g, i, out=dz_i)
    dz_i *= 1 - i                                # dz_i / ds = g i (1 - i)
    np.multiply(s_prev, f, out=dz_f)
    dz_f *= 1 - f                                # dz_f / ds = s(t-1) f (1 - f)
    np.multiply(g, g, out=dz_g)
    np.subtract(1, dz_g, out=dz_g)
    np.multiply(i, dz_g, out=dz_g)               # dz_g / ds = i (1 - g^2)
    np.multiply(tanh_s, o, out=dz_o)
    dz_o *= 1 - o                                # dz_o / dh = tanh(s) o (1 - o)
    ds_dh = tanh_s * tanh_s
    np.subtract(1, ds_dh, out=ds_dh)
    ds_dh *= o                                   # ds / dh = o (1 - tanh(s)^2)
    return dz_gates, ds_dh


def gradients(params: Params, fw: Forward, out: FlatParams | None = None) -> tuple[FlatParams, np.ndarray]:
    """Backpropagation through time over the chunk: the gradients of the chunk loss (keys
    PARAM_NAMES, a FlatParams: `out` when given) and each stream's own dL/dh(t) (T, B, H).

        dy(t)   = y(t) - onehot(target(t))        dV = sum_t dy(t) h(t)^T      dc = sum_t dy(t)
        dh(t)   = V^T dy(t) + sum over gates G of W_G^T dz_G(t+1)
        ds(t)   = dh(t) * o(t) * (1 - tanh(s(t))^2) + f(t+1) * ds(t+1)
        dz_i(t) = ds(t) * g(t) * i(t) * (1 - i(t))          (dz_G: G's pre-activation)
        dz_f(t) = ds(t) * s(t-1) * f(t) * (1 - f(t))
        dz_g(t) = ds(t) * i(t) * (1 - g(t)^2)
        dz_o(t) = dh(t) * tanh(s(t)) * o(t) * (1 - o(t))
        dW_G = sum_t dz_G(t) h(t-1)^T    dU_G = sum_t dz_G(t) x(t)^T    db_G = sum_t dz_G(t)

    dh(t) is the gradient at h(t) with s(t) held (what s(t) passes on goes through ds), as the
    RNN's; the itemized gradients (rnn_core/reach.py) sum to it.
    """
    W = stacked(params, W_NAMES)                 # (4H, H)
    V = params["V"]
    T, B = fw.inputs.shape
    K, H = V.shape
    N = T * B
    dtype = W.dtype
    grads = FlatParams.empty(param_shapes(H, K), dtype) if out is None else out
    dU, dW, db = (stacked(grads, names, view=True) for names in (U_NAMES, W_NAMES, B_NAMES))
    # For the sum of the streams' losses (divided by B at the end, as in the RNN).
    dh = gated.output_backward(fw.ps, fw.targets, fw.hs, V, grads["V"], grads["c"])  # (T, B, H)
    dz_gates, ds_dh = _local_derivatives(fw.acts, fw.tanh_s, fw.ss[:-1])  # (T, B, 4, H), (T, B, H)
    f = fw.acts[:, :, 1]                         # (T, B, H) f(t)
    dz = np.empty((T, B, 4, H), dtype)           # dz_i, dz_f, dz_g, dz_o
    ds = np.empty((B, H), dtype)                 # ds(t)
    ds_next = np.zeros((B, H), dtype)            # f(t+1) * ds(t+1)
    dh_next = np.empty((B, H), dtype)            # W^T dz(t+1), rows are streams: dz @ W
    for t in reversed(range(T)):
        if t < T - 1:
            dh[t] += dh_next                     # dh(t) = V^T dy(t) + W^T dz(t+1)
        np.multiply(dh[t], ds_dh[t], out=ds)     # ds(t) = dh(t) * o(t) * (1 - tanh(s(t))^2)
        ds += ds_next                            #         + f(t+1) * ds(t+1)
        np.multiply(dz_gates[t, :, :3], ds[:, None], out=dz[t, :, :3])  # dz_i, dz_f, dz_g
        np.multiply(dz_gates[t, :, 3], dh[t], out=dz[t, :, 3])          # dz_o
        np.multiply(ds, f[t], out=ds_next)
        if t:
            dz[t].reshape(B, 4 * H).dot(W, out=dh_next)
    dz2 = dz.reshape(N, 4 * H)
    np.dot(dz2.T, fw.hs[:-1].reshape(N, H), out=dW)  # (4H, H) sum_t dz(t) h(t-1)^T
    np.dot(np.ones(N, dtype), dz2, out=db)           # (4H,)
    scatter_columns(dU, fw.inputs.ravel(), dz2)      # (4H, K)
    if B > 1:  # the gradient of the mean over streams
        grads.flat()[...] /= B
    return grads, dh


def step(params: Params, x: int, carry: np.ndarray) -> np.ndarray:
    """One character of one stream, gate by gate (sampling): carry (2H,) = h(t-1), s(t-1) in,
    h(t), s(t) out."""
    H = params["W_i"].shape[0]
    h, s = carry[:H], carry[H:]                  # (H,) each

    def gate(G: str) -> np.ndarray:              # U_G x(t) + W_G h(t-1) + b_G
        return params[f"U_{G}"][:, x] + params[f"W_{G}"] @ h + params[f"b_{G}"]

    i, f, o = gated.sigmoid(gate("i")), gated.sigmoid(gate("f")), gated.sigmoid(gate("o"))
    g = np.tanh(gate("g"))
    s = f * s + i * g
    h = o * np.tanh(s)
    return np.concatenate((h, s))


def step_back(params: Params, fw: Forward, t: int, dcarry: np.ndarray, stream: int = 0) -> np.ndarray:
    """One step back through the cell for one stream of `fw`, on rows (rnn_core/reach.py): the
    gradients at h(t) and s(t) (n, 2H) -> at h(t-1) and s(t-1) (n, 2H), as in `gradients`."""
    H = fw.hs.shape[2]
    W = stacked(params, W_NAMES)                 # (4H, H)
    dz_gates, ds_dh = _local_derivatives(fw.acts[t, stream], fw.tanh_s[t, stream],
                                         fw.ss[t, stream])  # (4, H), (H,)
    dh, ds_next = dcarry[:, :H], dcarry[:, H:]   # (n, H) each
    ds = dh * ds_dh + ds_next                    # ds(t)
    dz = np.concatenate((dz_gates[:3] * ds[:, None], (dz_gates[3] * dh)[:, None]), axis=1)  # (n, 4, H)
    return np.concatenate((dz.reshape(len(dz), 4 * H) @ W, ds * fw.acts[t, stream, 1]), axis=1)
