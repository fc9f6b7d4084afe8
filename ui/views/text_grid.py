"""Text laid out in rows with a value per character, for the coloured-text views (a unit's
activation, the surprise -ln p)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ui.text import visible_char

TEXT_GRID_WIDTH = 50  # characters per row of a coloured-text grid


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
