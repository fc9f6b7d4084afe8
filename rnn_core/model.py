"""The vanilla RNN of the article, forward and backward over one chunk, batched over streams.

    h(t) = tanh(U x(t) + W h(t-1) + b)      o(t) = V h(t) + c      y(t) = softmax(o(t))
    L    = mean over streams of  sum over t of  -log y(t)[target(t)]

Dimension letters: T time steps of a chunk, B streams, H hidden units, K vocabulary size
(V is already a weight). x(t) is one-hot, so U x(t) is the column U[:, x(t)].
With B = 1 this is exactly one chunk of min-char-rnn.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

Params = dict[str, np.ndarray]  # keys PARAM_NAMES; gradients use the same keys
PARAM_NAMES = ("U", "W", "V", "b", "c")
INIT_SCHEMES = ("uniform", "randn")


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
    return FlatParams(params, dtype)


class FlatParams(dict):
    """A Params dict whose arrays are consecutive views into one contiguous buffer, in key order.

    It is an ordinary dict of arrays to every reader. Optimizers, clipping and the trainer's
    backups use `flat()` to treat all parameters (or gradients, or optimizer state) as one vector:
    one NumPy call instead of one per parameter, which is most of the per-step cost at batch 1.
    `flat()` is None as soon as an entry has been replaced by another array (in-place writes are
    fine), and the callers then fall back to per-array work.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], dtype: np.dtype | type | None = None) -> None:
        arrays = {k: np.asarray(a) for k, a in arrays.items()}
        dt = np.dtype(dtype) if dtype is not None else np.result_type(*arrays.values())
        self._attach({k: a.shape for k, a in arrays.items()}, dt)
        for view, a in zip(self._views, arrays.values(), strict=True):
            view[...] = a

    @classmethod
    def empty(cls, shapes: Mapping[str, tuple[int, ...]], dtype: np.dtype | type) -> FlatParams:
        """Uninitialised arrays of the given shapes (for results written with out=)."""
        new = cls.__new__(cls)
        new._attach(shapes, np.dtype(dtype))
        return new

    def like(self, buffer: np.ndarray) -> FlatParams:
        """A FlatParams with this one's layout whose arrays are views of `buffer` (not copied)."""
        new = type(self).__new__(type(self))
        new._attach(dict(self.layout), buffer.dtype, buffer)
        return new

    def alias(self) -> FlatParams:
        """A new dict holding the same arrays (nothing copied), still usable through flat()."""
        new = type(self).__new__(type(self))
        dict.update(new, self)
        new.layout, new._buffer, new._views = self.layout, self._buffer, self._views
        new.segments = self.segments
        return new

    def _attach(self, shapes: Mapping[str, tuple[int, ...]], dtype: np.dtype,
                buffer: np.ndarray | None = None) -> None:
        layout = tuple((k, tuple(shape)) for k, shape in shapes.items())
        self.layout = _LAYOUTS.setdefault(layout, layout)  # one object per layout: `is` compares
        total, slices = _slices(self.layout)
        if buffer is None:
            buffer = np.empty(total, dtype)
        self._buffer = buffer
        # Each entry as a 1-D piece of the buffer too (the fastest way to reduce over one entry).
        self.segments = tuple(buffer[start:stop] for start, stop, _ in slices)
        self._views = tuple(s.reshape(shape) for s, (_, _, shape) in zip(self.segments, slices, strict=True))
        dict.update(self, zip(shapes, self._views, strict=True))

    def flat(self) -> np.ndarray | None:
        """The buffer all entries are views of, or None if an entry was replaced since."""
        if len(self) == len(self._views) and all(map(operator.is_, self.values(), self._views)):
            return self._buffer
        return None

    def __reduce__(self):  # copy.deepcopy and pickle: a new buffer with the same layout and values
        return type(self), (dict(self),)

    def __copy__(self) -> FlatParams:
        return self.alias()


_LAYOUTS: dict[tuple, tuple] = {}


@functools.cache
def _slices(layout: tuple[tuple[str, tuple[int, ...]], ...]) -> tuple[int, list[tuple[int, int, tuple]]]:
    """Total size and (start, stop, shape) of each array of a FlatParams layout."""
    slices, start = [], 0
    for _, shape in layout:
        stop = start + math.prod(shape)
        slices.append((start, stop, shape))
        start = stop
    return start, slices


def flat_buffers(*dicts: Mapping[str, np.ndarray]) -> list[np.ndarray] | None:
    """The flat buffers of several FlatParams with one layout (e.g. weights and gradients), or None."""
    first = dicts[0]
    if not isinstance(first, FlatParams):
        return None
    out = []
    for d in dicts:
        if not isinstance(d, FlatParams) or (d.layout is not first.layout and d.layout != first.layout):
            return None
        buffer = d.flat()
        if buffer is None:
            return None
        out.append(buffer)
    return out


def copy_into(dst: Mapping[str, np.ndarray], src: Mapping[str, np.ndarray]) -> None:
    """Copy every array of src into dst's (one copy when both are FlatParams of one layout)."""
    bufs = flat_buffers(dst, src)
    if bufs is not None:
        np.copyto(bufs[0], bufs[1])
    else:
        for k, a in src.items():
            np.copyto(dst[k], a)


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


def _softmax_rows(o: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """softmax over each row of o (N, K), in place; returns -log softmax(o)[picks] (N,).

    The row maxima are subtracted only when exp could overflow or underflow: when every logit
    lies within +-limit, exp(o) / sum(exp(o)) is already accurate (it is what min-char-rnn does),
    and skipping the row reductions and the broadcast subtraction is a large share of the
    softmax's cost at 32 streams. Two whole-array reductions decide it.
    The picked -log probabilities are log(sum(exp(o))) - o[pick], from the logits: finite for any
    finite logits, where -log of a probability that underflowed to 0 would be infinite.
    """
    limit = _exp_limit(o.dtype, o.shape[1])
    if not (o.max() < limit and o.min() > -limit):  # also taken for NaN
        o -= o.max(axis=1)[:, None]
    picked = np.take(o, picks)                 # (N,) the chosen logits, before exp
    np.exp(o, out=o)
    sums = np.dot(o, np.ones(o.shape[1], o.dtype))  # row sums as a matrix-vector product
    o /= sums[:, None]
    np.log(sums, out=sums)
    sums -= picked
    return sums


@functools.cache
def _exp_limit(dtype: np.dtype, K: int) -> float:
    """Logits within +-limit: no exp overflows, no row of K sums to inf, none underflows to 0."""
    info = np.finfo(dtype)
    return float(min(np.log(info.max) - np.log(K), -np.log(info.tiny)) - 1.0)


def forward(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray) -> Forward:
    """Run the RNN over a chunk. inputs, targets: (T, B) ints; h0: (B, H)."""
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    T, B = inputs.shape
    H, K = U.shape
    # Contiguous copies of the transposed weights: a product reads them row by row.
    WT = np.ascontiguousarray(W.T)           # (H, H)
    VT = np.ascontiguousarray(V.T, W.dtype)  # (H, K)
    # U x(t) + b for every t at once: x(t) is one-hot, so U x(t) is row x(t) of U^T, and adding
    # b to the K rows of U^T before gathering them costs less than adding it to T*B rows after.
    if T * B > K:
        UTb = U.T + b                        # (K, H)
        xU = np.take(UTb, inputs, axis=0)    # (T, B, H)
    else:
        xU = U.T[inputs]                     # (T, B, H)
        xU += b
    hs = np.empty((T + 1, B, H), dtype=W.dtype)
    hs[0] = h0
    for t in range(T):
        h = hs[t + 1]                # (B, H)
        hs[t].dot(WT, out=h)         # W h(t-1)
        h += xU[t]
        np.tanh(h, out=h)
    # o(t) = V h(t) + c for all t in one matrix product: (T*B, H) @ (H, K).
    os = np.dot(hs[1:].reshape(T * B, H), VT)  # (T*B, K)
    os += c
    # -log y(t)[target]: min-char-rnn's loss, computed from the logits so that a target whose
    # probability underflows to 0 (easily reached in float32) still has a finite loss.
    losses = _softmax_rows(os, _target_index(targets, K)).reshape(T, B)
    return Forward(inputs, targets, hs, os.reshape(T, B, K), losses)


def _target_index(targets: np.ndarray, K: int) -> np.ndarray:
    """Flat indices of ps[t, b, targets[t, b]] in the (T, B, K) array ps."""
    return np.arange(0, targets.size * K, K) + targets.ravel()


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

    The gradients are a FlatParams (views into one buffer), so clipping and the optimizer can
    treat them as one vector: `out` when given (every entry is overwritten), else a new one.
    """
    U, W, V = params["U"], params["W"], params["V"]
    T, B = fw.inputs.shape
    H, K = U.shape
    N = T * B
    dtype = W.dtype
    grads = FlatParams.empty(param_shapes(H, K), dtype) if out is None else out
    dU, dW, dV, db, dc = (grads[k] for k in PARAM_NAMES)
    ones = np.ones(N, dtype)
    # dL/do(t) = y(t) - onehot(target) for the sum of the streams' losses. The loss is their
    # mean: its gradient is this one divided by B, applied to the finished gradients at the end
    # (31k numbers instead of the T*B*K of dy), so dh below is each stream's own dL/dh(t).
    dy = fw.ps.reshape(N, K).copy()          # (N, K)
    dy.ravel()[_target_index(fw.targets, K)] -= 1.0
    hs_out = fw.hs[1:].reshape(N, H)         # h(t),   (N, H)
    hs_in = fw.hs[:-1].reshape(N, H)         # h(t-1), (N, H)
    np.dot(dy.T, hs_out, out=dV)             # (K, H)
    np.dot(ones, dy, out=dc)                 # (K,) column sums as a vector-matrix product
    dh = np.dot(dy, np.asarray(V, dtype)).reshape(T, B, H)  # the part of dL/dh(t) from o(t)
    dhraw = np.multiply(fw.hs[1:], fw.hs[1:])  # becomes dL/d(pre-activation): (1 - h^2) * dh
    np.subtract(1.0, dhraw, out=dhraw)
    dh_next = np.empty((B, H), dtype)
    for t in reversed(range(T)):
        if t < T - 1:
            dh[t] += dh_next                 # plus what flows back from t+1 through W
        dhraw[t] *= dh[t]
        if t:
            dhraw[t].dot(W, out=dh_next)  # dL/dh(t-1) through W
    dhraw2 = dhraw.reshape(N, H)
    np.dot(dhraw2.T, hs_in, out=dW)          # (H, H)
    np.dot(ones, dhraw2, out=db)             # (H,)
    _scatter_columns(dU, fw.inputs.ravel(), dhraw2)
    if B > 1:
        np.divide(grads._buffer, B, out=grads._buffer)
    return grads, dh


def _scatter_columns(dU: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> None:
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
    # Many rows (batched): sort them by id and add up each run of equal ids (np.add.at is slower
    # per element, and a one-hot matrix product does K times the work).
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
    dU[:, sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0).T


def loss_and_grads(params: Params, inputs: np.ndarray, targets: np.ndarray,
                   h0: np.ndarray) -> tuple[float, Params, Forward]:
    """Chunk loss, its gradients, and the forward pass (whose hs[-1] is the next h0)."""
    fw = forward(params, inputs, targets, h0)
    grads, _ = backward(params, fw)
    return fw.loss, grads, fw
