"""The gradient check: backprop against finite differences on the current weights and stream 0's
last chunk, for a few random entries of each parameter."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.cells import cell_of, hidden_size
from rnn_core.gradcheck import grad_check
from rnn_core.model import Params
from rnn_core.trainer import Trainer

GRADCHECK_MAX_T = 50    # the gradient check uses at most this many steps of the chunk ...
GRADCHECK_BUDGET = 2e8  # ... and as many entries per parameter as fit about this many flops (~1 s)


@dataclass(frozen=True)
class GradCheckResult:
    step: int
    errors: dict[str, float]  # relative error per parameter
    entries: int              # entries checked per parameter
    steps_checked: int        # time steps of the chunk used
    seconds: float


def gradcheck_entries(steps: int, hidden: int, vocab: int, budget: float = GRADCHECK_BUDGET,
                      gates: int = 1, params: int = 5) -> int:
    """Entries per parameter so that 2 forwards per entry, for each of `params` parameters (the
    RNN's 5), fit the flop budget; a forward step costs `gates` times the RNN's (the LSTM's 4
    gates, the GRU's 3)."""
    per_forward = gates * steps * (hidden * hidden + hidden * vocab + hidden)
    return int(min(10, max(1, budget // (2 * params * per_forward))))


def read_gradcheck_input(trainer: Trainer) -> tuple[Params, np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Weights and stream 0's last chunk (inputs, targets (T, 1), the carried state h0 (1, C));
    run under the lock."""
    trace = trainer.chunk_trace(0)
    if trace is None:
        return None
    T = min(len(trace.inputs), GRADCHECK_MAX_T)
    return (trainer.snapshot_params(), trace.inputs[:T, None].copy(), trace.targets[:T, None].copy(),
            trace.carry_prev[None, :].copy(), trainer.step_count)


def run_gradcheck(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray,
                  step: int) -> GradCheckResult:
    """Backprop against finite differences on a few random entries per parameter (outside the lock)."""
    cell = cell_of(params)
    H, K = hidden_size(params), params["V"].shape[0]
    T = inputs.shape[0]
    entries = gradcheck_entries(T, H, K, gates=max(1, len(cell.GATES)), params=len(cell.PARAM_NAMES))
    t0 = time.perf_counter()
    errors = grad_check(params, inputs, targets, h0, max_entries=entries,
                        rng=np.random.default_rng(step))
    return GradCheckResult(step, errors, entries, T, time.perf_counter() - t0)


def gradcheck_table(result: GradCheckResult) -> pd.DataFrame:
    def verdict(e: float) -> str:
        # float64 backprop agrees to ~1e-8; a few 1e-5 come from entries with tiny gradients
        return "correct" if e < 1e-5 else "borderline" if e < 1e-3 else "WRONG"
    return pd.DataFrame({"parameter": list(result.errors),
                         "relative error": list(result.errors.values()),
                         "verdict": [verdict(e) for e in result.errors.values()]})
