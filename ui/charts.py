"""Pure figure builders: tables from ui/metrics.py in, chart objects out. No Streamlit here.

Live charts (drawn every refresh while training) are Altair/Vega-Lite: Streamlit 1.67 updates a
Vega chart in place when only its data changes, while st.plotly_chart remounts the whole chart on
every data change (flicker, lost zoom; measured in tests/e2e). Static charts, such as the
character frequencies, are plotly go.Figure objects: hover, zoom and pan, and built cheaply.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import plotly.graph_objects as go

from rnn_core.model import PARAM_NAMES
from ui.metrics import LOSS_SERIES, STAGES, CharCounts

# Colour-blind-safe (Okabe-Ito), dark enough for a projector on white.
LOSS_COLORS = ("#9aa5b1", "#0b5cad", "#d55e00", "#111111")
PARAM_COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00")
HEIGHT = 300
SMALL_HEIGHT = 160


def loss_chart(frame: pd.DataFrame, y_title: str, height: int = HEIGHT) -> alt.LayerChart:
    """Raw chunk loss (thin, grey), smooth loss, validation (dots) and the uniform-guess baseline
    (dashed) against the step. Zoom with the mouse wheel along the step axis; double-click resets."""
    color = alt.Color("series:N", title=None, sort=list(LOSS_SERIES),
                      scale=alt.Scale(domain=list(LOSS_SERIES), range=list(LOSS_COLORS)),
                      legend=alt.Legend(orient="top", symbolStrokeWidth=3))
    dash = alt.StrokeDash("series:N", legend=None, sort=list(LOSS_SERIES),
                          scale=alt.Scale(domain=list(LOSS_SERIES), range=[[1, 0], [1, 0], [1, 0], [6, 4]]))
    width = alt.StrokeWidth("series:N", legend=None, sort=list(LOSS_SERIES),
                            scale=alt.Scale(domain=list(LOSS_SERIES), range=[1, 3, 2, 2]))
    x = alt.X("step:Q", title="step", axis=alt.Axis(format="~s"))
    y = alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("step:Q", format=","),
               alt.Tooltip("value:Q", format=".3f")]
    base = alt.Chart(frame).encode(x=x, y=y, color=color, tooltip=tooltip)
    lines = base.transform_filter(alt.datum.series != LOSS_SERIES[2]).mark_line().encode(
        strokeDash=dash, strokeWidth=width)
    val = base.transform_filter(alt.datum.series == LOSS_SERIES[2]).mark_line(
        point=alt.OverlayMarkDef(size=40, filled=True), strokeWidth=2)
    return (alt.layer(lines, val).properties(height=height)
            .interactive(bind_y=False))


def grad_norm_chart(frame: pd.DataFrame, height: int = HEIGHT) -> alt.Chart:
    """||dL/dθ|| per parameter (colour) before (solid) and after (dashed) clipping, log scale."""
    color = alt.Color("parameter:N", title="parameter", sort=list(PARAM_NAMES),
                      scale=alt.Scale(domain=list(PARAM_NAMES), range=list(PARAM_COLORS)),
                      legend=alt.Legend(orient="top"))
    dash = alt.StrokeDash("stage:N", title=None, sort=list(STAGES),
                          scale=alt.Scale(domain=list(STAGES), range=[[1, 0], [5, 3]]),
                          legend=alt.Legend(orient="top"))
    return (alt.Chart(frame).mark_line(strokeWidth=2).encode(
        x=alt.X("step:Q", title="step", axis=alt.Axis(format="~s")),
        y=alt.Y("norm:Q", title="gradient norm ‖dL/dθ‖", scale=alt.Scale(type="log")),
        color=color, strokeDash=dash, detail="stage:N",
        tooltip=["parameter:N", "stage:N", alt.Tooltip("step:Q", format=","),
                 alt.Tooltip("norm:Q", format=".3g")],
    ).properties(height=height).interactive(bind_y=False))


def clipped_chart(frame: pd.DataFrame, height: int = SMALL_HEIGHT) -> alt.Chart:
    """The fraction of gradient entries changed by clipping, per step (0 to 1)."""
    return (alt.Chart(frame).mark_area(line=True, opacity=0.35, color="#0b5cad").encode(
        x=alt.X("step:Q", title="step", axis=alt.Axis(format="~s")),
        y=alt.Y("fraction:Q", title="fraction clipped", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("step:Q", format=","), alt.Tooltip("fraction:Q", format=".2%")],
    ).properties(height=height).interactive(bind_y=False))


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
