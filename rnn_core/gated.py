"""What the gated cells (rnn_core/lstm.py, rnn_core/gru.py) share: σ, their weights' layout and
initialisation, and the output layer, which is the RNN's:

    y(t) = softmax(V h(t) + c)          L = mean over streams of sum over t of -log y(t)[target(t)]

Each gate G has its own input weights U_G (H, K), recurrent weights W_G (H, H) and bias b_G (H,).
They are stored gate after gate in the order U_*, W_*, V, b_*, c (the RNN's U, W, V, b, c, one of
each per gate), so that the gates' U_G lie one after another in the weights' one buffer and read
as one matrix U (G*H, K) without a copy (`rnn_core.layout.stacked`), likewise W (G*H, H) and b
(G*H,): a step computes all gates with one (B, H) @ (H, G*H) product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnn_core.layout import FlatParams
from rnn_core.model import INIT_SCHEMES, softmax_nll


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + exp(-z)), computed as (1 + tanh(z / 2)) / 2: no overflow for any z."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def param_names(gates: Sequence[str]) -> tuple[str, ...]:
    """U_G for every gate G, then W_G, V, b_G, c: e.g. gates r, z, n -> U_r, U_z, U_n, W_r, ..."""
    return (*(f"U_{g}" for g in gates), *(f"W_{g}" for g in gates), "V",
            *(f"b_{g}" for g in gates), "c")


def param_shapes(gates: Sequence[str], H: int, K: int) -> dict[str, tuple[int, ...]]:
    shape = {"U": (H, K), "W": (H, H), "V": (K, H), "b": (H,), "c": (K,)}
    return {name: shape[name[0]] for name in param_names(gates)}


def init_params(gates: Sequence[str], H: int, K: int, rng: np.random.Generator, scheme: str,
                dtype: np.dtype | type, biases: dict[str, float] | None = None) -> FlatParams:
    """Initial weights as the RNN's (rnn_core.model.init_params), drawn in layout order: "uniform"
    U(-1/sqrt(n), 1/sqrt(n)) with n the fan-in (K for U_G, H for W_G and V), "randn" 0.01 * randn.
    Biases start at zero, or at the value `biases` gives a bias by name."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {INIT_SCHEMES}")
    biases = biases or {}
    params = {}
    for name, shape in param_shapes(gates, H, K).items():
        if len(shape) == 1:
            params[name] = np.full(shape, biases.get(name, 0.0))  # (H,) or (K,)
        elif scheme == "uniform":
            bound = 1.0 / np.sqrt(shape[1])                       # fan-in: K for U_G, H for W_G, V
            params[name] = rng.uniform(-bound, bound, size=shape)
        else:
            params[name] = rng.standard_normal(shape) * 0.01
    return FlatParams(params, dtype)


def output(hs: np.ndarray, V: np.ndarray, c: np.ndarray,
           targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y(t) = softmax(V h(t) + c) and the loss terms -log y(t)[target(t)] for every t and stream,
    from hs (T+1, B, H) (hs[0], the state carried in, is not read): ps (T, B, K), losses (T, B)."""
    T, B = targets.shape
    H = hs.shape[2]
    K = V.shape[0]
    VT = np.ascontiguousarray(V.T, hs.dtype)   # (H, K)
    o = np.dot(hs[1:].reshape(T * B, H), VT)   # (T*B, K) V h(t) for all t in one product
    o += c
    losses = softmax_nll(o, targets.ravel())   # o becomes y(t); (T*B,)
    return o.reshape(T, B, K), losses.reshape(T, B)


def output_backward(ps: np.ndarray, targets: np.ndarray, hs: np.ndarray, V: np.ndarray,
                    dV: np.ndarray, dc: np.ndarray) -> np.ndarray:
    """The output layer's share of the backward pass, for the sum of the streams' losses:

        dy(t) = y(t) - onehot(target(t))      dV = sum_t dy(t) h(t)^T      dc = sum_t dy(t)

    dV, dc are written in place; returns V^T dy(t) (T, B, H), the part of dL/dh(t) from y(t).
    ps (T, B, K), targets (T, B), hs (T+1, B, H) as in a forward pass."""
    T, B, K = ps.shape
    H = hs.shape[2]
    N = T * B
    dy = ps.reshape(N, K).copy()                                  # (N, K)
    dy.ravel()[np.arange(0, N * K, K) + targets.ravel()] -= 1.0
    np.dot(dy.T, hs[1:].reshape(N, H), out=dV)                    # (K, H)
    np.dot(np.ones(N, dy.dtype), dy, out=dc)                      # (K,) column sums
    return np.dot(dy, np.asarray(V, dy.dtype)).reshape(T, B, H)   # V^T dy(t), as rows

