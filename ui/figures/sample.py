"""The Sample page's figures: the distribution behind every generated character, and at one
position (ui/views/sample.py's SampleResult in, plotly figures out)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.figures.axes import MONO, char_axis, titled
from ui.views.sample import SampleResult


def sample_distribution_figure(result: SampleResult) -> go.Figure:
    """For each generated character (x, labelled with it) the top-k distribution it was drawn from
    (rows by rank); the drawn candidate is outlined. Hover a column to read its top k."""
    n, k = result.top_p.shape
    chars = result.visible
    z = result.top_p.T                                                     # (k, n)
    text = [[result.top_chars[i][r] for i in range(n)] for r in range(k)]
    ranks = [str(r + 1) for r in range(k)]
    drawn = np.broadcast_to(np.array(chars, dtype=object), (k, n))
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(n)), y=ranks, text=text, texttemplate="%{text}" if n <= 120 else None,
        customdata=drawn, textfont={"family": MONO, "size": 13}, zmin=0.0, zmax=1.0,
        colorscale="Blues", xgap=1, ygap=1, colorbar={"title": {"text": "p"}},
        hovertemplate=("position %{x} (drew '%{customdata}')<br>rank %{y}: '%{text}' p=%{z:.3f}"
                       "<extra></extra>"),
    ))
    hit_x = [i for i in range(n) if chars[i] in result.top_chars[i]]
    hit_y = [ranks[result.top_chars[i].index(chars[i])] for i in hit_x]
    size = int(min(20, max(4, 1000 / max(n, 1))))  # about one column wide
    fig.add_trace(go.Scatter(x=hit_x, y=hit_y, mode="markers", name="drawn", hoverinfo="skip",
                             marker={"symbol": "square-open", "size": size, "color": "#e6550d",
                                     "line": {"width": 2 if size > 8 else 1}}))
    fig.update_xaxes(**char_axis(chars, title="generated character"))
    fig.update_yaxes(title={"text": "rank"}, autorange="reversed", type="category")
    fig.update_layout(showlegend=False)
    return titled(fig, f"The distribution behind each character (top {k})", 140 + 28 * k)


def position_figure(result: SampleResult, position: int) -> go.Figure:
    """Bars of the top-k candidates at one position; the drawn character in orange."""
    chosen = result.visible[position]
    cands = result.top_chars[position]
    colors = ["#e6550d" if c == chosen else "#0b5cad" for c in cands]
    fig = go.Figure(go.Bar(x=[f"{r + 1}. {c}" for r, c in enumerate(cands)], y=result.top_p[position],
                           marker={"color": colors}, hovertemplate="%{x}: p=%{y:.3f}<extra></extra>"))
    fig.update_yaxes(title={"text": "p"}, range=[0, 1])
    fig.update_xaxes(tickfont={"family": MONO})
    return titled(fig, f"Position {position}: drew '{chosen}' (p = {result.chosen_p[position]:.3f})", 300)
