"""The cells, behind one interface: the article's vanilla RNN (rnn_core/model.py), the LSTM
(rnn_core/lstm.py) and the GRU (rnn_core/gru.py).

A cell is a module with the names of `Cell` below; the trainer, sampling, tracing, itemized
gradients, the gradient check and checkpoints use a cell only through them, so each works with
every cell (tests/test_cells.py holds every cell to the interface). Parameter names tell the
cells apart (`cell_of`), so functions given only weights find their cell themselves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from rnn_core import gru, lstm, model
from rnn_core.layout import FlatParams
from rnn_core.model import Params


class Forward(Protocol):
    """What a cell's forward pass gives: the RNN's rnn_core.model.Forward, or a subclass of it."""

    inputs: np.ndarray   # (T, B) int
    targets: np.ndarray  # (T, B) int
    hs: np.ndarray       # (T+1, B, H): hs[0] = h(-1) carried in, hs[t+1] = h(t)
    ps: np.ndarray       # (T, B, K) softmax probabilities
    losses: np.ndarray   # (T, B) -log ps[t, b, targets[t, b]]

    @property
    def loss(self) -> float: ...     # chunk loss: sum over time, mean over streams
    @property
    def carry(self) -> np.ndarray: ...  # (B, carry_size(H)) what each stream carries on
    @property
    def states(self) -> dict[str, np.ndarray]: ...  # CARRY name -> (T+1, B, H)
    @property
    def gates(self) -> dict[str, np.ndarray]: ...   # GATES name -> (T, B, H)


class Cell(Protocol):
    """The names every cell module has. Letters: T time steps, B streams, H hidden units, K
    characters. A stream's carried state ("carry") is the CARRY states side by side: (B, C) with
    C = carry_size(H), h first (h alone for the RNN and the GRU; h then s for the LSTM)."""

    NAME: str                         # "rnn", "lstm", "gru"
    PARAM_NAMES: tuple[str, ...]      # weights, in the order of their one buffer
    CARRY: tuple[str, ...]            # ("h",) or ("h", "s")
    GATES: tuple[str, ...]            # gate activations a forward pass keeps (none for the RNN)

    def carry_size(self, H: int) -> int: ...

    def param_shapes(self, H: int, K: int) -> dict[str, tuple[int, ...]]: ...

    def init_params(self, H: int, K: int, rng: np.random.Generator, scheme: str = ...,
                    dtype: np.dtype | type = ...) -> FlatParams: ...

    def forward(self, params: Params, inputs: np.ndarray, targets: np.ndarray,
                carry0: np.ndarray) -> Forward:
        """Over a chunk: inputs, targets (T, B) ints, carry0 (B, C)."""

    def gradients(self, params: Params, fw: Forward,
                  out: FlatParams | None = None) -> tuple[FlatParams, np.ndarray]:
        """The chunk loss's gradients keyed like the weights (into `out` when given), and each
        stream's own dL/dh(t) (T, B, H)."""

    def step(self, params: Params, x: int, carry: np.ndarray) -> np.ndarray:
        """One character x of one stream: carry (C,) in, the next carry out (sampling)."""

    def step_back(self, params: Params, fw: Forward, t: int, dcarry: np.ndarray,
                  stream: int = 0) -> np.ndarray:
        """Gradients at carry(t) (n, C) -> at carry(t-1) (n, C), for one stream of fw, one row
        per loss term (the itemized gradients of rnn_core/reach.py)."""


CELLS: dict[str, Cell] = {"rnn": model, "lstm": lstm, "gru": gru}
CELL_NAMES = tuple(CELLS)


def get(name: str) -> Cell:
    """The cell of that name (ValueError for another)."""
    try:
        return CELLS[name]
    except KeyError:
        raise ValueError(f"unknown cell {name!r}; choose one of {', '.join(CELL_NAMES)}") from None


def cell_of(params: Mapping[str, np.ndarray]) -> Cell:
    """The cell whose weights these are, by their names."""
    names = set(params)
    for cell in CELLS.values():
        if names == set(cell.PARAM_NAMES):
            return cell
    raise ValueError(f"weights named {', '.join(sorted(names))} are no cell's "
                     f"({', '.join(CELL_NAMES)})")


def hidden_size(params: Mapping[str, np.ndarray]) -> int:
    """H, from the output weights V (K, H) that every cell has."""
    return params["V"].shape[1]


def param_count(cell: str, H: int, K: int) -> int:
    """Numbers in the weights of a cell with H hidden units over K characters (the RNN's
    H K + H H + K H + H + K; each gate of the LSTM and GRU adds H K + H H + H)."""
    return sum(math.prod(shape) for shape in get(cell).param_shapes(H, K).values())


# Numbers per character (per t and stream) that a training step holds at its peak, per hidden
# unit: activations, their derivatives and dL/dh (the RNN's h, dh, dz; the LSTM's four gates and
# their gradients, s and tanh(s); the GRU's three gates, W h(t-1) and the gradients). Measured
# with tracemalloc (tests/test_cells.py checks the estimate stays above the measured peak).
_PER_CHAR_H = {"rnn": 4, "lstm": 21, "gru": 18}


def step_floats(cell: str, T: int, B: int, H: int, K: int) -> int:
    """An upper estimate of the numbers (floats of the configured dtype) that one training step
    allocates at its peak, for a memory guard: T * B * (per-cell * H + 5 K) for the activations,
    the logits, softmax and dy, plus 3 * param_count for the copies of the weights and gradients
    a step makes (transposes, clipping). The weights, gradients, snapshots and optimizer state
    themselves are not included (each is param_count numbers)."""
    return T * B * (_PER_CHAR_H[get(cell).NAME] * H + 5 * K) + 3 * param_count(cell, H, K)
