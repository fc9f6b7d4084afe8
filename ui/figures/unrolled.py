"""The Unrolled page's figure: the article's picture of the network unrolled over a chunk, drawn
from a FrameView (ui/views/unrolled.py) by a pure function.

Bottom to top, one column per time step t (and one for h(-1), carried in): the input character
x(t); U arrows up; the hidden state h(t) as a column of coloured cells (in the backward phase
dL/dh(t) instead), joined by W arrows; V arrows up; the top candidates for the next character
ŷ(t) and the true next character. Above, a bar per time step (the phase's quantity: ‖h(t)‖, the
loss terms, ‖dL/dh(t)‖). The main trace, data[0], is the hidden cells (conventions in axes.py).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ui.figures.axes import DIVERGING, MONO
from ui.figures.style import NORMAL, ChartStyle
from ui.views.unrolled import FrameView

HEIGHT = 560           # pixels: with the page's other rows, a 25-step chunk fits 1920×1080
MAX_ARROW_STEPS = 60   # longer chunks draw no per-step arrows (they would only be ink)
HALF = 0.32            # half the width of a hidden-state column (a time step is 1 wide)
CHAR_ROW = 1.8         # height of a row of characters, in hidden-state rows
LANE = 2.0             # height of the U and V arrows
HIGHLIGHT = "#e6550d"  # the chosen time step, the true next character
FAINT, ACTIVE, BACK = "#c9c9c9", "#555555", "#7b3294"


NET = {"xaxis": "x2", "yaxis": "y2"}  # the network's panel; the bars are on x, y above it


def unrolled_figure(frame: FrameView, height: int = HEIGHT, style: ChartStyle = NORMAL) -> go.Figure:
    """The figure; `style` sizes its type and arrows (presentation mode's is larger: style.py)."""
    T = len(frame.inputs)
    k = 0 if frame.top_chars is None else len(frame.top_chars[0])
    lanes = _Lanes(len(frame.units), k or 3)
    traces = [_hidden(frame, lanes), _inputs(frame, lanes, style), *_outputs(frame, lanes, style),
              _bars(frame)]  # data[0] first
    notes = _letters(lanes, style)
    if T <= MAX_ARROW_STEPS:
        traces += _arrows(frame, lanes, style)
    if frame.bars_title:
        notes.append({"text": frame.bars_title, "x": 0, "y": 1, "xref": "x domain", "yref": "y domain",
                      "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                      "font": {"size": style.mark_text}})
    ticks = list(range(-1, T, max(1, math.ceil(T / 50))))
    box = {"type": "rect", "x0": frame.t - 0.5, "x1": frame.t + 0.5, "y0": 0, "y1": 1,
           "line": {"color": HIGHLIGHT, "width": style.width(2)}, "fillcolor": "rgba(0,0,0,0)",
           "layer": "above"}
    x_range = [-1.6, T - 0.5]
    layout = {
        "height": height, "margin": {"l": style.label_room, "r": 10, "t": 22, "b": 24}, "showlegend": False,
        "plot_bgcolor": "white", "hoverlabel": {"font": {"family": MONO}},
        "xaxis": {"domain": [0, 1], "anchor": "y", "matches": "x2", "showticklabels": False, "range": x_range,
                  "showgrid": False, "zeroline": False},
        "yaxis": {"domain": [0.88, 1], "anchor": "x", "rangemode": "tozero", "nticks": 3,
                  "visible": frame.bars is not None},
        "xaxis2": {"domain": [0, 1], "anchor": "y2", "range": x_range, "showgrid": False, "zeroline": False,
                   "tickmode": "array", "tickvals": ticks, "tickangle": 0,
                   "ticktext": [str(t).replace("-", "−") for t in ticks]},
        "yaxis2": {"domain": [0, 0.86], "anchor": "x2", "range": [lanes.bottom, lanes.top], "showgrid": False,
                   "zeroline": False, "tickmode": "array",
                   "tickvals": [0, lanes.h_mid, lanes.out_mid, lanes.target],
                   "ticktext": ["x(t)", "∂L/∂h(t)" if frame.cells_are_grads else "h(t)",
                                f"ŷ(t) top {k or 3}", "next"]},
        "annotations": notes,
        "shapes": [{**box, "xref": "x", "yref": "y domain"}, {**box, "xref": "x2", "yref": "y2 domain"}],
    }
    return go.Figure(data=traces, layout=layout)


class _Lanes:
    """Vertical positions in the network's panel, bottom to top, in hidden-state rows: x(t), the U
    arrows, the hidden rows (the W arrows just above them), the V arrows, the top-k rows, the true
    next character."""

    def __init__(self, n: int, k: int) -> None:
        self.bottom = -CHAR_ROW / 2                      # x(t) is the row at 0
        self.h_bottom = CHAR_ROW / 2 + LANE
        self.h_rows = [self.h_bottom + 0.5 + r for r in range(n)]
        self.h_top = self.h_bottom + n
        self.h_mid = (self.h_bottom + self.h_top) / 2
        self.w = self.h_top + 0.7                        # the W arrows
        self.out_bottom = self.h_top + 1.4 + LANE
        self.out_edges = [self.out_bottom + CHAR_ROW * r for r in range(k + 1)]  # rank k (bottom) … 1
        self.out_mid = (self.out_edges[0] + self.out_edges[-1]) / 2
        self.target = self.out_edges[-1] + 0.3 + CHAR_ROW / 2
        self.top = self.target + CHAR_ROW / 2

    def row_edges(self, centre: float) -> list[float]:
        return [centre - CHAR_ROW / 2, centre + CHAR_ROW / 2]


def _hidden(frame: FrameView, lanes: _Lanes) -> go.Heatmap:
    """The hidden cells, the most active unit on top; narrow columns with gaps between them."""
    n, cols = frame.cells.shape  # cols = T + 1, time steps -1 … T-1
    z = np.full((n, 2 * cols - 1), np.nan)
    z[:, ::2] = frame.cells[::-1]
    edges = [e for c in range(-1, cols - 1) for e in (c - HALF, c + HALF)]
    units = frame.units[::-1]
    custom = np.empty((n, 2 * cols - 1, 2), dtype=object)
    custom[:, :, 0] = np.array(units, dtype=object)[:, None]
    custom[:, :, 1] = np.repeat(np.arange(-1, cols - 1), 2)[: 2 * cols - 1][None, :]
    if frame.cells_are_grads:
        scale = {"colorscale": "PuOr_r", "zmin": -frame.cells_range, "zmax": frame.cells_range, "zmid": 0.0}
        what, bar = "∂L/∂h%{customdata[0]}(%{customdata[1]})", "∂L/∂h"
    else:
        scale = {"colorscale": DIVERGING, "zmin": -1.0, "zmax": 1.0, "zmid": 0.0}
        what, bar = "h%{customdata[0]}(%{customdata[1]})", "h"
    return go.Heatmap(
        z=z, x=edges, y=lanes.h_rows, customdata=custom, ygap=1, hoverongaps=False, **scale, **NET,
        colorbar={"title": {"text": bar}, "len": 0.5, "y": 0.4, "thickness": 12},
        hovertemplate=f"{what} = %{{z:.4g}}<extra></extra>",
    )


def _char_rows(edges: list[float], chars: list[list[str]], z: np.ndarray, colorscale: str | list,
               hover: str, style: ChartStyle = NORMAL) -> go.Heatmap:
    """Rows of characters (bottom row first) on cells coloured by z in [0, 1]."""
    return go.Heatmap(
        z=z, x=list(range(len(chars[0]))), y=edges, text=chars, texttemplate="%{text}",
        textfont={"family": MONO, "size": style.char_text}, zmin=0.0, zmax=1.0, colorscale=colorscale,
        showscale=False,
        xgap=3, ygap=2, hovertemplate=hover, **NET,
    )


def _inputs(frame: FrameView, lanes: _Lanes, style: ChartStyle) -> go.Heatmap:
    return _char_rows(lanes.row_edges(0), [frame.inputs], np.zeros((1, len(frame.inputs))),
                      [[0, "#eeeeee"], [1, "#eeeeee"]], "t=%{x}: input x(t) = '%{text}'<extra></extra>",
                      style)


def _outputs(frame: FrameView, lanes: _Lanes, style: ChartStyle) -> list[go.Heatmap | go.Scatter]:
    """The true next characters (coloured by the probability they got, once computed) and the top-k
    candidates, the true one outlined."""
    T = len(frame.targets)
    edges = lanes.row_edges(lanes.target)
    if frame.p_target is None:
        return [_char_rows(edges, [frame.targets], np.zeros((1, T)), [[0, "#f5f5f5"], [1, "#f5f5f5"]],
                           "t=%{x}: the true next character '%{text}'<extra></extra>", style)]
    k = len(frame.top_chars[0])
    text = [[frame.top_chars[t][r] for t in range(T)] for r in reversed(range(k))]  # rank k first
    hit_t, hit_r = np.nonzero(np.asarray(frame.top_is_target))
    centres = [(a + b) / 2 for a, b in zip(lanes.out_edges, lanes.out_edges[1:], strict=False)]
    return [
        _char_rows(edges, [frame.targets], np.asarray(frame.p_target)[None, :], "Blues",
                   "t=%{x}: the true next character '%{text}' got p = %{z:.3f}<extra></extra>", style),
        _char_rows(lanes.out_edges, text, np.asarray(frame.top_p).T[::-1], "Blues",
                   "t=%{x}: candidate '%{text}' p = %{z:.3f}<extra></extra>", style),
        go.Scatter(x=hit_t.tolist(), y=[centres[k - 1 - r] for r in hit_r], mode="markers", hoverinfo="skip",
                   marker={"symbol": "square-open", "size": 21, "line": {"width": style.width(3)},
                           "color": HIGHLIGHT},
                   **NET),
    ]


def _arrows(frame: FrameView, lanes: _Lanes, style: ChartStyle) -> list[go.Scatter]:
    """U, W and V between the time steps: faint where nothing flows yet, dark where the forward pass
    has gone, purple and as wide as what they carry in the backward pass. One line trace per style,
    heads as arrow markers (a few traces draw much faster than an annotation per arrow)."""
    u_tail, u_head = CHAR_ROW / 2 + 0.15, lanes.h_bottom - 0.15
    styles: dict[tuple[str, float], list[tuple[tuple[float, float], tuple[float, float]]]] = {}
    for t in range(len(frame.inputs)):
        for tail, head, strength, back in (
                ((t, u_tail), (t, u_head), frame.u[t], False),
                ((t - 1 + 0.22, lanes.w), (t - 0.22, lanes.w), frame.w[t], frame.backward),
                ((t, lanes.h_top + 0.15), (t, lanes.out_bottom - 0.15), frame.v[t], frame.backward)):
            styles.setdefault(_style(strength, back), []).append((head, tail) if back else (tail, head))
    traces = []
    for (color, width), arrows in styles.items():
        xs, ys, sizes = [], [], []
        for (x0, y0), (x1, y1) in arrows:
            xs += [x0, x1, None]
            ys += [y0, y1, None]
            sizes += [0, 6 + 2 * width, 0]
        traces.append(go.Scatter(
            x=xs, y=ys, mode="lines+markers", line={"color": color, "width": style.width(width)},
            hoverinfo="skip", marker={"symbol": "arrow", "angleref": "previous", "color": color,
                                      "size": [style.width(s) for s in sizes]}, **NET))
    return traces


def _style(strength: float, backward: bool) -> tuple[str, float]:
    """(colour, line width) of an arrow: backward widths in 6 steps, one trace each."""
    if math.isnan(strength):
        return FAINT, 1.0
    if backward:
        return BACK, 1.0 + round(5.0 * strength)
    return ACTIVE, 1.5


def _letters(lanes: _Lanes, style: ChartStyle) -> list[dict]:
    """U, W and V beside their arrows, left of the first time step."""
    u_mid = (CHAR_ROW / 2 + lanes.h_bottom) / 2
    return [{"x": -1, "y": y, "text": f"<b>{text}</b>", "showarrow": False, "xref": "x2", "yref": "y2",
             "font": {"size": style.mark_text + 1}}
            for text, y in (("U", u_mid), ("W", lanes.w), ("V", lanes.out_bottom - LANE / 2))]


BAR_COLORS = {"state": ACTIVE, "loss": "#d62728", "gradient": BACK}


def _bars(frame: FrameView) -> go.Bar:
    """A bar per time step (NaN: not computed yet); its title goes above the panel."""
    T = len(frame.inputs)
    y = np.full(T, np.nan) if frame.bars is None else np.asarray(frame.bars, dtype=float)
    return go.Bar(x=list(range(T)), y=y, marker={"color": BAR_COLORS.get(frame.bars_kind, ACTIVE)},
                  customdata=frame.inputs, hovertemplate="t=%{x} ('%{customdata}'): %{y:.4g}<extra></extra>")
