"""Quick correctness check to run after every optimisation (a few seconds; no timing).

    python bench/check.py

1. Gradient check of every parameter of every cell (RNN, LSTM, GRU; float64, batch 1 and 3)
   below 1e-6.
2. Exact mode against the benchmark's min-char-rnn for 50 steps, to 1e-10 (small sizes, where
   min-char-rnn is not chaotic; see tests/test_bench_minchar.py).
3. The one-vector paths (FlatParams) against the per-array paths, bit for bit: every optimizer
   and every clipping mode give identical results either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.minchar import MinCharRNN  # noqa: E402
from rnn_core import TrainConfig, Trainer, corpus_from_bytes  # noqa: E402
from rnn_core.cells import CELLS  # noqa: E402
from rnn_core.gradcheck import grad_check  # noqa: E402
from rnn_core.layout import FlatParams  # noqa: E402
from rnn_core.model import PARAM_NAMES, backward, forward, init_params  # noqa: E402
from rnn_core.optim import CLIP_MODES, OPTIMIZERS, clip_gradients, make_optimizer  # noqa: E402

TEXT = b"the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat by a log.\n" * 3


def check_gradients() -> float:
    rng = np.random.default_rng(0)
    worst = 0.0
    for cell in CELLS.values():
        for B in (1, 3):
            params = cell.init_params(7, 6, rng)
            for a in params.values():
                if a.ndim == 1:  # nonzero biases
                    a[:] = rng.normal(0, 0.3, a.shape)
            errors = grad_check(params, rng.integers(0, 6, (9, B)), rng.integers(0, 6, (9, B)),
                                rng.uniform(-0.5, 0.5, (B, cell.carry_size(7))))
            worst = max(worst, *errors.values())
    return worst


def check_exact() -> float:
    corpus = corpus_from_bytes(TEXT, seq_len=10)
    trainer = Trainer(corpus, TrainConfig(hidden=16, seq_len=10, val_fraction=0.0))
    ref = MinCharRNN(corpus.text, 16, 10, 0.1, params=trainer.params, chars=corpus.vocab.chars)
    worst = 0.0
    for _ in range(50):
        ref.step()
        worst = max(worst, abs(trainer.step().loss - ref.loss))
    return max(worst, *(float(np.abs(trainer.params[k] - a).max()) for k, a in ref.params().items()))


def check_flat_paths() -> int:
    """Number of (optimizer or clip mode, dtype) cases whose flat and per-array results differ."""
    rng = np.random.default_rng(1)
    mismatches = 0
    for dtype in (np.float64, np.float32):
        params = init_params(8, 5, rng, dtype=dtype)
        inputs, targets = rng.integers(0, 5, (6, 2)), rng.integers(0, 5, (6, 2))
        grads, _ = backward(params, forward(params, inputs, targets, np.zeros((2, 8), dtype)))
        grads = FlatParams({k: g * 30 for k, g in grads.items()})  # large enough to be clipped
        assert isinstance(params, FlatParams) and params.flat() is not None and grads.flat() is not None
        for mode in CLIP_MODES:
            flat_clipped, flat_stats = clip_gradients(grads, mode, 0.5)
            plain_clipped, plain_stats = clip_gradients(dict(grads), mode, 0.5)
            same = all(np.array_equal(flat_clipped[k], plain_clipped[k]) for k in PARAM_NAMES)
            mismatches += not (same and flat_stats == plain_stats)
        for name in OPTIMIZERS:
            flat_p = FlatParams(params)
            plain_p = {k: a.copy() for k, a in params.items()}
            # plain dicts of weights and gradients: the optimizer goes parameter by parameter
            flat_opt, plain_opt = make_optimizer(name, flat_p), make_optimizer(name, plain_p)
            for _ in range(3):
                flat_opt.step(flat_p, grads, 0.01)
                plain_opt.step(plain_p, dict(grads), 0.01)
            mismatches += not all(np.array_equal(flat_p[k], plain_p[k]) for k in PARAM_NAMES)
    return mismatches


def main() -> int:
    grad, exact, flat = check_gradients(), check_exact(), check_flat_paths()
    print(f"gradient check, worst relative error: {grad:.1e}  (must be < 1e-6)")
    print(f"exact mode vs min-char-rnn, 50 steps, worst difference: {exact:.1e}  (must be < 1e-10)")
    print(f"flat vs per-array optimizer and clipping results that differ: {flat}  (must be 0)")
    ok = grad < 1e-6 and exact < 1e-10 and flat == 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
