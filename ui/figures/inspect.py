"""The Inspect page's figures: pure functions from the views in ui/views/ to plotly figures
(conventions in ui/figures/axes.py)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from rnn_core.units import uniform_loss
from ui.figures.axes import DIVERGING, MAX_ROW_TICKS, MONO, char_axis, empty_figure, titled
from ui.views.cell_state import CellMap
from ui.views.grad_flow import GradFlow, ReachView
from ui.views.gradcheck import GradCheckResult
from ui.views.hidden import HiddenView
from ui.views.softmax import SoftmaxView
from ui.views.text_grid import TextGrid

LOG_FLOOR = 1e-30  # norms below this (exact zeros) sit at the floor of a log axis
LOG_AXIS = {"type": "log", "dtick": 1, "exponentformat": "power"}  # a label per power of ten only

# --- hidden states ------------------------------------------------------------------------------


def hidden_state_figure(view: HiddenView, title: str = "Hidden state h(t)",
                        marks: dict[int, str] | None = None) -> go.Figure:
    """Units × time steps, colour fixed to tanh's range [-1, 1]. `marks` names some units (unit ->
    what it follows): their rows are labelled with it, in bold; other rows get thinned labels."""
    n, T = view.z.shape
    units = [f"h{u}" for u in view.units]
    custom = np.broadcast_to(np.array(view.labels, dtype=object), (n, T))
    fig = go.Figure(go.Heatmap(
        z=view.z, x=list(range(T)), y=units, customdata=custom,
        zmin=-1.0, zmax=1.0, zmid=0.0, colorscale=DIVERGING,
        colorbar={"title": {"text": "h"}},
        hovertemplate="t=%{x} input '%{customdata}'<br>unit %{y}: %{z:.3f}<extra></extra>",
    ))
    fig.update_xaxes(**char_axis(view.labels))
    fig.update_yaxes(title={"text": "hidden unit"}, autorange="reversed", type="category",
                     **_row_ticks(units, view.units, marks or {}))
    shown = f" ({n} of {view.total_units} units)" if n < view.total_units else ""
    return titled(fig, title + shown, int(min(720, max(260, 90 + 7 * n))))


def cell_map_figure(view: CellMap) -> go.Figure:
    """A gated cell's gate (or the LSTM's cell state) as units × time steps, like the hidden
    state: a gate on a sequential scale from 0 (closed) to 1 (open), a candidate or the cell state
    on the diverging one, symmetric about 0."""
    n, T = view.z.shape
    custom = np.broadcast_to(np.array(view.labels, dtype=object), (n, T))
    if view.squash == "sigmoid":
        scale: dict = {"colorscale": "Viridis"}
    else:
        scale = {"colorscale": DIVERGING, "zmid": 0.0}
    fig = go.Figure(go.Heatmap(
        z=view.z, x=list(range(T)), y=view.row_labels, customdata=custom,
        zmin=view.zmin, zmax=view.zmax, colorbar={"title": {"text": view.name}}, **scale,
        hovertemplate="t=%{x} input '%{customdata}'<br>%{y}: %{z:.3f}<extra></extra>",
    ))
    fig.update_xaxes(**char_axis(view.labels))
    fig.update_yaxes(title={"text": "unit"}, autorange="reversed", type="category")
    shown = f" ({n} of {view.total_units} units)" if n < view.total_units else ""
    return titled(fig, view.title + shown, int(min(560, max(240, 90 + 4 * n))))


def _row_ticks(labels: list[str], units: np.ndarray, marks: dict[int, str]) -> dict:
    """Tick labels for a heatmap's rows: every k-th row (at most MAX_ROW_TICKS), and the marked
    units' rows as "<b>what → h12</b>", with the plain labels near them left out."""
    if not marks:
        return {}
    k = max(1, math.ceil(len(labels) / MAX_ROW_TICKS))
    marked = [i for i, u in enumerate(units) if int(u) in marks]
    plain = [i for i in range(0, len(labels), k) if all(abs(i - m) >= k for m in marked)]
    rows = sorted(plain + marked)
    text = [f"<b>{marks[int(units[i])]} → {labels[i]}</b>" if i in marked else labels[i] for i in rows]
    return {"tickmode": "array", "tickvals": [labels[i] for i in rows], "ticktext": text}


def _text_figure(grid: TextGrid, title: str, zmin: float, zmax: float, colorscale: str | list,
                 value_name: str, zmid: float | None = None) -> go.Figure:
    rows, width = grid.z.shape
    fig = go.Figure(go.Heatmap(
        z=grid.z, text=grid.text, texttemplate="%{text}", customdata=grid.position,
        textfont={"family": MONO, "size": 16}, zmin=zmin, zmax=zmax, zmid=zmid,
        colorscale=colorscale, xgap=1, ygap=1, hoverongaps=False,
        showscale=False,  # a one-row strip squeezes a colour bar: the title states the scale
        hovertemplate=f"char %{{customdata}} '%{{text}}'<br>{value_name}: %{{z:.3f}}<extra></extra>",
    ))
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5])
    fig.update_yaxes(visible=False, autorange="reversed")
    titled(fig, title, 60 + 36 * rows)
    fig.update_layout(margin={"t": 40, "b": 10})  # no axes below
    return fig


def unit_text_figure(grid: TextGrid, unit: int, about: str = "") -> go.Figure:
    """The text coloured by one unit's activation after reading each character (Karpathy's
    "visualizing recurrent networks"): blue -1, white 0, red +1. `about`: what the unit follows."""
    about = f", {about}" if about else ""
    return _text_figure(grid, f"The text coloured by unit h{unit}{about} (blue −1, white 0, red +1)",
                        -1.0, 1.0, DIVERGING, f"h{unit}", 0.0)


def surprise_text_figure(grid: TextGrid, vocab_size: int) -> go.Figure:
    """The text coloured by the surprise -ln p of each character given what came before; full red
    at ln K, the loss of a uniform guess. The first character is never predicted (blank)."""
    zmax = uniform_loss(max(vocab_size, 2), 1)  # ln K
    return _text_figure(grid, f"Each predicted character coloured by its surprise -ln p (white 0, red ≥ "
                              f"ln K = {zmax:.2f}, a uniform guess)", 0.0, zmax, "Reds", "-ln p")


# --- softmax per time step ----------------------------------------------------------------------


def softmax_topk_figure(view: SoftmaxView) -> go.Figure:
    """Top-k candidates for the next character at each step (cells: candidate, colour: p), with
    the true next character outlined where it made the top k."""
    T, k = view.top_p.shape
    ranks = [str(r + 1) for r in range(k)]
    z = view.top_p.T                                      # (k, T)
    text = [[view.top_chars[t][r] for t in range(T)] for r in range(k)]
    truth = np.broadcast_to(np.array(view.targets, dtype=object), (k, T))
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(T)), y=ranks, text=text, texttemplate="%{text}", customdata=truth,
        textfont={"family": MONO, "size": 14}, zmin=0.0, zmax=1.0, colorscale="Blues", xgap=1, ygap=1,
        colorbar={"title": {"text": "p"}},
        hovertemplate="t=%{x}: candidate '%{text}' p=%{z:.3f}<br>true next: '%{customdata}'<extra></extra>",
    ))
    hit_t, hit_r = np.nonzero(view.top_is_target)
    fig.add_trace(go.Scatter(
        x=hit_t.tolist(), y=[ranks[r] for r in hit_r], mode="markers", name="true next char",
        marker={"symbol": "square-open", "size": 24, "line": {"width": 3}, "color": "#e6550d"},
        hoverinfo="skip",
    ))
    fig.update_xaxes(**char_axis(view.inputs))
    fig.update_yaxes(title={"text": "rank"}, autorange="reversed", type="category")
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right",
                                               "yanchor": "bottom"})
    return titled(fig, f"Top {k} next-character candidates per step", 140 + 32 * k)


def loss_terms_figure(view: SoftmaxView) -> go.Figure:
    """Each step's loss term -ln p(true next) as bars (they add up to the chunk loss), p(true next)
    as a line on the right axis, and the uniform-guess level ln K."""
    T = len(view.losses)
    x = list(range(T))
    custom = np.array([view.inputs, view.targets], dtype=object).T  # (T, 2)
    fig = go.Figure(go.Bar(
        x=x, y=view.losses, name="-ln p (loss term)", customdata=custom, marker={"color": "#d62728"},
        hovertemplate="t=%{x}: '%{customdata[0]}' → '%{customdata[1]}'<br>-ln p = %{y:.3f}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(x=x, y=view.p_target, name="p(true next)", yaxis="y2", mode="lines+markers",
                             line={"color": "#0b5cad"},
                             hovertemplate="t=%{x}: p = %{y:.3f}<extra></extra>"))
    fig.add_hline(y=uniform_loss(max(view.vocab_size, 2), 1), line_dash="dot", line_color="#555555",
                  annotation_text="ln K (uniform guess)", annotation_position="top left")
    fig.update_xaxes(**char_axis(view.inputs))
    fig.update_layout(
        yaxis={"title": {"text": "-ln p (nats)"}, "rangemode": "tozero"},
        yaxis2={"title": {"text": "p(true next)"}, "overlaying": "y", "side": "right", "range": [0, 1],
                "tickmode": "linear", "tick0": 0, "dtick": 0.25, "showgrid": False},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
    )
    return titled(fig, f"Loss terms: Σ = {float(view.losses.sum()):.3f} nats (this chunk's loss)", 340)


# --- gradient flow through time -----------------------------------------------------------------


def last_prediction_figure(view: ReachView) -> go.Figure:
    """||dL(T-1)/dh(s)|| against s on a log axis: the last prediction's gradient alone, going back
    through the chunk from the step it was made at (the fading, made visible)."""
    T = len(view.last)
    fig = go.Figure(go.Scatter(
        x=list(range(T)), y=np.maximum(view.last, LOG_FLOOR), mode="lines+markers",
        name="last prediction", customdata=view.labels, line={"color": "#0b5cad", "width": 3},
        marker={"size": 8},
        hovertemplate="s=%{x} (after '%{customdata}'): %{y:.3g}<extra></extra>",
    ))
    fig.update_xaxes(**char_axis(view.labels, title="s: the step the gradient reaches (input character)"))
    fig.update_yaxes(title={"text": f"‖∂L({T - 1})/∂h(s)‖"}, **LOG_AXIS)
    return titled(fig, f"The last prediction's gradient ('{view.targets[-1]}'), going back", 340)


def reach_figure(view: ReachView) -> go.Figure:
    """Every prediction's gradient G[t, s] against how far back it reaches (t - s), log axis: the
    pairs as dots, their geometric mean (the typical pair) as a line."""
    fig = go.Figure(go.Scatter(
        x=view.distances, y=np.maximum(view.typical, LOG_FLOOR), mode="lines+markers",
        name="typical (geometric mean)", line={"color": "#d62728", "width": 3}, marker={"size": 7},
        hovertemplate="%{x} steps back: typical %{y:.3g}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=view.pair_d, y=np.maximum(view.pair_g, LOG_FLOOR), mode="markers",
        name="each prediction t, step s", marker={"size": 5, "color": "#7f7f7f", "opacity": 0.35},
        hovertemplate="t − s = %{x}: %{y:.3g}<extra></extra>",
    ))
    fig.update_xaxes(title={"text": "steps back: t − s"}, range=[-0.5, len(view.distances) - 0.5])
    fig.update_yaxes(title={"text": "‖∂L(t)/∂h(s)‖"}, **LOG_AXIS)
    fig.update_layout(legend={"x": 0.99, "y": 0.99, "xanchor": "right", "yanchor": "top",
                              "bgcolor": "rgba(255, 255, 255, 0.8)"})  # top right: the fall leaves it empty
    return titled(fig, "Every prediction's gradient, by how far back it reaches", 340)


def itemized_figure(view: ReachView) -> go.Figure:
    """The T × T matrix G[t, s] = ||dL(t)/dh(s)||, colour log10; blank above the diagonal, where
    a prediction has no gradient (h(s) comes after it)."""
    T = len(view.G)
    z = np.log10(np.maximum(view.G, LOG_FLOOR))
    z[np.triu_indices(T, k=1)] = np.nan
    rows = [f"{t} → {c}" for t, c in enumerate(view.targets)]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(T)), y=list(range(T)), colorscale="Viridis", hoverongaps=False,
        customdata=np.broadcast_to(np.array(view.labels, dtype=object), (T, T)),
        colorbar={"title": {"text": "log10"}},
        hovertemplate="prediction t=%{y}, step s=%{x} ('%{customdata}'): log10 = %{z:.2f}<extra></extra>",
    ))
    fig.update_xaxes(**char_axis(view.labels, title="s: the step the gradient reaches (input character)"))
    step = max(1, math.ceil(T / MAX_ROW_TICKS))
    fig.update_yaxes(title={"text": "t: prediction (→ character predicted)"}, autorange="reversed",
                     tickmode="array", tickvals=list(range(0, T, step)), ticktext=rows[::step],
                     tickfont={"family": MONO})
    return titled(fig, "Every prediction × every step: log10 ‖∂L(t)/∂h(s)‖", int(min(720, 160 + 18 * T)))


def grad_flow_figure(dh_norms: np.ndarray, labels: list[str]) -> go.Figure:
    """||dL/dh(t)|| against t: the whole chunk loss's gradient at each step, the sum of the parts of
    every prediction at or after t (what training uses; it hides the fading of each part)."""
    fig = go.Figure(go.Scatter(
        x=list(range(len(dh_norms))), y=np.maximum(dh_norms, LOG_FLOOR), mode="lines+markers",
        name="‖dL/dh(t)‖", customdata=labels,
        hovertemplate="t=%{x} ('%{customdata}'): ‖dL/dh‖ = %{y:.3g}<extra></extra>",
    ))
    fig.update_xaxes(**char_axis(labels))
    fig.update_yaxes(title={"text": "‖∂L/∂h(t)‖"}, **LOG_AXIS)
    return titled(fig, "The whole chunk's gradient at each step, L = Σ L(t)", 320)


def grad_flow_history_figure(flow: GradFlow) -> go.Figure:
    """Training step × t, colour log10 ||dL/dh(t)||: vanishing gradients show as a dark left side."""
    if len(flow.steps) == 0:
        return empty_figure("Gradient flow over training", "No steps recorded yet")
    z = np.log10(np.maximum(flow.norms, LOG_FLOOR))  # (n, T)
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(flow.norms.shape[1])), y=flow.steps, colorscale="Viridis",
        colorbar={"title": {"text": "log10 ‖dL/dh‖"}},
        hovertemplate="step %{y}, t=%{x}: log10 ‖dL/dh‖ = %{z:.2f}<extra></extra>",
    ))
    fig.update_xaxes(title={"text": "t (position in the chunk)"})
    fig.update_yaxes(title={"text": "training step"})
    return titled(fig, "Gradient flow over training (stream 0)", 380)


# --- weights and optimizer ----------------------------------------------------------------------

WEIGHT_KINDS = ("weights", "update", "step size")


def weight_figure(matrix: np.ndarray, row_labels: list[str], col_labels: list[str], title: str,
                  kind: str = "weights") -> go.Figure:
    """A parameter (2-D; a vector as one row) as a heatmap. Weights and updates use a diverging
    scale symmetric about 0; step sizes (always positive, spread over decades) log10 Viridis."""
    if kind not in WEIGHT_KINDS:
        raise ValueError(f"kind must be one of {WEIGHT_KINDS}, got {kind!r}")
    rows, cols = matrix.shape
    if kind == "step size":
        z = np.log10(np.maximum(matrix, LOG_FLOOR))
        scale: dict = {"colorscale": "Viridis", "colorbar": {"title": {"text": "log10 step"}}}
        hover = "log10 step = %{z:.2f}"
    else:
        m = float(np.max(np.abs(matrix))) if matrix.size else 0.0
        m = m if m > 0 else 1.0
        z = matrix
        scale = {"colorscale": DIVERGING, "zmin": -m, "zmax": m, "zmid": 0.0,
                 "colorbar": {"title": {"text": "Δ" if kind == "update" else "w"}}}
        hover = "%{z:.3g}"
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(cols)), y=list(range(rows)), **scale,
        customdata=np.broadcast_to(np.array(col_labels, dtype=object), (rows, cols)),
        text=np.broadcast_to(np.array(row_labels, dtype=object)[:, None], (rows, cols)),
        hovertemplate=f"row %{{text}}, column %{{customdata}}: {hover}<extra></extra>",
    ))
    fig.update_xaxes(**char_axis(col_labels, title=""))
    step = max(1, math.ceil(rows / MAX_ROW_TICKS))
    fig.update_yaxes(tickmode="array", tickvals=list(range(0, rows, step)),
                     ticktext=row_labels[::step], autorange="reversed", tickfont={"family": MONO})
    return titled(fig, title, int(min(640, max(170, 110 + 4 * rows))))


def gradcheck_figure(result: GradCheckResult) -> go.Figure:
    names = list(result.errors)
    errs = [max(e, 1e-16) for e in result.errors.values()]
    fig = go.Figure(go.Bar(x=names, y=errs, marker={"color": "#0b5cad"},
                           hovertemplate="%{x}: %{y:.2e}<extra></extra>"))
    fig.add_hline(y=1e-5, line_dash="dot", annotation_text="1e-5: backprop agrees",
                  annotation_position="top left")
    fig.update_yaxes(type="log", title={"text": "relative error"}, exponentformat="e")
    return titled(fig, f"Gradient check at step {result.step}", 300)
