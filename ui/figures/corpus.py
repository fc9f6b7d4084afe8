"""The Data page's figure: how often each character occurs (a static plotly bar chart: hover,
zoom and pan)."""

from __future__ import annotations

import plotly.graph_objects as go

from ui.views.corpus import CharCounts


def char_frequency_figure(counts: CharCounts, height: int = 320) -> go.Figure:
    """Bars of the most frequent characters, most frequent first (whitespace shown as symbols)."""
    total = sum(counts.counts) + counts.other
    fig = go.Figure(go.Bar(
        x=list(range(len(counts.labels))), y=counts.counts,
        customdata=[[name, n / total] for name, n in zip(counts.names, counts.counts, strict=True)],
        hovertemplate="%{customdata[0]}<br>%{y:,} times (%{customdata[1]:.2%})<extra></extra>",
        marker_color="#0b5cad",
    ))
    title = "Character frequencies"
    if counts.other_kinds:
        title += f" (top {len(counts.labels)}; {counts.other_kinds} rarer characters not shown)"
    fig.update_layout(
        title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"tickmode": "array", "tickvals": list(range(len(counts.labels))),
               "ticktext": counts.labels, "tickangle": 0, "title": None},
        yaxis={"title": "count"}, bargap=0.15,
    )
    return fig
