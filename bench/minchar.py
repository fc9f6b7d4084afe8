"""Karpathy's min-char-rnn, written out again: the project's one independent reference.

The benchmark races it (the baseline of every ratio) and the tests check rnn_core's exact mode
against it (tests/test_trainer.py, tests/test_bench_minchar.py). It follows the original gist
operation for operation: column vectors, a one-hot input vector x(t) multiplied by Wxh, float64,
the unshifted softmax exp(y) / sum(exp(y)), the backward pass as one loop over time with outer
products, np.clip(-5, 5) on every gradient, Adagrad (mem += g*g; p += -lr * g / sqrt(mem + 1e-8)),
the pointer and hidden-state reset, and the 0.999 / 0.001 smooth loss. What is left out: the
gist's sample and print every 100 steps (I/O that would only make the baseline slower), and its
globals (the state lives in a class).

Weights use the gist's names: Wxh (H, K), Whh (H, H), Why (K, H), bh (H, 1), by (K, 1);
in the project's notation these are U, W, V, b, c (`to_gist`, `from_gist`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

GIST = {"U": "Wxh", "W": "Whh", "V": "Why", "b": "bh", "c": "by"}  # project name -> gist name


def to_gist(params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The project's U, W, V, b (H,), c (K,) as float64 copies with the gist's names and shapes."""
    return {GIST[k]: np.array(a, dtype=np.float64).reshape(-1, 1) if a.ndim == 1
            else np.array(a, dtype=np.float64) for k, a in params.items()}


def from_gist(P: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Copies in the project's notation: U, W, V, b (H,), c (K,)."""
    return {k: P[g][:, 0].copy() if k in ("b", "c") else P[g].copy() for k, g in GIST.items()}


def lossFun(P: Mapping[str, np.ndarray], inputs: list[int], targets: list[int], hprev: np.ndarray,
            trace: bool = False):
    """The gist's lossFun, before clipping: loss, gradients (keyed like P), the last hidden state,
    and with `trace` the per-step hs, ps, loss terms and ||dL/dh(t)|| (else None)."""
    Wxh, Whh, Why, bh, by = P["Wxh"], P["Whh"], P["Why"], P["bh"], P["by"]
    vocab_size = Why.shape[0]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))  # one-hot column
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    dh_norms = np.zeros(len(inputs)) if trace else None
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1  # softmax + cross-entropy
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        if dh_norms is not None:
            dh_norms[t] = np.sqrt(np.sum(dh * dh))
        dhraw = (1 - hs[t] * hs[t]) * dh  # through tanh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    grads = {"Wxh": dWxh, "Whh": dWhh, "Why": dWhy, "bh": dbh, "by": dby}
    extra = None
    if trace:
        T = len(inputs)
        extra = {"hs": np.hstack([hs[t] for t in range(T)]).T,
                 "ps": np.hstack([ps[t] for t in range(T)]).T,
                 "losses": np.array([-np.log(ps[t][targets[t], 0]) for t in range(T)]),
                 "dh_norms": dh_norms}
    return loss, grads, hs[len(inputs) - 1], extra


class MinCharRNN:
    """The gist's training loop, one iteration per `step()`. `learning_rate` may be changed
    between steps; with `record_norms`, `norms` collects each step's gradient norms before
    clipping, and `wraps` counts the pointer's resets."""

    def __init__(self, data: str, hidden_size: int = 100, seq_length: int = 25,
                 learning_rate: float = 0.1, seed: int | None = None,
                 params: Mapping[str, np.ndarray] | None = None, chars: str | None = None,
                 clip: float = 5.0, record_norms: bool = False) -> None:
        chars = sorted(set(data)) if chars is None else list(chars)  # `chars`: a given vocabulary
        self.data = data
        self.vocab_size = len(chars)
        self.char_to_ix = {ch: i for i, ch in enumerate(chars)}
        self.hidden_size, self.seq_length, self.learning_rate = hidden_size, seq_length, learning_rate
        self.clip = clip
        H, K = hidden_size, self.vocab_size
        if params is None:  # the gist's init: 0.01 * randn, zero biases
            rng = np.random.RandomState(seed)
            self.P = {"Wxh": rng.randn(H, K) * 0.01, "Whh": rng.randn(H, H) * 0.01,
                      "Why": rng.randn(K, H) * 0.01, "bh": np.zeros((H, 1)), "by": np.zeros((K, 1))}
        else:  # from the project's U, W, V, b, c (to check both against each other)
            self.P = to_gist(params)
        self.mem = {k: np.zeros_like(a) for k, a in self.P.items()}
        self.n, self.p, self.wraps = 0, 0, 0
        self.hprev = np.zeros((H, 1))
        self.smooth_loss = -np.log(1.0 / K) * seq_length
        self.loss = float("nan")
        self.norms: list[dict[str, float]] | None = [] if record_norms else None

    def step(self) -> None:
        """One iteration of the gist's `while True` loop (without the sampling and printing)."""
        seq_length, data = self.seq_length, self.data
        if self.p + seq_length + 1 >= len(data) or self.n == 0:
            self.hprev = np.zeros((self.hidden_size, 1))
            self.p = 0
            self.wraps += 1
        p = self.p
        inputs = [self.char_to_ix[ch] for ch in data[p : p + seq_length]]
        targets = [self.char_to_ix[ch] for ch in data[p + 1 : p + seq_length + 1]]
        loss, grads, self.hprev, _ = lossFun(self.P, inputs, targets, self.hprev)
        if self.norms is not None:
            self.norms.append({k: float(np.sqrt(np.sum(g * g))) for k, g in grads.items()})
        for dparam in grads.values():
            np.clip(dparam, -self.clip, self.clip, out=dparam)  # mitigate exploding gradients
        self.loss = loss
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        for k, param in self.P.items():
            dparam, mem = grads[k], self.mem[k]
            mem += dparam * dparam
            param += -self.learning_rate * dparam / np.sqrt(mem + 1e-8)  # adagrad update
        self.p += seq_length
        self.n += 1

    def params(self) -> dict[str, np.ndarray]:
        """The weights in the project's notation: U, W, V, b (H,), c (K,)."""
        return from_gist(self.P)
