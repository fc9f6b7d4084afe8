"""Data shaping for the Inspect page: snapshots taken under the trainer's lock, and the arrays the
figure builders in ui/inspect_charts.py draw. No Streamlit here.

Every `read_*` function takes the Trainer and is meant to run inside `TrainingSession.read`, so it
only copies (bounded slices of) arrays; the math that turns them into views runs outside the lock.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.corpus import Vocab
from rnn_core.gradcheck import grad_check
from rnn_core.model import PARAM_NAMES, Params, backward, forward
from rnn_core.trainer import ChunkTrace, Trainer
from ui.text import visible_char

MAX_UNITS = 256         # hidden units per heatmap (a 1024-unit model shows its first / top 256)
MAX_MATRIX = 256        # rows and columns per weight heatmap
MAX_OWN_TEXT = 300      # characters of "your own text"
TEXT_GRID_WIDTH = 50    # characters per row of a coloured-text grid
TOP_K = 5               # alternatives per time step in the softmax views
GRADCHECK_MAX_T = 50    # the gradient check uses at most this many steps of the chunk ...
GRADCHECK_BUDGET = 2e8  # ... and as many entries per parameter as fit about this many flops (~1 s)

UNIT_ORDERS = ("unit number", "most variable", "most saturated")

# --- hidden states ------------------------------------------------------------------------------


def unit_order(hs: np.ndarray, how: str = "unit number") -> np.ndarray:
    """Order of the hidden units (indices into H) for hs of shape (T, H)."""
    if how == "unit number":
        return np.arange(hs.shape[1])
    if how == "most variable":
        return np.argsort(-hs.std(axis=0), kind="stable")
    if how == "most saturated":
        return np.argsort(-np.abs(hs).mean(axis=0), kind="stable")
    raise ValueError(f"unknown unit order {how!r}; choose one of {UNIT_ORDERS}")


@dataclass(frozen=True)
class HiddenView:
    z: np.ndarray          # (units, T) activations in [-1, 1]
    units: np.ndarray      # (units,) hidden-unit index of each row
    labels: list[str]      # (T,) visible input characters
    total_units: int       # H, of which `units` are shown


def hidden_view(trace: ChunkTrace, order: str = "unit number", max_units: int = MAX_UNITS) -> HiddenView:
    units = unit_order(trace.hs, order)[:max_units]
    return HiddenView(z=trace.hs[:, units].T.copy(), units=units,
                      labels=[visible_char(c) for c in trace.input_chars],
                      total_units=trace.hs.shape[1])


@dataclass(frozen=True)
class TextGrid:
    """Characters laid out in rows of `width`, with a value per character (NaN pads the last row)."""

    z: np.ndarray              # (rows, width) float, NaN where there is no character
    text: list[list[str]]      # (rows, width) visible characters ("" as padding)
    position: np.ndarray       # (rows, width) index into the text, -1 as padding


def text_grid(chars: list[str], values: np.ndarray, width: int = TEXT_GRID_WIDTH) -> TextGrid:
    """Lay out characters with one value each, e.g. a unit's activation or the surprise -log p."""
    n = len(chars)
    if len(values) != n:
        raise ValueError(f"{n} characters but {len(values)} values")
    width = max(1, min(width, n)) if n else 1
    rows = max(1, math.ceil(n / width))
    z = np.full(rows * width, np.nan)
    z[:n] = values
    pos = np.full(rows * width, -1)
    pos[:n] = np.arange(n)
    labels = [visible_char(c) for c in chars] + [""] * (rows * width - n)
    text = [labels[r * width : (r + 1) * width] for r in range(rows)]
    return TextGrid(z=z.reshape(rows, width), text=text, position=pos.reshape(rows, width))


def unit_grid(trace: ChunkTrace, unit: int) -> tuple[TextGrid, int]:
    """The input text coloured by one unit's activation (unit clamped to [0, H)); the unit used."""
    unit = min(max(unit, 0), trace.hs.shape[1] - 1)
    return text_grid(trace.input_chars, trace.hs[:, unit]), unit


def surprise_grid(trace: ChunkTrace) -> TextGrid:
    """The predicted characters (the targets) coloured by -ln p."""
    return text_grid(trace.target_chars, trace.losses)


# --- softmax per time step ----------------------------------------------------------------------


@dataclass(frozen=True)
class SoftmaxView:
    inputs: list[str]       # (T,) visible input characters
    targets: list[str]      # (T,) visible true next characters
    p_target: np.ndarray    # (T,) probability given to the true next character
    losses: np.ndarray      # (T,) -log p_target; they sum to `loss`
    top_chars: list[list[str]]  # (T, k) visible top-k candidates, most likely first
    top_p: np.ndarray       # (T, k)
    top_is_target: np.ndarray   # (T, k) bool
    loss: float             # this stream's chunk loss
    mean_loss: float        # the step's loss as recorded (mean over streams)
    vocab_size: int


def softmax_view(trace: ChunkTrace, vocab: Vocab, k: int = TOP_K) -> SoftmaxView:
    K = trace.ps.shape[1]
    k = max(1, min(k, K))
    T = len(trace.targets)
    top = np.argsort(-trace.ps, axis=1, kind="stable")[:, :k]              # (T, k)
    top_p = np.take_along_axis(trace.ps, top, axis=1)                       # (T, k)
    p_target = trace.ps[np.arange(T), trace.targets]                        # (T,)
    return SoftmaxView(
        inputs=[visible_char(c) for c in trace.input_chars],
        targets=[visible_char(c) for c in trace.target_chars],
        p_target=p_target, losses=trace.losses.copy(),
        top_chars=[[visible_char(vocab.chars[i]) for i in row] for row in top],
        top_p=top_p, top_is_target=top == trace.targets[:, None],
        loss=trace.loss, mean_loss=trace.mean_loss, vocab_size=K,
    )


def softmax_table(view: SoftmaxView) -> pd.DataFrame:
    """One row per time step plus a total row whose loss term is the chunk loss."""
    top = [" · ".join(f"{c} {p:.2f}" for c, p in zip(cs, ps, strict=True))
           for cs, ps in zip(view.top_chars, view.top_p, strict=True)]
    df = pd.DataFrame({
        "t": [str(t) for t in range(len(view.inputs))],
        "input": view.inputs, "next (true)": view.targets,
        "p(true next)": view.p_target, "loss term -ln p": view.losses,
        f"top {view.top_p.shape[1]}": top,
    })
    total = pd.DataFrame({"t": ["Σ"], "input": [""], "next (true)": [""], "p(true next)": [np.nan],
                          "loss term -ln p": [float(view.losses.sum())], f"top {view.top_p.shape[1]}": [""]})
    return pd.concat([df, total], ignore_index=True)


# --- your own text ------------------------------------------------------------------------------


OWN_TEXT_EXAMPLE = "Beautiful is better than ugly."


def default_own_text(vocab: Vocab, corpus_text: str) -> str:
    """A starting text the model can read: the example if the vocabulary covers it, else the
    corpus's first characters."""
    return OWN_TEXT_EXAMPLE if not vocab.unknown(OWN_TEXT_EXAMPLE) else corpus_text[:60]


def own_text_trace(params: Params, vocab: Vocab, text: str, step: int = 0) -> ChunkTrace:
    """The hidden states, softmax and loss terms of `text` under `params`, read from a zero state:
    the same views as for a training chunk. Raises ValueError (a message for the user) when the
    text is too short or too long, or has characters outside the vocabulary."""
    unknown = vocab.unknown(text)
    if unknown:
        shown = ", ".join(f"'{visible_char(c)}'" for c in unknown[:20])
        raise ValueError(f"These characters are not in the training text's vocabulary, so the model "
                         f"has no input for them: {shown}. Remove or replace them.")
    if len(text) < 2:
        raise ValueError("Type at least two characters: each one is the input for predicting the next.")
    if len(text) > MAX_OWN_TEXT + 1:
        raise ValueError(f"At most {MAX_OWN_TEXT + 1} characters, please (got {len(text)}).")
    ids = vocab.encode(text)
    inputs, targets = ids[:-1, None], ids[1:, None]                  # (T, 1)
    H = params["W"].shape[0]
    fw = forward(params, inputs, targets, np.zeros((1, H), params["W"].dtype))
    _, dh_norms = backward(params, fw)
    losses = fw.losses[:, 0].astype(np.float64)
    return ChunkTrace(
        step=step, stream=0, input_chars=list(text[:-1]), target_chars=list(text[1:]),
        inputs=inputs[:, 0].copy(), targets=targets[:, 0].copy(),
        hs=fw.hs[1:, 0].astype(np.float64), h_prev=fw.hs[0, 0].astype(np.float64),
        ps=fw.ps[:, 0].astype(np.float64), losses=losses, dh_norms=dh_norms[:, 0].copy(),
        loss=float(losses.sum()), mean_loss=float(losses.sum()),
    )


def bits_per_char(loss: float, n: int) -> float:
    return loss / max(n, 1) / math.log(2)


def read_params(trainer: Trainer) -> tuple[Params, Vocab, int]:
    """Copies of the weights, the vocabulary and the step (run under the lock)."""
    return trainer.snapshot_params(), trainer.corpus.vocab, trainer.step_count


# --- gradient flow through time -----------------------------------------------------------------


def vanishing_ratio(dh_norms: np.ndarray) -> float:
    """||dL/dh(0)|| / ||dL/dh(T-1)||: below 1, the gradient shrinks on its way back through time."""
    last = float(dh_norms[-1]) if len(dh_norms) else 0.0
    return float(dh_norms[0]) / last if last > 0 else float("nan")


# --- chunk snapshot -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkSnapshot:
    trace: ChunkTrace
    vocab: Vocab
    streams: int


def read_chunk(trainer: Trainer, stream: int = 0) -> ChunkSnapshot | None:
    """The last training chunk of one stream (None before the first step); run under the lock."""
    stream = min(max(stream, 0), trainer.streams - 1)
    trace = trainer.chunk_trace(stream)
    return None if trace is None else ChunkSnapshot(trace, trainer.corpus.vocab, trainer.streams)


# --- weights and optimizer ----------------------------------------------------------------------


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
    """Rows/columns of U (H, K), W (H, H), V (K, H), b (H,), c (K,): hidden units or characters."""
    kind = {("U", 0): "h", ("U", 1): "x", ("W", 0): "h", ("W", 1): "h", ("V", 0): "x", ("V", 1): "h",
            ("b", 1): "h", ("c", 1): "x"}.get((name, axis), "")
    if kind == "x":
        return [visible_char(vocab.chars[i]) for i in range(n)]
    if kind == "h":
        return [f"h{i}" for i in range(n)]
    return [name]


def read_weights(trainer: Trainer, name: str, max_size: int = MAX_MATRIX) -> WeightView:
    """One parameter's weights, last update and effective step size, cut to max_size per axis
    (run under the lock: only the slices are copied)."""
    if name not in PARAM_NAMES:
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
    for k in PARAM_NAMES:
        w = trainer.params[k].astype(np.float64)
        d = update[k].astype(np.float64)
        eff = trainer.optimizer.effective_lr(k, trainer.config.lr)
        wn, dn = float(np.linalg.norm(w)), float(np.linalg.norm(d))
        rows.append({"parameter": k, "shape": " × ".join(map(str, w.shape)), "‖θ‖": wn,
                     "‖Δθ‖ last step": dn, "‖Δθ‖ / ‖θ‖": dn / wn if wn > 0 else np.nan,
                     "median step size": float(np.median(eff)) if eff is not None else trainer.config.lr})
    return pd.DataFrame(rows)


# --- gradient check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GradCheckResult:
    step: int
    errors: dict[str, float]  # relative error per parameter
    entries: int              # entries checked per parameter
    steps_checked: int        # time steps of the chunk used
    seconds: float


def gradcheck_entries(steps: int, hidden: int, vocab: int, budget: float = GRADCHECK_BUDGET) -> int:
    """Entries per parameter so that 2 forwards per entry, 5 parameters, fit the flop budget."""
    per_forward = steps * (hidden * hidden + hidden * vocab + hidden)
    return int(min(10, max(1, budget // (10 * per_forward))))


def read_gradcheck_input(trainer: Trainer) -> tuple[Params, np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Weights and stream 0's last chunk (inputs, targets (T, 1), h0 (1, H)); run under the lock."""
    trace = trainer.chunk_trace(0)
    if trace is None:
        return None
    T = min(len(trace.inputs), GRADCHECK_MAX_T)
    return (trainer.snapshot_params(), trace.inputs[:T, None].copy(), trace.targets[:T, None].copy(),
            trace.h_prev[None, :].copy(), trainer.step_count)


def run_gradcheck(params: Params, inputs: np.ndarray, targets: np.ndarray, h0: np.ndarray,
                  step: int) -> GradCheckResult:
    """Backprop against finite differences on a few random entries per parameter (outside the lock)."""
    H, K = params["U"].shape
    T = inputs.shape[0]
    entries = gradcheck_entries(T, H, K)
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
