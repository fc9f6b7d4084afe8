"""The Train page's views: a snapshot of the trainer's metrics taken under the session's lock, and
the downsampled tables the Vega-Lite specs in ui/figures/train.py draw.

`read_train_view` runs inside `TrainingSession.read`, so it only copies; everything else runs
outside the lock.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.model import PARAM_NAMES
from rnn_core.trainer import Trainer
from rnn_core.units import nats_per_chunk, uniform_bpc, uniform_loss

MAX_POINTS = 400       # per trace in the loss chart: smooth live, a few KB per refresh
MAX_GRAD_POINTS = 200  # per trace in the gradient chart (10 traces)

LOSS_SERIES = ("chunk loss", "smooth loss", "validation", "uniform guess")
STAGES = ("before clipping", "after clipping")


@dataclass(frozen=True)
class TrainView:
    """One consistent snapshot of a trainer's metrics (copies, safe to use outside the lock)."""

    step: int
    chars_seen: int
    train_time: float
    vocab_size: int
    seq_len: int
    streams: int
    history: dict[str, np.ndarray]  # STEP_COLUMNS -> (rows,)
    val: dict[str, np.ndarray]      # VAL_COLUMNS -> (evaluations,)

    @property
    def uniform_loss(self) -> float:
        """A uniform guess's loss over one chunk, in nats."""
        return uniform_loss(self.vocab_size, self.seq_len)

    @property
    def uniform_bpc(self) -> float:
        return uniform_bpc(self.vocab_size)

    @property
    def last_val_bpc(self) -> float | None:
        v = self.val["val_bpc"]
        return float(v[-1]) if len(v) else None


def read_train_view(trainer: Trainer) -> TrainView:
    """Copy what the Train page draws (call under the session's lock)."""
    return TrainView(
        step=trainer.step_count, chars_seen=trainer.chars_seen, train_time=trainer.train_time,
        vocab_size=trainer.vocab_size, seq_len=trainer.config.seq_len, streams=trainer.streams,
        history=trainer.history.as_dict(), val=trainer.val_history.as_dict(),
    )


def downsample_index(n: int, max_points: int) -> np.ndarray:
    """At most max_points indices into n rows, evenly spaced, always keeping the first and last."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def loss_frame(view: TrainView, bits: bool = False, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """Long table (step, value, series) for the loss chart.

    Nats per chunk (the trainer's loss: sum over T, mean over streams) or bits per character; the
    uniform-guess baseline and the validation loss are converted to the same unit.
    """
    h = view.history
    idx = downsample_index(len(h["step"]), max_points)
    steps = h["step"][idx]
    vidx = downsample_index(len(view.val["step"]), max_points)
    v_steps, v_bpc = view.val["step"][vidx], view.val["val_bpc"][vidx]
    if bits:
        raw, smooth, base, val = h["bpc"][idx], h["smooth_bpc"][idx], view.uniform_bpc, v_bpc
    else:
        raw, smooth, base = h["loss"][idx], h["smooth_loss"][idx], view.uniform_loss
        val = nats_per_chunk(v_bpc, view.seq_len)
    ends = np.array([0.0, max(float(view.step), 1.0)])
    parts = [
        pd.DataFrame({"step": steps, "value": raw, "series": LOSS_SERIES[0]}),
        pd.DataFrame({"step": steps, "value": smooth, "series": LOSS_SERIES[1]}),
        pd.DataFrame({"step": v_steps, "value": val, "series": LOSS_SERIES[2]}),
        pd.DataFrame({"step": ends, "value": [base, base], "series": LOSS_SERIES[3]}),
    ]
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    return frame[np.isfinite(frame["value"])]


def grad_norm_frame(view: TrainView, max_points: int = MAX_GRAD_POINTS) -> pd.DataFrame:
    """Long table (step, norm, parameter, stage): ||dL/dθ|| per parameter before and after
    clipping. Norms are floored at 1e-12 so the chart's log scale can draw a zero gradient."""
    h = view.history
    idx = downsample_index(len(h["step"]), max_points)
    steps = h["step"][idx]
    parts = [
        pd.DataFrame({"step": steps, "norm": np.maximum(h[f"{prefix}_{k}"][idx], 1e-12),
                      "parameter": k, "stage": stage})
        for k in PARAM_NAMES for prefix, stage in (("pre", STAGES[0]), ("post", STAGES[1]))
    ]
    return pd.concat(parts, ignore_index=True) if len(steps) else pd.DataFrame(
        columns=["step", "norm", "parameter", "stage"])


def clipped_frame(view: TrainView, max_points: int = MAX_GRAD_POINTS) -> pd.DataFrame:
    """(step, fraction): the share of gradient entries that clipping changed at each step."""
    h = view.history
    idx = downsample_index(len(h["step"]), max_points)
    return pd.DataFrame({"step": h["step"][idx], "fraction": h["clipped_fraction"][idx]})


def compute_rate(view: TrainView) -> float | None:
    """Steps per second of training compute (excludes the worker's rests and page reads)."""
    return view.step / view.train_time if view.train_time > 0 else None


def metrics_csv(view: TrainView) -> bytes:
    """Every kept history row (evenly thinned over the run, see rnn_core.history) with the
    validation bits/char joined on the step where it was measured."""
    steps = pd.DataFrame(view.history)
    val = pd.DataFrame({"step": view.val["step"], "val_bpc": view.val["val_bpc"]})
    table = steps.merge(val, on="step", how="left")
    for col in ("step", "chars_seen"):
        table[col] = table[col].astype("int64")
    buf = io.StringIO()
    table.to_csv(buf, index=False, float_format="%.6g")
    return buf.getvalue().encode()
