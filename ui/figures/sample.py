"""The Sample page's figures: the distribution behind every generated character, and at one
position (ui/views/sample.py's SampleResult in, plotly figures out)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.figures.axes import MONO, char_axis, titled
from ui.views.sample import SampleResult


def sample_distribution_figure(result: SampleResult, start: int = 0, stop: int | None = None,
                               position: int | None = None) -> go.Figure:
    """For each generated character in [start, stop) (x, labelled with it) the top-k distribution
    it was drawn from (rows by rank, the candidates printed in their cells); the drawn candidate is
    outlined, and the column of `position` framed. Hover a cell for its probability."""
    stop = len(result.text) if stop is None else stop
    cols = list(range(start, stop))
    n, k = len(cols), result.top_p.shape[1]
    chars = result.visible
    z = result.top_p[start:stop].T                                         # (k, n)
    text = [[result.top_chars[i][r] for i in cols] for r in range(k)]
    ranks = [str(r + 1) for r in range(k)]
    drawn = np.broadcast_to(np.array(chars[start:stop], dtype=object), (k, n))
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=ranks, text=text, texttemplate="%{text}" if n <= 80 else None,
        customdata=drawn, textfont={"family": MONO, "size": 15}, zmin=0.0, zmax=1.0,
        colorscale="Blues", xgap=1, ygap=1, colorbar={"title": {"text": "p"}},
        hovertemplate=("position %{x} (drew '%{customdata}')<br>rank %{y}: '%{text}' p=%{z:.3f}"
                       "<extra></extra>"),
    ))
    hit_x = [i for i in cols if chars[i] in result.top_chars[i]]
    hit_y = [ranks[result.top_chars[i].index(chars[i])] for i in hit_x]
    size = int(min(24, max(4, 1000 / max(n, 1))))  # about one column wide
    fig.add_trace(go.Scatter(x=hit_x, y=hit_y, mode="markers", name="drawn", hoverinfo="skip",
                             marker={"symbol": "square-open", "size": size, "color": "#e6550d",
                                     "line": {"width": 2 if size > 8 else 1}}))
    if position is not None and start <= position < stop:
        fig.add_vrect(x0=position - 0.5, x1=position + 0.5, line={"color": "#111111", "width": 3})
    axis = char_axis(chars[start:stop], title="generated character (position)")
    axis.update(tickvals=[cols[i] for i in axis["tickvals"]], range=[start - 0.5, stop - 0.5],
                tickfont={"family": MONO, "size": 15})
    fig.update_xaxes(**axis)
    fig.update_yaxes(title={"text": "rank"}, autorange="reversed", type="category")
    fig.update_layout(showlegend=False)
    if n < len(result.text):
        span = f"characters {start:,}–{stop - 1:,} of {len(result.text):,}"
    else:
        span = f"all {n:,} characters"
    return titled(fig, f"The top {k} candidates behind each character ({span}); orange: the one drawn",
                  150 + 30 * k)


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
