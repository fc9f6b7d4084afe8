"""The leanest trainer on rnn_core's model: a floor for what rnn_core's Trainer could reach.

rnn_core.model's forward and gradients (the article's recurrence, softmax + cross-entropy, BPTT
over the chunk) over B streams cut from the text as the Trainer cuts them, then min-char-rnn's
element-wise clipping at 5 and Adagrad lr 0.1 over the one flat buffer, and nothing else: no
clipping statistics, no ||dL/dh(t)||, no finiteness checks or rollback, no history, no validation.
Not used by the app; `tests/test_bench_bare.py` checks that it trains exactly like the Trainer (to
1e-10). The gap between this and the Trainer is what the product's per-step measurements and
safety cost.
"""

from __future__ import annotations

import numpy as np

from rnn_core.layout import FlatParams
from rnn_core.model import forward, gradients, init_params, param_shapes


class BareTrainer:
    def __init__(self, train_data: np.ndarray, K: int, hidden: int = 100, seq_len: int = 25,
                 batch: int = 1, dtype: type = np.float64, seed: int = 0, lr: float = 0.1,
                 clip: float = 5.0) -> None:
        self.T, self.B, self.lr, self.clip = seq_len, batch, lr, clip
        self.L = len(train_data) // batch
        self.segments = np.ascontiguousarray(train_data[: batch * self.L].reshape(batch, self.L))
        # The Trainer's init (same seed, same weights); weights, gradients and Adagrad's memory
        # each one buffer.
        self.params = init_params(hidden, K, np.random.default_rng(seed), "uniform", dtype)
        self.grads = FlatParams.empty(param_shapes(hidden, K), dtype)
        self.buf, self.gbuf = self.params.flat(), self.grads.flat()
        self.mem = np.zeros_like(self.buf)
        self.tmp, self.upd = np.empty_like(self.buf), np.empty_like(self.buf)
        self.h = np.zeros((batch, hidden), dtype)
        self.p, self.n = 0, 0
        self.loss = float("nan")

    def step(self) -> int:
        T, B = self.T, self.B
        if self.n == 0 or self.p + T + 1 >= self.L:
            self.p = 0
            self.h = np.zeros_like(self.h)
        p = self.p
        x = np.ascontiguousarray(self.segments[:, p : p + T].T)          # (T, B)
        y = np.ascontiguousarray(self.segments[:, p + 1 : p + T + 1].T)  # (T, B)
        fw = forward(self.params, x, y, self.h)
        gradients(self.params, fw, self.grads)
        self.loss = fw.loss
        # min-char-rnn's clip and Adagrad, over all parameters as one vector
        g = self.gbuf
        np.clip(g, -self.clip, self.clip, out=g)
        np.multiply(g, g, out=self.tmp)
        self.mem += self.tmp
        np.multiply(-self.lr, g, out=self.upd)
        np.add(self.mem, 1e-8, out=self.tmp)
        np.sqrt(self.tmp, out=self.tmp)
        self.upd /= self.tmp
        self.buf += self.upd
        self.h = fw.hs[-1]
        self.p += T
        self.n += 1
        return T * B
