"""The vanilla RNN of the article, forward and backward over one chunk, batched over streams.

    h(t) = tanh(U x(t) + W h(t-1) + b)      o(t) = V h(t) + c      y(t) = softmax(o(t))
    L    = mean over streams of  sum over t of  -log y(t)[target(t)]

Dimension letters: T time steps of a chunk, B streams, H hidden units, K vocabulary size
(V is already a weight). x(t) is one-hot, so U x(t) is the column U[:, x(t)].
With B = 1 this is exactly one chunk of min-char-rnn.

This module is also the RNN's cell for the rest of rnn_core (rnn_core/cells.py): the LSTM
(rnn_core/lstm.py) and the GRU (rnn_core/gru.py) have the same names with the same meaning.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from rnn_core.layout import FlatParams

Params = dict[str, np.ndarray]  # keys PARAM_NAMES; gradients use the same keys
NAME = "rnn"
PARAM_NAMES = ("U", "W", "V", "b", "c")
CARRY = ("h",)  # what a stream carries from one chunk into the next
GATES: tuple[str, ...] = ()
INIT_SCHEMES = ("uniform", "randn")


def carry_size(H: int) -> int:
    """Numbers per stream in the carried state: h(t)."""
    return H


def param_shapes(H: int, K: int) -> dict[str, tuple[int, ...]]:
    return {"U": (H, K), "W": (H, H), "V": (K, H), "b": (H,), "c": (K,)}


def init_params(H: int, K: int, rng: np.random.Generator, scheme: str = "uniform",
                dtype: np.dtype | type = np.float64) -> Params:
    """Initial weights; biases start at zero.

    "uniform": the article's U(-1/sqrt(n), 1/sqrt(n)) with n the fan-in (K for U, H for W and V).
    "randn":   min-char-rnn's 0.01 * randn.
    """
    if scheme == "uniform":
        def draw(shape: tuple[int, int], fan_in: int) -> np.ndarray:
            bound = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, size=shape)
    elif scheme == "randn":
        def draw(shape: tuple[int, int], fan_in: int) -> np.ndarray:
            return rng.standard_normal(shape) * 0.01
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {INIT_SCHEMES}")
    params = {
        "U": draw((H, K), K),  # (H, K)
        "W": draw((H, H), H),  # (H, H)
        "V": draw((K, H), H),  # (K, H)
        "b": np.zeros(H),      # (H,)
        "c": np.zeros(K),      # (K,)
    }
    return FlatParams(params, dtype)  # one buffer: see rnn_core/layout.py


def softmax(o: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for any finite logits (the max is subtracted first)."""
    e = np.exp(o - o.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Forward:
    """What the backward pass (and the Inspect views) need from a forward pass."""

    inputs: np.ndarray   # (T, B) int
    targets: np.ndarray  # (T, B) int
    hs: np.ndarray       # (T+1, B, H): hs[0] = h(-1) carried in, hs[t+1] = h(t)
    ps: np.ndarray       # (T, B, K) softmax probabilities
    losses: np.ndarray   # (T, B) -log ps[t, b, targets[t, b]]

    @functools.cached_property
    def loss(self) -> float:
        """Chunk loss: sum over time, mean over streams."""
        return float(self.losses.sum()) / self.losses.shape[1]

    @property
    def carry(self) -> np.ndarray:
        """(B, H) the state each stream carries into its next chunk: h(T-1)."""
        return self.hs[-1]

    @property
    def states(self) -> dict[str, np.ndarray]:
        """The carried states over the chunk, by name: h (T+1, B, H), [0] the one carried in."""
        return {"h": self.hs}

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """Gate activations by name (T, B, H): none in the RNN."""
        return {}


def softmax_nll(o: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """y = softmax(o) over each row of the logits o (N, K), written into o; returns the loss terms
    -log y[n, targets[n]] (N,). The same numbers as `softmax` and -log of the target's probability
    (tests/test_model.py pins it to that plain formula), done faster and more safely:

    - The row maxima are subtracted only when exp could overflow or underflow: when every logit
      lies within +-limit, exp(o) / sum(exp(o)) is already accurate (min-char-rnn does exactly
      that), and skipping the row reductions and the broadcast subtraction is a large share of
      the softmax's cost at 32 streams. Two whole-array reductions decide it.
    - The loss terms are log(sum(exp(o))) - o[target], from the logits: finite for any finite
      logits, where -log of a probability that underflowed to 0 (easy in float32) is infinite.
    """
    N, K = o.shape
    limit = _exp_limit(o.dtype, K)
    if not (o.max() < limit and o.min() > -limit):  # also taken for NaN
        o -= o.max(axis=1)[:, None]
    picked = o.ravel()[np.arange(0, N * K, K) + targets]  # (N,) the targets' logits, before exp
    np.exp(o, out=o)
    sums = np.dot(o, np.ones(K, o.dtype))  # (N,) row sums, as a matrix-vector product
    o /= sums[:, None]                     # y
    return np.log(sums) - picked


@functools.cache
def _exp_limit(dtype: np.dtype, K: int) -> float:
    """Logits within +-limit: no exp overflows, no row of K sums to inf, none underflows to 0."""
    info = np.finfo(dtype)
    return float(min(np.log(info.max) - np.log(K), -np.log(info.tiny)) - 1.0)


def input_terms(U: np.ndarray, b: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """U x(t) + b for every t and stream (T, B, H). x(t) is one-hot, so U x(t) is column x(t) of
    U, i.e. row x(t) of U^T; when there are more time steps than characters, adding b to the K
    rows of U^T before gathering costs less than adding it to the T*B gathered rows."""
    T, B = inputs.shape
    K = U.shape[1]
    if T * B > K:
        return np.take(U.T + b, inputs, axis=0)
    xU = U.T[inputs]
    xU += b
    return xU


def forward(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray) -> Forward:
    """Run the RNN over a chunk. inputs, targets: (T, B) ints; h0: (B, H)."""
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    T, B = inputs.shape
    H, K = U.shape
    # Rows are streams, so each product is h @ W^T; contiguous copies of the transposes read faster.
    WT = np.ascontiguousarray(W.T)           # (H, H)
    VT = np.ascontiguousarray(V.T, W.dtype)  # (H, K)
    xU = input_terms(U, b, inputs)           # (T, B, H) U x(t) + b
    hs = np.empty((T + 1, B, H), dtype=W.dtype)
    hs[0] = h0
    for t in range(T):
        h = hs[t + 1]                # (B, H)
        hs[t].dot(WT, out=h)         # W h(t-1)
        h += xU[t]                   # + U x(t) + b
        np.tanh(h, out=h)            # h(t)
    # o(t) = V h(t) + c for all t in one product: (T*B, H) @ (H, K).
    o = np.dot(hs[1:].reshape(T * B, H), VT)  # (T*B, K)
    o += c
    losses = softmax_nll(o, targets.ravel())  # o becomes y(t) = softmax(o(t)); (T*B,)
    return Forward(inputs, targets, hs, o.reshape(T, B, K), losses.reshape(T, B))


def backward(params: Params, fw: Forward, out: FlatParams | None = None) -> tuple[Params, np.ndarray]:
    """Backpropagation through time over the chunk.

    Returns the gradients of the chunk loss (keys U, W, V, b, c) and ||dL_b/dh(t)|| of shape
    (T, B): the norm of the gradient of stream b's own chunk loss reaching h(t), which shrinks
    (vanishes) or grows (explodes) as it flows back from the end of the chunk.
    """
    grads, dh = gradients(params, fw, out)
    return grads, gradient_norms(dh)


def gradient_norms(dh: np.ndarray) -> np.ndarray:
    """||dL_b/dh(t)|| (T, B), float64, from the dL/dh(t) (T, B, H) that `gradients` returns."""
    return np.sqrt(np.einsum("tbh,tbh->tb", dh, dh)).astype(np.float64, copy=False)


def gradients(params: Params, fw: Forward, out: FlatParams | None = None) -> tuple[FlatParams, np.ndarray]:
    """backward() without the norms: the gradients and dL_b/dh(t) itself (T, B, H), each stream's
    own (the trainer takes the norms only when a view asks for them).

        do(t)   = y(t) - onehot(target(t))               dV = sum_t do(t) h(t)^T    dc = sum_t do(t)
        dh(t)   = V^T do(t) + W^T dz(t+1)                 (what flows back from t+1 through W)
        dz(t)   = (1 - h(t)^2) * dh(t)                    (through tanh)
        dW = sum_t dz(t) h(t-1)^T    dU = sum_t dz(t) x(t)^T    db = sum_t dz(t)

    The gradients are a FlatParams (rnn_core/layout.py), so clipping and the optimizer can treat
    them as one vector: `out` when given (every entry is overwritten), else a new one.
    """
    U, W, V = params["U"], params["W"], params["V"]
    T, B = fw.inputs.shape
    H, K = U.shape
    N = T * B
    dtype = W.dtype
    grads = FlatParams.empty(param_shapes(H, K), dtype) if out is None else out
    dU, dW, dV, db, dc = (grads[k] for k in PARAM_NAMES)
    ones = np.ones(N, dtype)
    # do(t) for the sum of the streams' losses; the loss is their mean, so the finished gradients
    # are divided by B at the end (31k numbers instead of the T*B*K of do), and dh below is each
    # stream's own dL/dh(t).
    do = fw.ps.reshape(N, K).copy()          # (N, K)
    do.ravel()[np.arange(0, N * K, K) + fw.targets.ravel()] -= 1.0
    hs_out = fw.hs[1:].reshape(N, H)         # h(t),   (N, H)
    hs_in = fw.hs[:-1].reshape(N, H)         # h(t-1), (N, H)
    np.dot(do.T, hs_out, out=dV)             # (K, H)
    np.dot(ones, do, out=dc)                 # (K,) column sums as a vector-matrix product
    dh = np.dot(do, np.asarray(V, dtype)).reshape(T, B, H)  # V^T do(t), the part from o(t)
    dz = np.multiply(fw.hs[1:], fw.hs[1:])   # (T, B, H) becomes (1 - h(t)^2) * dh(t)
    np.subtract(1.0, dz, out=dz)
    dh_next = np.empty((B, H), dtype)        # W^T dz(t+1), rows are streams: dz @ W
    for t in reversed(range(T)):
        if t < T - 1:
            dh[t] += dh_next                 # dh(t) = V^T do(t) + W^T dz(t+1)
        dz[t] *= dh[t]                       # dz(t) = (1 - h(t)^2) * dh(t)
        if t:
            dz[t].dot(W, out=dh_next)
    dz2 = dz.reshape(N, H)
    np.dot(dz2.T, hs_in, out=dW)             # (H, H)
    np.dot(ones, dz2, out=db)                # (H,)
    scatter_columns(dU, fw.inputs.ravel(), dz2)
    if B > 1:  # the gradient of the mean over streams
        for g in grads.values():
            g /= B
    return grads, dh


def scatter_columns(dU: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> None:
    """dU[:, k] = sum of rows[i] over the i with ids[i] == k. dU: (H, K), ids: (N,), rows: (N, H).

    dU is U's gradient: U x(t) reads column x(t), so the gradient of every step adds to the
    column of its input character.
    """
    H, K = dU.shape
    dU[...] = 0
    if len(ids) <= K:
        # One flat scatter-add: element (i, j) of rows goes to dU[j, ids[i]], i.e. j * K + ids[i].
        np.add.at(dU.ravel(), (np.arange(0, H * K, K) + ids[:, None]).ravel(), rows.ravel())
        return
    # Many rows (batched): sort them by id, then one sum per distinct id over its run of rows
    # (np.add.at is slower per element, a one-hot matrix product does K times the work, and
    # np.add.reduceat over axis 0 reduces column by column: 3x slower at 512 columns).
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    bounds = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1], [True])))
    grouped = rows[order]                                   # (N, H) rows of equal ids together
    sums = np.empty((len(bounds) - 1, H), rows.dtype)       # one row per distinct id
    for k, (a, b) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        np.add.reduce(grouped[a:b], axis=0, out=sums[k])
    dU[:, sorted_ids[bounds[:-1]]] = sums.T


def step(params: Params, x: int, h: np.ndarray) -> np.ndarray:
    """One character of one stream (sampling): h(t) = tanh(U x(t) + W h(t-1) + b), h (H,)."""
    U, W, b = params["U"], params["W"], params["b"]
    return np.tanh(U[:, x] + W @ h + b)


def step_back(params: Params, fw: Forward, t: int, dh: np.ndarray, stream: int = 0) -> np.ndarray:
    """One step back through the recurrence for one stream of `fw`, on rows (rnn_core/reach.py):
    dL/dh(t) (n, H) -> dL/dh(t-1) = W^T ((1 - h(t)^2) * dL/dh(t)) (n, H)."""
    return (dh * (1.0 - fw.hs[t + 1, stream] ** 2)) @ params["W"]


def loss_and_grads(params: Params, inputs: np.ndarray, targets: np.ndarray,
                   h0: np.ndarray) -> tuple[float, Params, Forward]:
    """Chunk loss, its gradients, and the forward pass (whose hs[-1] is the next h0)."""
    fw = forward(params, inputs, targets, h0)
    grads, _ = backward(params, fw)
    return fw.loss, grads, fw
