"""Inside a gated cell over a chunk: the LSTM's cell state s(t) and every gate's activations (the
LSTM's i, f, g, o; the GRU's z, r, n), each as units × time steps like the hidden state, its rows
in the hidden-state heatmap's order so that a unit reads across all of them. The RNN has none."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.trace import ChunkTrace
from ui.text import visible_char


@dataclass(frozen=True)
class Part:
    """What one gate (or the cell state) is, for the heatmap's title and colour scale."""

    title: str
    squash: str  # "sigmoid": in [0, 1], a gate's share; "tanh": in [-1, 1]; "none": unbounded


# In the order shown: the memory first (the LSTM's cell state, the GRU's update gate), then what
# writes to it. Equations in rnn_core/lstm.py and rnn_core/gru.py.
PARTS: dict[str, dict[str, Part]] = {
    "lstm": {
        "s": Part("Cell state s(t) = f(t) ⊙ s(t−1) + i(t) ⊙ g(t)", "none"),
        "f": Part("Forget gate f(t): how much of s(t−1) is kept", "sigmoid"),
        "i": Part("Input gate i(t): how much of g(t) is written", "sigmoid"),
        "g": Part("Candidate g(t), what may be written", "tanh"),
        "o": Part("Output gate o(t): how much of tanh(s(t)) h(t) shows", "sigmoid"),
    },
    "gru": {
        "z": Part("Update gate z(t): how much of h(t−1) is kept", "sigmoid"),
        "r": Part("Reset gate r(t): how much of W_n h(t−1) the candidate sees", "sigmoid"),
        "n": Part("Candidate n(t), what replaces the rest", "tanh"),
    },
}


@dataclass(frozen=True)
class CellMap:
    name: str              # "s" or a gate's letter
    title: str
    z: np.ndarray          # (units, T) activations, float64
    units: np.ndarray      # (units,) hidden-unit index of each row
    labels: list[str]      # (T,) visible input characters
    total_units: int       # H, of which `units` are shown
    zmin: float
    zmax: float
    squash: str            # Part.squash: the figure's colour scale follows it

    @property
    def row_labels(self) -> list[str]:
        """'f12': the gate's letter and the unit's number (the hidden state's rows say 'h12')."""
        return [f"{self.name}{u}" for u in self.units]


def cell_maps(trace: ChunkTrace, units: np.ndarray) -> list[CellMap]:
    """The cell state and gates of `trace`'s cell, rows `units` (the hidden-state view's order)
    of each (T, H) activation; [] for the RNN. Gates in [0, 1] and candidates in [-1, 1] keep
    their fixed ranges; the cell state, unbounded, gets a range symmetric about 0 (at least ±1)."""
    parts = PARTS.get(trace.cell, {})
    arrays = {**trace.gates, **({"s": trace.ss} if trace.ss is not None else {})}
    labels = [visible_char(c) for c in trace.input_chars]
    maps = []
    for name, part in parts.items():
        a = arrays[name][:, units].T  # (units, T)
        if part.squash == "sigmoid":
            lo, hi = 0.0, 1.0
        elif part.squash == "tanh":
            lo, hi = -1.0, 1.0
        else:
            m = max(1.0, float(np.max(np.abs(a)))) if a.size else 1.0
            lo, hi = -m, m
        maps.append(CellMap(name, part.title, np.array(a, dtype=np.float64), np.asarray(units),
                            labels, trace.hs.shape[1], lo, hi, part.squash))
    return maps


def describe_cell(cell: str) -> str:
    """What the heatmaps below the hidden state are, for a gated cell (markdown, no user text)."""
    if cell == "lstm":
        return ("**Inside the LSTM.** The cell state s(t) is its memory: where the forget gate f(t) "
                "is open (near 1), s(t) carries s(t−1) on unchanged, and so does the gradient going "
                "back, with no weight matrix and no squashing on the way. The input gate i(t) "
                "decides what of the candidate g(t) is written, the output gate o(t) what h(t) "
                "shows of it. Rows are the hidden state's units, in its order.")
    if cell == "gru":
        return ("**Inside the GRU.** Where the update gate z(t) is near 1, h(t) is h(t−1): the unit "
                "keeps its value, and the gradient passes back through it unchanged. The reset gate "
                "r(t) decides how much of the past the candidate n(t) sees; h(t) = z(t) ⊙ h(t−1) + "
                "(1 − z(t)) ⊙ n(t). Rows are the hidden state's units, in its order.")
    return ""
