"""The vanilla RNN of the article, forward and backward over one chunk, batched over streams.

    h(t) = tanh(U x(t) + W h(t-1) + b)      o(t) = V h(t) + c      y(t) = softmax(o(t))
    L    = mean over streams of  sum over t of  -log y(t)[target(t)]

Dimension letters: T time steps of a chunk, B streams, H hidden units, K vocabulary size
(V is already a weight). x(t) is one-hot, so U x(t) is the column U[:, x(t)].
With B = 1 this is exactly one chunk of min-char-rnn.
"""

from __future__ import annotations

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
    return {k: v.astype(dtype) for k, v in params.items()}


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

    @property
    def loss(self) -> float:
        """Chunk loss: sum over time, mean over streams."""
        return float(self.losses.sum(axis=0).mean())


def forward(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray) -> Forward:
    """Run the RNN over a chunk. inputs, targets: (T, B) ints; h0: (B, H)."""
    U, W, V, b, c = (params[k] for k in PARAM_NAMES)
    T, B = inputs.shape
    H = W.shape[0]
    # U x(t) + b for every t at once: a row gather of U^T, shape (T, B, H).
    xU = U.T[inputs] + b
    WT = np.ascontiguousarray(W.T)  # (H, H); a contiguous copy multiplies faster than a view
    hs = np.empty((T + 1, B, H), dtype=W.dtype)
    hs[0] = h0
    for t in range(T):
        hs[t + 1] = np.tanh(xU[t] + hs[t] @ WT)
    # o(t) = V h(t) + c for all t in one matrix product: (T*B, H) @ (H, K).
    os = (hs[1:].reshape(T * B, H) @ np.ascontiguousarray(V.T) + c).reshape(T, B, -1)
    ps = softmax(os)
    t_idx, b_idx = np.indices((T, B))
    losses = -np.log(ps[t_idx, b_idx, targets])
    return Forward(inputs, targets, hs, ps, losses)


def backward(params: Params, fw: Forward) -> tuple[Params, np.ndarray]:
    """Backpropagation through time over the chunk.

    Returns the gradients of the chunk loss (keys U, W, V, b, c) and ||dL_b/dh(t)|| of shape
    (T, B): the norm of the gradient of stream b's own chunk loss reaching h(t), which shrinks
    (vanishes) or grows (explodes) as it flows back from the end of the chunk.
    """
    U, W, V = params["U"], params["W"], params["V"]
    T, B = fw.inputs.shape
    H, K = U.shape
    # dL/do(t) = y(t) - onehot(target); divided by B because the loss is a mean over streams.
    dy = fw.ps.copy()  # (T, B, K)
    t_idx, b_idx = np.indices((T, B))
    dy[t_idx, b_idx, fw.targets] -= 1.0
    dy /= B
    dy2 = dy.reshape(T * B, K)
    hs_flat = fw.hs[1:].reshape(T * B, H)
    dV = dy2.T @ hs_flat                     # (K, H)
    dc = dy2.sum(axis=0)                     # (K,)
    dh_out = (dy2 @ V).reshape(T, B, H)      # the part of dL/dh(t) that comes from o(t)
    dhraw = np.empty((T, B, H), dtype=W.dtype)  # dL/d(pre-activation) at each t
    dh_norms = np.empty((T, B), dtype=np.float64)
    dh_next = np.zeros((B, H), dtype=W.dtype)
    for t in reversed(range(T)):
        dh = dh_out[t] + dh_next             # (B, H)
        dh_norms[t] = np.sqrt(np.einsum("bh,bh->b", dh, dh))
        dhraw[t] = (1.0 - fw.hs[t + 1] * fw.hs[t + 1]) * dh
        dh_next = dhraw[t] @ W               # dL/dh(t-1) through W
    dhraw2 = dhraw.reshape(T * B, H)
    dW = dhraw2.T @ fw.hs[:-1].reshape(T * B, H)   # (H, H)
    db = dhraw2.sum(axis=0)                        # (H,)
    # dU[:, k] sums dhraw over the steps whose input is k: accumulate rows of dU^T by input id.
    dUT = np.zeros((K, H), dtype=W.dtype)
    np.add.at(dUT, fw.inputs.reshape(-1), dhraw2)
    grads = {"U": np.ascontiguousarray(dUT.T), "W": dW, "V": dV, "b": db, "c": dc}
    return grads, dh_norms * B


def loss_and_grads(params: Params, inputs: np.ndarray, targets: np.ndarray,
                   h0: np.ndarray) -> tuple[float, Params, Forward]:
    """Chunk loss, its gradients, and the forward pass (whose hs[-1] is the next h0)."""
    fw = forward(params, inputs, targets, h0)
    grads, _ = backward(params, fw)
    return fw.loss, grads, fw
