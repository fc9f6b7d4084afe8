"""What the plotly figures of the Inspect and Sample pages share.

Conventions: the main trace is always data[0] (tests read its z); time runs along x with the
input characters (whitespace made visible) as tick labels on numeric positions, so repeated
characters stay separate columns; only single characters go into plotly text fields, so no user
text can form plotly's pseudo-HTML tags.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

DIVERGING = "RdBu_r"  # blue negative, white 0, red positive
MAX_TICKS = 100  # tick labels on a time / vocabulary axis before they are thinned
MAX_ROW_TICKS = 32  # ... and on a vertical axis, where labels are as tall as a line of text
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def char_axis(labels: list[str], title: str = "t (input character)") -> dict:
    """A numeric axis 0..T-1 labelled with characters (every n-th when there are many)."""
    step = max(1, math.ceil(len(labels) / MAX_TICKS))
    idx = list(range(0, len(labels), step))
    return {"title": {"text": title}, "tickmode": "array", "tickvals": idx,
            "ticktext": [labels[i] for i in idx], "tickangle": 0,
            "tickfont": {"family": MONO}, "range": [-0.5, len(labels) - 0.5]}


def titled(fig: go.Figure, title: str, height: int) -> go.Figure:
    """The title, height and margins every plotly figure here has."""
    fig.update_layout(title={"text": title}, height=height, margin={"l": 60, "r": 20, "t": 50, "b": 50})
    return fig


def empty_figure(title: str, message: str) -> go.Figure:
    """A titled figure with only a message, for a view with nothing to draw yet."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return titled(fig, title, 200)
