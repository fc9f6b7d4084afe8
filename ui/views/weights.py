"""The weights (the RNN's U, W, V, b, c; the LSTM's and GRU's per gate, e.g. U_f, W_f, b_f):
each as a matrix with its last update and per-weight step size, a summary table, and a copy of all
of them (for sampling and your own text)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.corpus import Vocab
from rnn_core.model import Params
from rnn_core.trainer import Trainer
from ui.text import visible_char

MAX_MATRIX = 256  # rows and columns per weight heatmap


ROLES = {"U": "input→hidden", "W": "hidden→hidden", "V": "hidden→output", "b": "hidden bias",
         "c": "output bias"}


def read_param_names(trainer: Trainer) -> tuple[str, ...]:
    """The model's weights, in its cell's order (run under the lock)."""
    return trainer.param_names


def weight_caption(name: str) -> str:
    """What a weight connects: "input→hidden" for U; "x→f", "h→f", "f bias" for a gate's U_f,
    W_f, b_f."""
    kind, _, gate = name.partition("_")
    if not gate:
        return ROLES.get(name, name)
    return {"U": f"x→{gate}", "W": f"h→{gate}", "b": f"{gate} bias"}.get(kind, name)


def read_params(trainer: Trainer) -> tuple[Params, Vocab, int]:
    """Copies of the weights, the vocabulary and the step (run under the lock)."""
    return trainer.snapshot_params(), trainer.corpus.vocab, trainer.step_count


@dataclass(frozen=True)
class WeightView:
    name: str
    weights: np.ndarray          # 2-D (a vector is one row), at most MAX_MATRIX per axis
    update: np.ndarray           # same shape: the last step's change
    effective_lr: np.ndarray | None  # same shape, adaptive optimizers only
    row_labels: list[str]
    col_labels: list[str]
    full_shape: tuple[int, ...]
    step: int
    optimizer: str
    lr: float

    @property
    def truncated(self) -> bool:
        """Whether the heatmaps show only the first MAX_MATRIX rows/columns."""
        return self.weights.size < math.prod(self.full_shape)


def _axis_labels(name: str, axis: int, n: int, vocab: Vocab) -> list[str]:
    """Rows/columns of U (H, K), W (H, H), V (K, H), b (H,), c (K,): hidden units or characters
    (a gate's U_f, W_f, b_f are shaped as U, W, b)."""
    kind = {("U", 0): "h", ("U", 1): "x", ("W", 0): "h", ("W", 1): "h", ("V", 0): "x", ("V", 1): "h",
            ("b", 1): "h", ("c", 1): "x"}.get((name.partition("_")[0], axis), "")
    if kind == "x":
        return [visible_char(vocab.chars[i]) for i in range(n)]
    if kind == "h":
        return [f"h{i}" for i in range(n)]
    return [name]


def read_weights(trainer: Trainer, name: str, max_size: int = MAX_MATRIX) -> WeightView:
    """One parameter's weights, last update and effective step size, cut to max_size per axis
    (run under the lock: only the slices are copied)."""
    if name not in trainer.param_names:
        raise ValueError(f"unknown parameter {name!r}")
    p = trainer.params[name]
    full_shape = p.shape
    sl = (slice(0, max_size),) * p.ndim

    def cut(a: np.ndarray) -> np.ndarray:
        out = np.asarray(a[sl], dtype=np.float64)
        return out[None, :] if out.ndim == 1 else out

    before = trainer.last_update()[name]
    eff = trainer.optimizer.effective_lr(name, trainer.config.lr)
    w = cut(p)
    vocab = trainer.corpus.vocab
    return WeightView(
        name=name, weights=w, update=cut(before), effective_lr=None if eff is None else cut(eff),
        row_labels=_axis_labels(name, 0, w.shape[0], vocab) if p.ndim == 2 else [name],
        col_labels=_axis_labels(name, 1, w.shape[1], vocab),
        full_shape=tuple(full_shape), step=trainer.step_count, optimizer=trainer.config.optimizer,
        lr=trainer.config.lr,
    )


def read_weight_summary(trainer: Trainer) -> pd.DataFrame:
    """Per parameter: ||θ||, ||Δθ|| of the last step, their ratio and the median effective step size."""
    update = trainer.last_update()
    rows = []
    for k in trainer.param_names:
        w = trainer.params[k].astype(np.float64)
        d = update[k].astype(np.float64)
        eff = trainer.optimizer.effective_lr(k, trainer.config.lr)
        wn, dn = float(np.linalg.norm(w)), float(np.linalg.norm(d))
        rows.append({"parameter": k, "shape": " × ".join(map(str, w.shape)), "‖θ‖": wn,
                     "‖Δθ‖ last step": dn, "‖Δθ‖ / ‖θ‖": dn / wn if wn > 0 else np.nan,
                     "median step size": float(np.median(eff)) if eff is not None else trainer.config.lr})
    return pd.DataFrame(rows)
