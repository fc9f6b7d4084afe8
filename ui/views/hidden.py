"""The hidden state h(t) over a chunk: units × time steps, in an order the user picks, and the text
coloured by one unit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.trace import ChunkTrace
from ui.text import visible_char
from ui.views.text_grid import TextGrid, text_grid

MAX_UNITS = 256  # hidden units per heatmap (a 1024-unit model shows its first / top 256)

UNIT_ORDERS = ("unit number", "most variable", "most saturated")


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


def unit_grid(trace: ChunkTrace, unit: int) -> tuple[TextGrid, int]:
    """The input text coloured by one unit's activation (unit clamped to [0, H)); the unit used."""
    unit = min(max(unit, 0), trace.hs.shape[1] - 1)
    return text_grid(trace.input_chars, trace.hs[:, unit]), unit
