"""The Compare page's live charts: tables from ui/views/compare.py in, Vega-Lite specs out (plain
dicts, as ui/figures/train.py's and for the same reasons: updated in place, cheap to build). One
colour per run, the same on every chart, in the runs' order. `style`: type sizes and line widths,
larger in presentation mode (ui/figures/style.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ui.figures.style import NORMAL, ChartStyle
from ui.views.train import STAGES

RUN_COLORS = ("#0072b2", "#d55e00", "#009e73")  # Okabe-Ito: blue, vermillion, green
HEIGHT = 240  # four charts a row, and the samples below them, on a 1920×1080 screen
PRESENTATION_HEIGHT = 300  # two a row, in presentation mode's larger type
X_AXES = {
    # Vega formats the ticks with the domain's SI prefix: 0 read "0k".
    "chars_seen": ("characters read", {"format": "~s", "labelExpr": "datum.value === 0 ? '0' : datum.label"}),
    "time": ("seconds of training (each run's own)", {"format": "~r"}),  # "~g" read 2e+1
}


def _color(runs: Sequence[str]) -> dict:
    return {"field": "run", "type": "nominal", "title": None, "sort": list(runs),
            "scale": {"domain": list(runs), "range": list(RUN_COLORS[: len(runs)])},
            "legend": {"orient": "top"}}


def _chart(points: pd.DataFrame, layers: list[dict], height: int | None, style: ChartStyle) -> dict:
    # SVG always: Streamlit switches to canvas above 2,000 rows (see ui/figures/train.py).
    if height is None:
        height = HEIGHT if style == NORMAL else PRESENTATION_HEIGHT
    return {"height": height, "datasets": {"points": points}, "data": {"name": "points"},
            "layer": layers, "config": style.vega_config, "usermeta": {"embedOptions": {"renderer": "svg"}}}


def val_loss_spec(points: pd.DataFrame, runs: Sequence[str], x: str = "chars_seen",
                  height: int | None = None, style: ChartStyle = NORMAL) -> dict:
    """val_frame's table: each run's validation loss (bits per character, lines with dots) against
    the characters it has read (x="chars_seen") or its own seconds of training (x="time")."""
    title, axis = X_AXES[x]
    tooltip = [{"field": "run", "type": "nominal"},
               {"field": "chars_seen", "type": "quantitative", "format": ",", "title": "characters"},
               {"field": "time", "type": "quantitative", "format": ".1f", "title": "seconds"},
               {"field": "val_bpc", "type": "quantitative", "format": ".3f", "title": "bits/char"}]
    line = {"mark": {"type": "line", "strokeWidth": style.width(3),
                     "point": {"size": round(45 * style.line ** 2), "filled": True}},
            "encoding": {"x": {"field": x, "type": "quantitative", "title": title, "axis": axis},
                         "y": {"field": "val_bpc", "type": "quantitative", "scale": {"zero": False},
                               "title": "validation bits/char", "axis": {"format": ".2~f"}},
                         "color": _color(runs), "tooltip": tooltip}}
    return _chart(points, [line], height, style)


def reach_spec(points: pd.DataFrame, runs: Sequence[str], height: int | None = None,
               style: ChartStyle = NORMAL) -> dict:
    """reach_frame's table on a log scale: how much of a prediction's gradient is left d steps
    back (typical, as a share of d = 0), a line per run."""
    tooltip = [{"field": "run", "type": "nominal"},
               {"field": "distance", "type": "quantitative", "title": "steps back"},
               {"field": "share", "type": "quantitative", "format": ".3~g", "title": "share of d = 0"},
               {"field": "typical", "type": "quantitative", "format": ".3~g", "title": "‖∂L(t)/∂h(s)‖"}]
    line = {"mark": {"type": "line", "strokeWidth": style.width(3),
                     "point": {"size": round(30 * style.line ** 2), "filled": True}},
            "encoding": {"x": {"field": "distance", "type": "quantitative", "title": "steps back: t − s",
                               "axis": {"tickMinStep": 1}},
                         "y": {"field": "share", "type": "quantitative", "scale": {"type": "log"},
                               "title": "share of t − s = 0", "axis": {"format": ".0e"}},
                         "color": _color(runs), "tooltip": tooltip}}
    return _chart(points, [line], height, style)


def grad_norm_spec(points: pd.DataFrame, runs: Sequence[str], clip: float | None = None,
                   height: int | None = None, style: ChartStyle = NORMAL) -> dict:
    """grad_frame's table on a log scale: each run's global gradient norm before clipping (solid)
    and after it (dashed; no legend for the dashes: the chart's heading says it) against the
    characters read; `clip`, when the runs that clip all clip by
    norm at one threshold, as a labelled rule."""
    tooltip = [{"field": "run", "type": "nominal"}, {"field": "stage", "type": "nominal"},
               {"field": "chars_seen", "type": "quantitative", "format": ",", "title": "characters"},
               {"field": "norm", "type": "quantitative", "format": ".3g"}]
    lines = {"mark": {"type": "line", "strokeWidth": style.width(1.5)},
             "encoding": {"x": {"field": "chars_seen", "type": "quantitative",
                                "title": X_AXES["chars_seen"][0], "axis": X_AXES["chars_seen"][1]},
                          "y": {"field": "norm", "type": "quantitative", "scale": {"type": "log"},
                                "title": "global gradient norm", "axis": {"format": "~g"}},
                          "color": _color(runs), "detail": {"field": "stage", "type": "nominal"},
                          "strokeDash": {"field": "stage", "type": "nominal", "sort": list(STAGES),
                                         "scale": {"domain": list(STAGES), "range": [[1, 0], [5, 3]]},
                                         "legend": None},  # the heading says which is which
                          "tooltip": tooltip}}
    layers = [lines]
    if clip is not None:
        one = {"values": [{"clip": clip}]}
        layers += [
            {"data": one,
             "mark": {"type": "rule", "strokeDash": [8, 4], "strokeWidth": style.width(2),
                      "color": "#111111"},
             "encoding": {"y": {"field": "clip", "type": "quantitative"}}},
            {"data": one, "mark": {"type": "text", "align": "right", "baseline": "bottom", "dy": -4,
                                   "fontSize": style.mark_text + 1, "fontWeight": "bold", "x": "width"},
             "encoding": {"y": {"field": "clip", "type": "quantitative"},
                          "text": {"value": f"clip at {clip:g}"}}},
        ]
    return _chart(points, layers, height, style)
