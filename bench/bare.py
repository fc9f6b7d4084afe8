"""The leanest NumPy trainer we could write: a floor for what rnn_core's Trainer could reach.

min-char-rnn's arithmetic (the article's recurrence, softmax + cross-entropy, BPTT over the chunk,
element-wise clipping at 5, Adagrad lr 0.1) over B streams cut from the text as the Trainer cuts
them, with the same per-step tricks as rnn_core/model.py, and nothing else: no clipping statistics,
no ||dL/dh(t)||, no finiteness checks or rollback, no history, no validation. Not used by the app;
`tests/test_bench_bare.py` checks that it trains exactly like the Trainer (to 1e-10). The gap
between this and the Trainer is what the product's per-step measurements and safety cost.
"""

from __future__ import annotations

import numpy as np

from rnn_core.model import init_params, param_shapes


class BareTrainer:
    def __init__(self, train_data: np.ndarray, K: int, hidden: int = 100, seq_len: int = 25,
                 batch: int = 1, dtype: type = np.float64, seed: int = 0, lr: float = 0.1,
                 clip: float = 5.0) -> None:
        H, T, B = hidden, seq_len, batch
        self.H, self.T, self.B, self.K, self.lr, self.clip = H, T, B, K, lr, clip
        self.L = len(train_data) // B
        self.segments = np.ascontiguousarray(train_data[: B * self.L].reshape(B, self.L))
        # The Trainer's init (same seed, same weights), as one buffer with views U, W, V, b, c.
        self.params = init_params(H, K, np.random.default_rng(seed), "uniform", dtype)
        self.buf = self.params.flat()
        self.U, self.W, self.V, self.b, self.c = (self.params[k] for k in ("U", "W", "V", "b", "c"))
        n = self.buf.size
        self.gbuf, self.mem = np.empty(n, dtype), np.zeros(n, dtype)
        self.tmp, self.upd = np.empty(n, dtype), np.empty(n, dtype)
        self.grads = {k: v for k, v in zip(param_shapes(H, K), _views(self.gbuf, H, K), strict=True)}
        N = T * B
        self.hs = np.empty((T + 1, B, H), dtype)
        self.ones_N, self.ones_K = np.ones(N, dtype), np.ones(K, dtype)
        self.rows_K = np.arange(0, N * K, K)  # flat index of row i of a (N, K) array
        self.h = np.zeros((B, H), dtype)
        self.p, self.n = 0, 0
        self.loss = float("nan")

    def step(self) -> int:
        T, B, H, K = self.T, self.B, self.H, self.K
        U, W, V, b, c, hs = self.U, self.W, self.V, self.b, self.c, self.hs
        if self.n == 0 or self.p + T + 1 >= self.L:
            self.p = 0
            self.h[...] = 0
        p = self.p
        x = np.ascontiguousarray(self.segments[:, p : p + T].T)          # (T, B)
        y = np.ascontiguousarray(self.segments[:, p + 1 : p + T + 1].T)  # (T, B)
        # forward
        WT = np.ascontiguousarray(W.T)
        xU = np.take(U.T + b, x, axis=0) if T * B > K else U.T[x] + b    # (T, B, H)
        hs[0] = self.h
        for t in range(T):
            h = hs[t + 1]
            hs[t].dot(WT, out=h)
            h += xU[t]
            np.tanh(h, out=h)
        N = T * B
        hs_out, hs_in = hs[1:].reshape(N, H), hs[:-1].reshape(N, H)
        o = np.dot(hs_out, np.ascontiguousarray(V.T))                   # (N, K)
        o += c
        np.exp(o, out=o)                                                 # min-char-rnn's softmax
        sums = np.dot(o, self.ones_K)
        o /= sums[:, None]
        target = self.rows_K + y.ravel()
        self.loss = -float(np.log(np.take(o, target)).sum()) / B
        # backward
        dU, dW, dV, db, dc = (self.grads[k] for k in ("U", "W", "V", "b", "c"))
        dy = o
        dy.ravel()[target] -= 1.0
        np.dot(dy.T, hs_out, out=dV)
        np.dot(self.ones_N, dy, out=dc)
        dh = np.dot(dy, V).reshape(T, B, H)
        dhraw = np.multiply(hs[1:], hs[1:])
        np.subtract(1.0, dhraw, out=dhraw)
        dh_next = np.empty((B, H), hs.dtype)
        for t in range(T - 1, -1, -1):
            if t < T - 1:
                dh[t] += dh_next
            dhraw[t] *= dh[t]
            if t:
                dhraw[t].dot(W, out=dh_next)
        dhraw2 = dhraw.reshape(N, H)
        np.dot(dhraw2.T, hs_in, out=dW)
        np.dot(self.ones_N, dhraw2, out=db)
        ids = x.ravel()
        dU[...] = 0
        if N <= K:
            np.add.at(dU.ravel(), (np.arange(0, H * K, K) + ids[:, None]).ravel(), dhraw2.ravel())
        else:
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
            dU[:, sorted_ids[starts]] = np.add.reduceat(dhraw2[order], starts, axis=0).T
        g = self.gbuf
        if B > 1:
            g /= B
        # clip, then Adagrad, over all parameters as one vector
        np.clip(g, -self.clip, self.clip, out=g)
        np.multiply(g, g, out=self.tmp)
        self.mem += self.tmp
        np.multiply(-self.lr, g, out=self.upd)
        np.add(self.mem, 1e-8, out=self.tmp)
        np.sqrt(self.tmp, out=self.tmp)
        self.upd /= self.tmp
        self.buf += self.upd
        self.h[...] = hs[-1]
        self.p += T
        self.n += 1
        return T * B


def _views(buf: np.ndarray, H: int, K: int) -> list[np.ndarray]:
    out, start = [], 0
    for shape in param_shapes(H, K).values():
        size = int(np.prod(shape))
        out.append(buf[start : start + size].reshape(shape))
        start += size
    return out
