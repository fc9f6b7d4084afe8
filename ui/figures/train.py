"""The Train page's live charts: tables from ui/views/train.py in, Vega-Lite specs out.

Live charts (redrawn every refresh while training) are Vega-Lite specs for st.vega_lite_chart:
Streamlit 1.67 updates a Vega chart in place when only its data changes, while st.plotly_chart
remounts the whole chart on every data change (flicker, lost zoom: in a browser, 19 new plotly
nodes in 8 s at a 0.5 s refresh against 1 Vega node). They are plain dicts rather than Altair
objects because Altair validates every spec it builds: about 55 ms of server CPU per refresh for
these three charts, against well under 1 ms for the dicts.
"""

from __future__ import annotations

from rnn_core.model import PARAM_NAMES
from ui.views.train import LOSS_SERIES, STAGES

# Colour-blind-safe (Okabe-Ito), dark enough for a projector on white.
LOSS_COLORS = ("#9aa5b1", "#0b5cad", "#d55e00", "#111111")
PARAM_COLORS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00")
HEIGHT = 300
SMALL_HEIGHT = 160


def _zoom_x() -> dict:
    """Mouse-wheel zoom and drag-pan along the step axis (double-click resets)."""
    return {"name": "zoom_x", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}


def _step_x() -> dict:
    return {"field": "step", "type": "quantitative", "title": "step", "axis": {"format": "~s"}}


def _scale(domain: tuple[str, ...], values: list) -> dict:
    return {"domain": list(domain), "range": values}


def loss_spec(y_title: str, height: int = HEIGHT) -> dict:
    """Vega-Lite spec for loss_frame's table: the raw chunk loss (thin, grey), the smooth loss, the
    validation loss (dots) and the uniform-guess baseline (dashed) against the step."""
    series = list(LOSS_SERIES)
    encoding = {
        "x": _step_x(),
        "y": {"field": "value", "type": "quantitative", "title": y_title, "scale": {"zero": False}},
        "color": {"field": "series", "type": "nominal", "title": None, "sort": series,
                  "scale": _scale(LOSS_SERIES, list(LOSS_COLORS)),
                  "legend": {"orient": "top", "symbolStrokeWidth": 3}},
        "tooltip": [{"field": "series", "type": "nominal"},
                    {"field": "step", "type": "quantitative", "format": ","},
                    {"field": "value", "type": "quantitative", "format": ".3f"}],
    }
    lines = {
        "transform": [{"filter": f"datum.series !== '{LOSS_SERIES[2]}'"}],
        "mark": {"type": "line"},
        "encoding": {**encoding,
                     "strokeDash": {"field": "series", "type": "nominal", "legend": None, "sort": series,
                                    "scale": _scale(LOSS_SERIES, [[1, 0], [1, 0], [1, 0], [6, 4]])},
                     "strokeWidth": {"field": "series", "type": "nominal", "legend": None, "sort": series,
                                     "scale": _scale(LOSS_SERIES, [1, 3, 2, 2])}},
        "params": [_zoom_x()],
    }
    validation = {
        "transform": [{"filter": f"datum.series === '{LOSS_SERIES[2]}'"}],
        "mark": {"type": "line", "strokeWidth": 2, "point": {"size": 40, "filled": True}},
        "encoding": encoding,
    }
    return {"height": height, "layer": [lines, validation]}


def grad_norm_spec(height: int = HEIGHT) -> dict:
    """Vega-Lite spec for grad_norm_frame's table: ||dL/dθ|| per parameter (colour) before
    (solid) and after (dashed) clipping, on a log scale."""
    return {
        "height": height,
        "mark": {"type": "line", "strokeWidth": 2},
        "encoding": {
            "x": _step_x(),
            "y": {"field": "norm", "type": "quantitative", "title": "gradient norm ‖dL/dθ‖",
                  "scale": {"type": "log"}},
            "color": {"field": "parameter", "type": "nominal", "title": "parameter",
                      "sort": list(PARAM_NAMES), "scale": _scale(PARAM_NAMES, list(PARAM_COLORS)),
                      "legend": {"orient": "top"}},
            "strokeDash": {"field": "stage", "type": "nominal", "title": None, "sort": list(STAGES),
                           "scale": _scale(STAGES, [[1, 0], [5, 3]]), "legend": {"orient": "top"}},
            "detail": {"field": "stage", "type": "nominal"},
            "tooltip": [{"field": "parameter", "type": "nominal"}, {"field": "stage", "type": "nominal"},
                        {"field": "step", "type": "quantitative", "format": ","},
                        {"field": "norm", "type": "quantitative", "format": ".3g"}],
        },
        "params": [_zoom_x()],
    }


def clipped_spec(height: int = SMALL_HEIGHT) -> dict:
    """Vega-Lite spec for clipped_frame's table: the fraction of gradient entries changed by
    clipping, per step (0 to 1)."""
    return {
        "height": height,
        "mark": {"type": "area", "line": True, "opacity": 0.35, "color": "#0b5cad"},
        "encoding": {
            "x": _step_x(),
            "y": {"field": "fraction", "type": "quantitative", "title": "fraction clipped",
                  "scale": {"domain": [0, 1]}, "axis": {"format": "%"}},
            "tooltip": [{"field": "step", "type": "quantitative", "format": ","},
                        {"field": "fraction", "type": "quantitative", "format": ".2%"}],
        },
        "params": [_zoom_x()],
    }
