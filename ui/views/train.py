"""The Train page's views: a snapshot of the trainer's metrics taken under the session's lock, and
the downsampled tables the Vega-Lite specs in ui/figures/train.py draw.

`read_train_view` runs inside `TrainingSession.read`, so it only copies; everything else runs
outside the lock. Every table can be limited to a range of steps (`StepRange`, the charts' zoom):
rows outside it are left out before downsampling, so a zoomed chart shows more detail and its
y axis fits what is shown.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.config import TrainConfig
from rnn_core.model import PARAM_NAMES
from rnn_core.trainer import StepRecord, Trainer
from rnn_core.units import bits_per_char, nats_per_chunk, uniform_bpc, uniform_loss
from ui.session.events import Event

MAX_POINTS = 400       # per trace in the loss chart: smooth live, a few KB per refresh
MAX_GRAD_POINTS = 200  # per trace in the gradient chart (12 traces)
MAX_NAV_POINTS = 200   # in the step navigator
CLIP_WINDOW = 50       # kept steps (history rows) in the rolling share of steps clipped (norm mode)

LOSS_SERIES = ("chunk loss", "smooth loss", "validation", "uniform guess")
BEST_SERIES = "best validation"  # one marked point, drawn apart from LOSS_SERIES
STAGES = ("before clipping", "after clipping")
GLOBAL = "all (global)"  # the global norm's "parameter" in the gradient chart

StepRange = tuple[int, int]  # (first, last) step shown; None shows every step


@dataclass(frozen=True)
class TrainView:
    """One consistent snapshot of a trainer's metrics (copies, safe to use outside the lock)."""

    step: int
    chars_seen: int
    train_time: float
    vocab_size: int
    seq_len: int
    streams: int
    history: dict[str, np.ndarray]  # step_columns(param_names) -> (rows,)
    val: dict[str, np.ndarray]      # VAL_COLUMNS -> (evaluations,)
    config: TrainConfig
    smooth_loss: float = float("nan")  # the trainer's, nats per chunk (also with no history row)
    steps_above_uniform: int = 0       # consecutive steps whose chunk loss was worse than a uniform guess's
    best: tuple[int, float] | None = None  # (step, validation bits/char) of the best weights kept
    param_names: tuple[str, ...] = PARAM_NAMES  # the cell's weights (the RNN's U, W, V, b, c)
    last_record: StepRecord | None = None  # the latest step's (kept even where the history thins)

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

    @property
    def smooth_bpc(self) -> float:
        return bits_per_char(self.smooth_loss, self.seq_len)


def read_train_view(trainer: Trainer) -> TrainView:
    """Copy what the Train page draws (call under the session's lock)."""
    cfg, best = trainer.config, trainer.best
    return TrainView(
        step=trainer.step_count, chars_seen=trainer.chars_seen, train_time=trainer.train_time,
        vocab_size=trainer.vocab_size, seq_len=cfg.seq_len, streams=trainer.streams,
        history=trainer.history.as_dict(), val=trainer.val_history.as_dict(),
        config=cfg, smooth_loss=trainer.smooth_loss,
        steps_above_uniform=trainer.steps_above_uniform,
        best=(best.step, trainer.best_val_bpc) if best is not None else None,
        param_names=trainer.param_names, last_record=trainer.last_record,
    )


def in_range(steps: np.ndarray, zoom: StepRange | None) -> np.ndarray:
    """Indices of `steps` within the range (all of them without one)."""
    if zoom is None:
        return np.arange(len(steps))
    return np.flatnonzero((steps >= zoom[0]) & (steps <= zoom[1]))


def shown_range(view: TrainView, zoom: StepRange | None) -> StepRange:
    """The steps a chart's x axis spans: the zoom, or the whole run (at least one step)."""
    return zoom if zoom is not None else (0, max(view.step, 1))


def downsample_index(n: int, max_points: int) -> np.ndarray:
    """At most max_points indices into n rows, evenly spaced, always keeping the first and last."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def _rows(steps: np.ndarray, zoom: StepRange | None, max_points: int) -> np.ndarray:
    """Indices of the rows to draw: within the range, then downsampled."""
    inside = in_range(steps, zoom)
    return inside[downsample_index(len(inside), max_points)]


def loss_frame(view: TrainView, bits: bool = False, zoom: StepRange | None = None,
               max_points: int = MAX_POINTS) -> pd.DataFrame:
    """Long table (step, value, series) for the loss chart.

    Nats per chunk (the trainer's loss: sum over T, mean over streams) or bits per character; the
    uniform-guess baseline, the validation loss and the best validation point (series
    BEST_SERIES, the weights kept) are converted to the same unit.
    """
    h = view.history
    idx = _rows(h["step"], zoom, max_points)
    steps = h["step"][idx]
    vidx = _rows(view.val["step"], zoom, max_points)
    v_steps, v_bpc = view.val["step"][vidx], view.val["val_bpc"][vidx]
    if bits:
        raw, smooth, base, val = h["bpc"][idx], h["smooth_bpc"][idx], view.uniform_bpc, v_bpc
    else:
        raw, smooth, base = h["loss"][idx], h["smooth_loss"][idx], view.uniform_loss
        val = nats_per_chunk(v_bpc, view.seq_len)
    ends = np.array(shown_range(view, zoom), dtype=float)
    parts = [
        pd.DataFrame({"step": steps, "value": raw, "series": LOSS_SERIES[0]}),
        pd.DataFrame({"step": steps, "value": smooth, "series": LOSS_SERIES[1]}),
        pd.DataFrame({"step": v_steps, "value": val, "series": LOSS_SERIES[2]}),
        pd.DataFrame({"step": ends, "value": [base, base], "series": LOSS_SERIES[3]}),
    ]
    if view.best is not None and len(in_range(np.array([view.best[0]]), zoom)):
        best_step, best_bpc = view.best
        value = best_bpc if bits else nats_per_chunk(best_bpc, view.seq_len)
        parts.append(pd.DataFrame({"step": [float(best_step)], "value": [value], "series": BEST_SERIES}))
    frame = pd.concat([p for p in parts if len(p)], ignore_index=True)
    return frame[np.isfinite(frame["value"])]


def grad_norm_frame(view: TrainView, zoom: StepRange | None = None,
                    max_points: int = MAX_GRAD_POINTS) -> pd.DataFrame:
    """Long table (step, norm, parameter, stage): ||dL/dθ|| per parameter, and the global norm
    over all of them (parameter GLOBAL, the one norm clipping looks at), before and after
    clipping. Norms are floored at 1e-12 so the chart's log scale can draw a zero gradient."""
    h = view.history
    idx = _rows(h["step"], zoom, max_points)
    steps = h["step"][idx]
    columns = {**{k: (f"pre_{k}", f"post_{k}") for k in view.param_names},
               GLOBAL: ("global_pre", "global_post")}
    parts = [
        pd.DataFrame({"step": steps, "norm": np.maximum(h[col][idx], 1e-12), "parameter": k, "stage": stage})
        for k, cols in columns.items() for col, stage in zip(cols, STAGES, strict=True)
    ]
    return pd.concat(parts, ignore_index=True) if len(steps) else pd.DataFrame(
        columns=["step", "norm", "parameter", "stage"])


def clipped_frame(view: TrainView, zoom: StepRange | None = None,
                  max_points: int = MAX_GRAD_POINTS) -> pd.DataFrame:
    """(step, fraction): how much clipping acted. By value, the share of gradient entries it
    changed at each step; by norm, where a clipped step scales every entry, the share of the last
    CLIP_WINDOW kept steps whose global norm was scaled down (0 with clipping off)."""
    h = view.history
    idx = _rows(h["step"], zoom, max_points)
    return pd.DataFrame({"step": h["step"][idx], "fraction": clipped_fractions(view)[idx]})


def clipped_fractions(view: TrainView) -> np.ndarray:
    """clipped_frame's fraction at every kept step (by norm: of the last CLIP_WINDOW kept steps,
    the share scaled down; by value, the share of entries changed; off: 0)."""
    h = view.history
    if view.config.clip_mode == "norm" and len(h["step"]):
        clipped = (h["global_post"] < h["global_pre"]).astype(float)
        counts = np.convolve(clipped, np.ones(CLIP_WINDOW))[: len(clipped)]  # the last CLIP_WINDOW
        return counts / np.minimum(np.arange(1, len(clipped) + 1), CLIP_WINDOW)
    return h["clipped_fraction"]


def clipped_title(view: TrainView) -> str:
    """What clipped_frame's fraction is, for the chart's heading and axis."""
    if view.config.clip_mode == "norm":
        return "Share of recent steps clipped"
    if view.config.clip_mode == "value":
        return "Share of gradient entries clipped"
    return "Clipping is off"


def clip_threshold(view: TrainView) -> float | None:
    """The global norm clipping scales down to (by norm); None when clipping does not act on the
    norm (by value each entry is clipped, and off nothing is)."""
    return view.config.clip if view.config.clip_mode == "norm" else None


def events_frame(events: list[Event], zoom: StepRange | None = None) -> pd.DataFrame:
    """(step, label, kind) of the events within the range, for the charts' vertical rules."""
    rows = [e for e in events if zoom is None or zoom[0] <= e.step <= zoom[1]]
    return pd.DataFrame({"step": [float(e.step) for e in rows], "label": [e.label for e in rows],
                         "kind": [e.kind for e in rows]})


def navigator_frame(view: TrainView, max_points: int = MAX_NAV_POINTS) -> pd.DataFrame:
    """(step, value): the chunk loss in bits/char over the whole run, for the step navigator
    (the strip dragged across to zoom every chart)."""
    h = view.history
    idx = downsample_index(len(h["step"]), max_points)
    frame = pd.DataFrame({"step": h["step"][idx], "value": h["bpc"][idx]})
    return frame[np.isfinite(frame["value"])]


def selected_range(selection: object) -> StepRange | None:
    """The steps selected in the navigator (Streamlit's chart state, {"selection": {"steps":
    {"step": [a, b]}}}), widened to whole steps; None for no selection or a malformed one."""
    try:
        a, b = selection["selection"]["steps"]["step"]  # type: ignore[index]
        lo, hi = sorted((float(a), float(b)))
    except (KeyError, TypeError, ValueError):
        return None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    lo, hi = max(0, int(np.floor(lo))), int(np.ceil(hi))
    return (lo, hi) if hi > lo else None


def clamp_zoom(zoom: StepRange | None, step: int) -> StepRange | None:
    """A zoom within the steps trained so far (training may have gone back since it was chosen);
    None when nothing of it is left."""
    if zoom is None:
        return None
    lo, hi = zoom[0], min(zoom[1], step)
    return (lo, hi) if hi > lo else None


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
