"""How the gradient flows back through a chunk.

Two views of it. The chunk's whole gradient ||dL/dh(t)|| (the trace's, what training uses) sums
the parts of every prediction at or after t, so each step adds a fresh part of its own and the
fading of the older parts is hidden. The itemized gradients of rnn_core/reach.py split it by
prediction, G[t, s] = ||dL(t)/dh(s)||, and show the fading: the last prediction's part going back,
and every part against its distance t - s. They are computed here, on demand, for one stream,
outside the session's lock (2 ms for T=25, H=128), from the chunk and the weights it was computed
with (`read_reach`, under the lock). The log over training is a session recorder
(ui/session/grad_flow.py); GradFlow, its rows, is re-exported here for the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.model import Params
from rnn_core.reach import itemized_gradients, last_prediction_flow, reach_by_distance
from rnn_core.trainer import Trainer
from ui.session.grad_flow import GradFlow
from ui.text import visible_char
from ui.views.chunk import ChunkSnapshot, read_chunk

__all__ = ["GradFlow", "ReachInput", "ReachView", "describe_fading", "reach_view", "read_reach",
           "vanishing_ratio", "why_it_fades"]


def vanishing_ratio(dh_norms: np.ndarray) -> float:
    """||dL/dh(0)|| / ||dL/dh(T-1)||: below 1, the gradient shrinks on its way back through time."""
    last = float(dh_norms[-1]) if len(dh_norms) else 0.0
    return float(dh_norms[0]) / last if last > 0 else float("nan")


@dataclass(frozen=True)
class ReachInput:
    """One stream's last chunk and copies of the weights its passes used."""

    snap: ChunkSnapshot
    params: Params


def read_reach(trainer: Trainer, stream: int = 0) -> ReachInput | None:
    """The chunk of `stream` and the weights it was computed with (None before the first step);
    run under the lock: only copies, the math is `reach_view`'s."""
    snap = read_chunk(trainer, stream)
    params = trainer.chunk_params()
    return None if snap is None or params is None else ReachInput(snap, params)


@dataclass(frozen=True)
class ReachView:
    step: int
    stream: int
    labels: list[str]        # (T,) visible input characters, h(s) is after reading labels[s]
    targets: list[str]       # (T,) visible characters each step predicts
    G: np.ndarray            # (T, T) ||dL(t)/dh(s)||, [t, s]; 0 above the diagonal (s > t)
    last: np.ndarray         # (T,) ||dL(T-1)/dh(s)||: the last prediction's gradient going back
    distances: np.ndarray    # (T,) d = t - s = 0..T-1
    typical: np.ndarray      # (T,) geometric mean of G[t, t - d] over the T - d pairs at distance d
    pair_d: np.ndarray       # (T(T+1)/2,) every pair's distance t - s ...
    pair_g: np.ndarray       # ... and its G[t, s]
    dh_norms: np.ndarray     # (T,) ||dL/dh(t)|| of the whole chunk loss (= ||sum_t dL(t)/dh(s)||)

    @property
    def per_step(self) -> float:
        """What one step back multiplies the last prediction's gradient by, on average over the
        chunk (geometric: (last[0] / last[T-1]) ** (1 / (T-1))); NaN for T = 1 or a zero norm."""
        T = len(self.last)
        if T < 2 or self.last[-1] <= 0 or self.last[0] <= 0:
            return float("nan")
        return float((self.last[0] / self.last[-1]) ** (1.0 / (T - 1)))

    def kept(self, d: int) -> float:
        """The typical gradient d steps back as a share of the typical one at d = 0 (NaN when the
        chunk is shorter than d + 1 or the share is undefined)."""
        if not 0 <= d < len(self.typical) or self.typical[0] <= 0:
            return float("nan")
        return float(self.typical[d] / self.typical[0])


def reach_view(inp: ReachInput) -> ReachView:
    """The itemized gradients of the chunk (rnn_core.reach) and what the figures draw of them."""
    trace = inp.snap.trace
    G = itemized_gradients(inp.params, trace.inputs, trace.targets, trace.carry_prev)  # (T, T)
    distances, typical = reach_by_distance(G, geometric=True)
    t, s = np.tril_indices(len(G))                                                  # s <= t
    return ReachView(
        step=trace.step, stream=trace.stream,
        labels=[visible_char(c) for c in trace.input_chars],
        targets=[visible_char(c) for c in trace.target_chars],
        G=G, last=last_prediction_flow(G), distances=distances, typical=typical,
        pair_d=t - s, pair_g=G[t, s], dh_norms=trace.dh_norms.copy(),
    )


def describe_fading(view: ReachView) -> str:
    """The fading in numbers, in a sentence (markdown, no user text)."""
    T = len(view.last)
    if T < 2:
        return "A chunk of one character: there is no step to go back through."
    ratio = view.last[0] / view.last[-1] if view.last[-1] > 0 else float("nan")
    words = (f"The last prediction's gradient at the chunk's first step is **{_times(ratio)}** "
             f"its size at its own step, {T - 1} steps later: each step back multiplies it by "
             f"**{view.per_step:.2f}** on average.")
    d = min(10, T - 1)
    kept = view.kept(d)
    if np.isfinite(kept):
        words += (f" Over all predictions, {d} steps back the typical gradient is "
                  f"**{_times(kept)}** what it is at d = 0.")
    return words


def _times(ratio: float) -> str:
    """A ratio in words a learner reads at a glance: '1/150 of', '0.8 ×', '3.2 ×'."""
    if not np.isfinite(ratio):
        return "undefined"
    if ratio < 0.5 and ratio > 0:
        return f"1/{1 / ratio:,.0f} of"
    return f"{ratio:.2g} ×"


def why_it_fades(cell: str) -> str:
    """One step back through the cell, and why the gradient fades there or does not (markdown, no
    user text). rnn_core/reach.py steps back with each cell's own step_back."""
    if cell == "lstm":
        return (
            "**Why it fades less.** One step back, the gradient takes two paths. Through h(s−1) into "
            "the gates and the candidate, it is multiplied by their W's and their derivatives, as in "
            "the RNN, and fades the same way. Along the cell state it is only multiplied by the "
            "forget gate: ∂L(t)/∂s(s−1) = f(s) ⊙ ∂L(t)/∂s(s), no weight matrix and no squashing, so "
            "where f stays near 1 it reaches far back. Here ∂L(t)/∂h(s) is the gradient at h(s) "
            "with the cell state s(s) held, the part the trainer's backward pass adds up at h(s).")
    if cell == "gru":
        return (
            "**Why it fades less.** h(s) = z(s) ⊙ h(s−1) + (1 − z(s)) ⊙ n(s), so one step back the "
            "gradient reaches h(s−1) directly as z(s) ⊙ ∂L(t)/∂h(s), with no weight matrix and no "
            "squashing, besides the path through the gates and the candidate (multiplied by their "
            "W's and derivatives, fading as in the RNN). Where the update gate z stays near 1, the "
            "unit keeps its value and the gradient passes back through it almost whole.")
    return (
        "**Why it fades.** One step back, ∂L(t)/∂h(s−1) = Wᵀ [(1 − h(s)²) ⊙ ∂L(t)/∂h(s)]: the "
        "gradient is multiplied by Wᵀ and by tanh's derivative 1 − h(s)², which is at most 1 (and "
        "near 0 for a unit saturated at ±1). Unless W makes up for it, that repeats at every step, "
        "so the gradient shrinks about geometrically: vanishing gradients. (A W that amplifies makes "
        "it grow instead: exploding gradients, which clipping keeps in check.) The LSTM and the GRU "
        "(the Train page's Cell) add a path around this.")
