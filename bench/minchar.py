"""Karpathy's min-char-rnn training loop, re-implemented for the benchmark (the baseline).

The algorithm follows the original gist operation for operation: column vectors, a one-hot input
vector x(t) multiplied by Wxh, float64, the unshifted softmax exp(y) / sum(exp(y)), the backward
pass as one loop over time with outer products, np.clip(-5, 5) on every gradient, Adagrad
(mem += g*g; p += -lr * g / sqrt(mem + 1e-8)), the pointer and hidden-state reset, and the
0.999 / 0.001 smooth loss. What is left out: the gist's sample and print every 100 steps
(I/O that would only make the baseline slower), and its globals (the state lives in a class).

Weights use the gist's names: Wxh (H, K), Whh (H, H), Why (K, H), bh (H, 1), by (K, 1);
in the project's notation these are U, W, V, b, c.
"""

from __future__ import annotations

import numpy as np


class MinCharRNN:
    def __init__(self, data: str, hidden_size: int = 100, seq_length: int = 25,
                 learning_rate: float = 0.1, seed: int | None = None,
                 params: dict[str, np.ndarray] | None = None, chars: str | None = None) -> None:
        chars = sorted(set(data)) if chars is None else list(chars)  # `chars`: a given vocabulary
        self.data = data
        self.vocab_size = len(chars)
        self.char_to_ix = {ch: i for i, ch in enumerate(chars)}
        self.hidden_size, self.seq_length, self.learning_rate = hidden_size, seq_length, learning_rate
        H, K = hidden_size, self.vocab_size
        if params is None:  # the gist's init: 0.01 * randn, zero biases
            rng = np.random.RandomState(seed)
            self.Wxh = rng.randn(H, K) * 0.01
            self.Whh = rng.randn(H, H) * 0.01
            self.Why = rng.randn(K, H) * 0.01
            self.bh = np.zeros((H, 1))
            self.by = np.zeros((K, 1))
        else:  # from the project's U, W, V, b, c (used to check both against each other)
            self.Wxh = np.array(params["U"], dtype=np.float64)
            self.Whh = np.array(params["W"], dtype=np.float64)
            self.Why = np.array(params["V"], dtype=np.float64)
            self.bh = np.array(params["b"], dtype=np.float64).reshape(H, 1)
            self.by = np.array(params["c"], dtype=np.float64).reshape(K, 1)
        self.mWxh, self.mWhh, self.mWhy = (np.zeros_like(a) for a in (self.Wxh, self.Whh, self.Why))
        self.mbh, self.mby = np.zeros_like(self.bh), np.zeros_like(self.by)
        self.n, self.p = 0, 0
        self.hprev = np.zeros((H, 1))
        self.smooth_loss = -np.log(1.0 / K) * seq_length
        self.loss = float("nan")

    def lossFun(self, inputs: list[int], targets: list[int], hprev: np.ndarray):
        """Loss, gradients and the last hidden state of one chunk (forward, then BPTT)."""
        Wxh, Whh, Why, bh, by = self.Wxh, self.Whh, self.Why, self.bh, self.by
        xs, hs, ys, ps = {}, {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = np.zeros((self.vocab_size, 1))  # one-hot column
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys[t] = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1  # softmax + cross-entropy
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh  # through tanh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        for dparam in (dWxh, dWhh, dWhy, dbh, dby):
            np.clip(dparam, -5, 5, out=dparam)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    def step(self) -> None:
        """One iteration of the gist's `while True` loop (without the sampling and printing)."""
        seq_length, data = self.seq_length, self.data
        if self.p + seq_length + 1 >= len(data) or self.n == 0:
            self.hprev = np.zeros((self.hidden_size, 1))
            self.p = 0
        p = self.p
        inputs = [self.char_to_ix[ch] for ch in data[p : p + seq_length]]
        targets = [self.char_to_ix[ch] for ch in data[p + 1 : p + seq_length + 1]]
        loss, dWxh, dWhh, dWhy, dbh, dby, self.hprev = self.lossFun(inputs, targets, self.hprev)
        self.loss = loss
        self.smooth_loss = self.smooth_loss * 0.999 + loss * 0.001
        for param, dparam, mem in zip((self.Wxh, self.Whh, self.Why, self.bh, self.by),
                                      (dWxh, dWhh, dWhy, dbh, dby),
                                      (self.mWxh, self.mWhh, self.mWhy, self.mbh, self.mby),
                                      strict=True):
            mem += dparam * dparam
            param += -self.learning_rate * dparam / np.sqrt(mem + 1e-8)  # adagrad update
        self.p += seq_length
        self.n += 1

    def params(self) -> dict[str, np.ndarray]:
        """The weights in the project's notation: U, W, V, b (H,), c (K,)."""
        return {"U": self.Wxh.copy(), "W": self.Whh.copy(), "V": self.Why.copy(),
                "b": self.bh[:, 0].copy(), "c": self.by[:, 0].copy()}
