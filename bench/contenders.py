"""What the benchmark races: each contender trains a char-RNN and counts the characters it read.

Every contender has `step() -> int` (one update; returns the characters consumed) and trains on
the same text: the first 90% of the built-in python-docs corpus (the Trainer's training split).
Sizes follow min-char-rnn: hidden 100, seq_len 25, vocabulary of the corpus (about 100).
"""

from __future__ import annotations

import numpy as np

from rnn_core import PRESETS, TrainConfig, Trainer, load_builtin

CORPUS = "python-docs"
HIDDEN, SEQ_LEN = 100, 25


class MinChar:
    """The min-char-rnn loop (bench/minchar.py) at its defaults: randn init, lr 0.1, Adagrad."""

    def __init__(self, seed: int = 0) -> None:
        from bench.minchar import MinCharRNN

        corpus = load_builtin(CORPUS)
        split = Trainer(corpus, TrainConfig(val_every=0))  # only for its train/validation split
        self.model = MinCharRNN(corpus.text[: len(split.train_data)], HIDDEN, SEQ_LEN, 0.1, seed=seed,
                                chars=corpus.vocab.chars)
        self.split = split

    def step(self) -> int:
        self.model.step()
        return SEQ_LEN

    def validation_bpc(self) -> float:
        """The Trainer's own validation (held-out tail, zero state) on this model's weights."""
        for k, a in self.model.params().items():
            np.copyto(self.split.params[k], a)
        bpc = self.split.validation_bpc()
        assert bpc is not None
        return bpc


class Project:
    """rnn_core's Trainer with a given configuration (validation off while racing)."""

    def __init__(self, config: TrainConfig) -> None:
        self.trainer = Trainer(load_builtin(CORPUS), config.replace(val_every=0))
        self.chars = self.trainer.streams * config.seq_len

    def step(self) -> int:
        self.trainer.step()
        return self.chars

    def validation_bpc(self) -> float:
        bpc = self.trainer.validation_bpc()
        assert bpc is not None
        return bpc


class TorchLoop:
    """PyTorch CPU training as the Trainer does it: nn.RNN (tanh) / nn.LSTM / nn.GRU on one-hot
    inputs + nn.Linear, float32, B streams over B equal segments of the training text, T characters
    a step, cross-entropy summed over the chunk and averaged over streams, the state (an LSTM's h
    and c) carried, detached, from chunk to chunk. Subclasses pick the sizes, optimizer and
    clipping."""

    def __init__(self, cell: str, batch: int, T: int, H: int, seed: int, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.torch = torch
        corpus = load_builtin(CORPUS)
        split = Trainer(corpus, TrainConfig(val_every=0))
        data = torch.as_tensor(split.train_data, dtype=torch.long)
        self.B, self.T, self.K = batch, T, len(corpus.vocab)
        self.L = len(data) // batch
        self.segments = data[: batch * self.L].reshape(batch, self.L)
        extra = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        self.net = getattr(torch.nn, cell.upper())(self.K, H, **extra)  # nn.RNN, nn.LSTM, nn.GRU
        self.out = torch.nn.Linear(H, self.K)
        self.params = [*self.net.parameters(), *self.out.parameters()]
        zeros = torch.zeros(1, batch, H)
        self.zero_state = (zeros, zeros.clone()) if cell == "lstm" else zeros
        self.state = self.zero_state
        self.p, self.n = 0, 0

    def clip_gradients(self) -> None:
        raise NotImplementedError

    def step(self) -> int:
        torch, T, K, B = self.torch, self.T, self.K, self.B
        if self.n == 0 or self.p + T + 1 >= self.L:
            self.p, self.state = 0, self.zero_state
        x = self.segments[:, self.p : self.p + T].T               # (T, B)
        y = self.segments[:, self.p + 1 : self.p + T + 1].T       # (T, B)
        hs, state = self.net(torch.nn.functional.one_hot(x, K).float(), self.state)
        logits = self.out(hs)                                     # (T, B, K)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, K), y.reshape(-1), reduction="sum") / B
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.clip_gradients()
        self.opt.step()
        self.state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        self.p += T
        self.n += 1
        return T * B


class TorchRNN(TorchLoop):
    """PyTorch CPU nn.RNN at min-char-rnn's sizes (hidden 100, T = 25), clip_grad_value_(5),
    Adagrad(lr 0.1), B streams."""

    def __init__(self, batch: int, seed: int = 0, threads: int = 1) -> None:
        super().__init__("rnn", batch, SEQ_LEN, HIDDEN, seed, threads)
        self.opt = self.torch.optim.Adagrad(self.params, lr=0.1)

    def clip_gradients(self) -> None:
        self.torch.nn.utils.clip_grad_value_(self.params, 5.0)


class TorchCell(TorchLoop):
    """PyTorch CPU nn.RNN / nn.LSTM / nn.GRU with the fast preset's training: 32 streams of T = 25
    characters, hidden 128, clipping by global norm at 20, Adam (lr 2e-3)."""

    def __init__(self, cell: str, seed: int = 0, threads: int = 1) -> None:
        fast = PRESETS["fast"]
        super().__init__(cell, fast.batch, fast.seq_len, fast.hidden, seed, threads)
        self.opt = self.torch.optim.Adam(self.params, lr=fast.lr)
        self.clip = fast.clip

    def clip_gradients(self) -> None:
        self.torch.nn.utils.clip_grad_norm_(self.params, self.clip)


class Products:
    """The matrix products of one fast-preset step of a cell and nothing else: T products
    h(t-1) @ W^T forward and T - 1 products dz(t) @ W backward ((4H or 3H or H) × H: all gates in
    one), the weight gradient sum_t dz(t) h(t-1)^T in one product, and the output layer's three
    (V h, dV, V^T dy over all T). Random float32 arrays of the step's shapes (B=32, H=128, T=25,
    the corpus's K). What OpenBLAS through NumPy takes for a step with no elementwise work at all:
    a floor under any NumPy implementation of it."""

    def __init__(self, cell: str, seed: int = 0) -> None:
        from rnn_core.cells import get

        fast = PRESETS["fast"]
        B, T, H, K = fast.batch, fast.seq_len, fast.hidden, len(load_builtin(CORPUS).vocab)
        shapes = get(cell).param_shapes(H, K)
        GH = sum(shape[0] for name, shape in shapes.items() if name[0] == "W")  # H, 3H or 4H
        rng = np.random.default_rng(seed)

        def rand(*shape: int) -> np.ndarray:
            return rng.standard_normal(shape).astype(np.float32) * 0.01

        self.T, self.B = T, B
        self.h, self.WT, self.z = rand(B, H), rand(H, GH), rand(B, GH)            # forward, per t
        self.W, self.dh = np.ascontiguousarray(self.WT.T), rand(B, H)               # backward, per t
        self.dZ, self.hs, self.dW = rand(T * B, GH), rand(T * B, H), rand(GH, H)    # dW, once
        self.VT, self.o, self.dV = rand(H, K), rand(T * B, K), rand(K, H)           # output layer
        self.V, self.dhs = np.ascontiguousarray(self.VT.T), rand(T * B, H)

    def step(self) -> int:
        for _ in range(self.T):
            self.h.dot(self.WT, out=self.z)
        for _ in range(self.T - 1):
            self.z.dot(self.W, out=self.dh)
        np.dot(self.dZ.T, self.hs, out=self.dW)
        np.dot(self.hs, self.VT, out=self.o)
        np.dot(self.o.T, self.hs, out=self.dV)
        np.dot(self.o, self.V, out=self.dhs)
        return self.T * self.B


class Floor(Products):
    """Products, plus the step's transcendental functions, each in one NumPy call per time step
    over all streams: tanh of every gate's pre-activation (B, G*H) (a sigmoid is a halved tanh)
    and, for the LSTM, tanh(s(t)) (B, H); exp of the T*B logits (T*B, K) once. Every NumPy
    implementation of the step computes at least these, so this is a firmer floor than Products:
    nothing else (no multiply, add, derivative, scatter, optimizer, clipping) is in it."""

    def __init__(self, cell: str, seed: int = 0) -> None:
        super().__init__(cell, seed)
        rng = np.random.default_rng(seed + 1)
        # Inputs of the sizes a trained step sees (tanh's and exp's speed can depend on the value).
        self.pre = rng.standard_normal(self.z.shape).astype(np.float32)           # (B, G*H)
        self.s = rng.standard_normal(self.h.shape).astype(np.float32) if cell == "lstm" else None
        self.logits = (rng.standard_normal(self.o.shape) * 3).astype(np.float32)  # (T*B, K)
        self.gates, self.tanh_s, self.y = (np.empty_like(a) for a in (self.pre, self.h, self.logits))

    def step(self) -> int:
        n = super().step()
        for _ in range(self.T):
            np.tanh(self.pre, out=self.gates)
            if self.s is not None:
                np.tanh(self.s, out=self.tanh_s)
        np.exp(self.logits, out=self.y)
        return n


class Bare:
    """bench/bare.py's lean trainer (no statistics, rollback or history) on the same text."""

    def __init__(self, batch: int, dtype: type, seed: int = 0) -> None:
        from bench.bare import BareTrainer

        corpus = load_builtin(CORPUS)
        split = Trainer(corpus, TrainConfig(val_every=0))
        self.model = BareTrainer(split.train_data, len(corpus.vocab), HIDDEN, SEQ_LEN, batch, dtype, seed)

    def step(self) -> int:
        return self.model.step()


def make(name: str, seed: int = 0, threads: int = 1):
    """A contender by name (see NAMES)."""
    if name == "minchar":
        return MinChar(seed)
    if name == "exact":
        return Project(TrainConfig(seed=seed))
    if name == "batched32":
        return Project(TrainConfig(batch=32, dtype="float32", seed=seed))
    if name == "fast":
        return Project(PRESETS["fast"].replace(seed=seed))
    if name == "bare_b1":
        return Bare(1, np.float64, seed)
    if name == "bare_b32":
        return Bare(32, np.float32, seed)
    if name == "torch_b1":
        return TorchRNN(1, seed, threads)
    if name == "torch_b32":
        return TorchRNN(32, seed, threads)
    if name in ("fast_lstm", "fast_gru"):
        return Project(PRESETS["fast"].replace(seed=seed, cell=name.removeprefix("fast_")))
    if name.startswith("products_"):
        return Products(name.removeprefix("products_"), seed)
    if name.startswith("floor_"):
        return Floor(name.removeprefix("floor_"), seed)
    if name.startswith("torch_fast_"):
        return TorchCell(name.removeprefix("torch_fast_"), seed, threads)
    raise ValueError(f"unknown contender {name!r}; choose one of {', '.join(NAMES)}")


NAMES = ("minchar", "exact", "batched32", "fast", "bare_b1", "bare_b32", "torch_b1", "torch_b32",
         "fast_lstm", "fast_gru", "torch_fast_rnn", "torch_fast_lstm", "torch_fast_gru",
         "products_rnn", "products_lstm", "products_gru", "floor_rnn", "floor_lstm", "floor_gru")
DESCRIPTIONS = {
    "minchar": "min-char-rnn loop (bench/minchar.py): B=1, float64, one-hot matmuls, Adagrad",
    "exact": "rnn_core exact mode: TrainConfig() = B=1, float64, Adagrad lr 0.1",
    "batched32": "rnn_core batched: B=32 streams, float32, Adagrad lr 0.1",
    "fast": "rnn_core PRESETS['fast'] (the app's default)",
    "bare_b1": "bench/bare.py: the leanest NumPy loop, no statistics/rollback/history, B=1, float64",
    "bare_b32": "bench/bare.py: the same, B=32 streams, float32",
    "torch_b1": "PyTorch CPU nn.RNN + Adagrad, B=1, float32",
    "torch_b32": "PyTorch CPU nn.RNN + Adagrad, B=32, float32",
    "fast_lstm": "rnn_core PRESETS['fast'] with cell='lstm' (B=32, H=128, float32, Adam, clip norm 20)",
    "fast_gru": "rnn_core PRESETS['fast'] with cell='gru'",
    "torch_fast_rnn": "PyTorch CPU nn.RNN with the fast preset's training (TorchCell)",
    "torch_fast_lstm": "PyTorch CPU nn.LSTM with the fast preset's training (TorchCell)",
    "torch_fast_gru": "PyTorch CPU nn.GRU with the fast preset's training (TorchCell)",
    **{f"products_{c}": f"the matrix products alone of one fast-preset {c.upper()} step (Products): "
                        "a floor under NumPy" for c in ("rnn", "lstm", "gru")},
    **{f"floor_{c}": f"the products plus the tanh and exp calls of one fast-preset {c.upper()} step "
                     "(Floor): the least a NumPy step does" for c in ("rnn", "lstm", "gru")},
}
