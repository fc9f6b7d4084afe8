"""The Train page's live charts: tables from ui/views/train.py in, Vega-Lite specs out.

Live charts (redrawn every refresh while training) are Vega-Lite specs for st.vega_lite_chart:
Streamlit 1.67 updates a Vega chart in place when only its data changes, while st.plotly_chart
remounts the whole chart on every data change (flicker, lost zoom: in a browser, 19 new plotly
nodes in 8 s at a 0.5 s refresh against 1 Vega node). They are plain dicts rather than Altair
objects because Altair validates every spec it builds: about 55 ms of server CPU per refresh for
these charts, against well under 1 ms for the dicts.

Each spec carries its tables as named datasets ("points", and "events" for the vertical rules
that mark what happened), so Streamlit sends them as data and the spec itself stays the same from
one refresh to the next. The spec changes only with what the user changes: the zoom (a range of
steps, fixed as the x domain, so it survives every refresh; see `navigator_spec`), the unit, the
clipping mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rnn_core.model import PARAM_NAMES
from ui.figures.style import NORMAL, ChartStyle
from ui.session.events import EVENT_KINDS
from ui.views.train import BEST_SERIES, GLOBAL, LOSS_SERIES, STAGES, StepRange

# Colour-blind-safe (Okabe-Ito), dark enough for a projector on white.
LOSS_COLORS = ("#9aa5b1", "#0b5cad", "#d55e00", "#111111")
BEST_COLOR = "#d55e00"
PARAM_COLORS = ("#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
# After the RNN's five, for the gated cells' weights (an LSTM has 14): Paul Tol's muted scheme.
MORE_PARAM_COLORS = ("#882255", "#117733", "#332288", "#999933", "#aa4499", "#44aa99", "#661100",
                     "#6699cc", "#888888")
GLOBAL_LINES = STAGES  # the global norm's two lines are named by their stage alone
GLOBAL_COLORS = ("#111111", "#d55e00")
# setting, divergence, rewind, reset, corpus, load
EVENT_COLORS = ("#0072b2", "#d55e00", "#cc79a7", "#111111", "#111111", "#111111")
HEIGHT = NORMAL.live_height  # the loss and gradient-norm charts (presentation mode's: style.py)
SMALL_HEIGHT = 200  # Streamlit fits the whole chart, axes included, into the height
NAV_HEIGHT = 90
FONT = NORMAL.vega_config  # the axes' and legends' type; presentation mode's is larger (style.py)


def _step_x(zoom: StepRange | None) -> dict:
    """The step axis: whole steps only (no '0.05k' or '115.87' ticks early on); with a zoom,
    exactly that range of steps."""
    x: dict = {"field": "step", "type": "quantitative", "title": "step",
               "axis": {"format": ",d", "tickMinStep": 1}}
    if zoom is not None:
        x["scale"] = {"domain": list(zoom), "nice": False, "zero": False}
    return x


# Presentation mode's legend labels: the chart's title above already says "loss" and "clipping".
SHORT_LABELS = {"chunk loss": "chunk", "smooth loss": "smoothed", "before clipping": "before",
                "after clipping": "after"}
# A presentation-mode legend entry's width: ENTRY_PX (symbol and gaps) + CHAR_PX per character of its
# label. Fitted to Chromium's drawing of the two live charts' legends in one row (480 and 462 px).
ENTRY_PX, CHAR_PX = 48, 8


def _top_legend(style: ChartStyle, columns: int, labels: Sequence[str]) -> dict:
    """A legend above the plot, for `labels`. Vega does not wrap a legend: in one row it ran past the
    chart's edge at 1366 px ("unifor…", the gradient chart's U…c cut off), so the normal style lays
    it out in `columns`. Presentation mode's takes as many columns as fit the plot's width as it is
    drawn (every pixel of height counts there: one row on a half of 1920 px, two on a half of
    1366), with short labels."""
    if style is NORMAL:
        return {"orient": "top", "columns": columns}
    cases = " : ".join(f"datum.label === '{long}' ? '{short}'" for long, short in SHORT_LABELS.items())
    shown = [SHORT_LABELS.get(label, label) for label in labels]
    fits = "1"
    for k in range(2, len(shown) + 1):  # the widest first, outermost
        fits = f"width >= {_legend_width(shown, k)} ? {k} : {fits}"
    return {"orient": "top", "labelExpr": f"{cases} : datum.label", "columns": {"expr": fits}}


def _legend_width(labels: Sequence[str], columns: int) -> int:
    """The width of a presentation-mode legend laid out in `columns`, row by row: each column as wide
    as its widest entry."""
    return sum(max(ENTRY_PX + CHAR_PX * len(label) for label in labels[j::columns]) for j in range(columns))


def _scale(domain: tuple[str, ...], values: list) -> dict:
    return {"domain": list(domain), "range": values}


def _one_of(field: str, values: tuple[str, ...]) -> dict:
    return {"filter": " || ".join(f"datum.{field} === '{v}'" for v in values)}


def _event_layers(labels: bool = True, style: ChartStyle = NORMAL) -> list[dict]:
    """Vertical rules at the events' steps (dataset "events"), with their labels at the top,
    staggered over three lines so that close events stay readable. Their colours go through the
    stroke and fill channels, so they never share a scale (or a legend) with the lines' colour."""
    kind = {"field": "kind", "type": "nominal", "legend": None,
            "scale": _scale(EVENT_KINDS, list(EVENT_COLORS))}
    x = {"field": "step", "type": "quantitative"}
    tooltip = [{"field": "label", "type": "nominal", "title": "event"},
               {"field": "step", "type": "quantitative", "format": ","}]
    rules = {"data": {"name": "events"},
             "mark": {"type": "rule", "strokeDash": [5, 3], "strokeWidth": style.width(2)},
             "encoding": {"x": x, "stroke": kind, "tooltip": tooltip}}
    if not labels:
        return [rules]
    text = {"data": {"name": "events"},
            "transform": [{"window": [{"op": "row_number", "as": "i"}]},
                          {"calculate": f"2 + ((datum.i - 1) % 3) * {style.mark_text + 3}", "as": "y"}],
            "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 4, "fontSize": style.mark_text,
                     "fontWeight": "bold"},
            "encoding": {"x": x, "y": {"field": "y", "type": "quantitative", "scale": None},
                         "text": {"field": "label"}, "fill": kind, "tooltip": tooltip}}
    return [rules, text]


def _chart(height: int, points: pd.DataFrame, events: pd.DataFrame | None, layers: list[dict],
           style: ChartStyle = NORMAL) -> dict:
    datasets = {"points": points}
    if events is not None:
        datasets["events"] = events
    # SVG whatever the number of points: Streamlit switches to canvas above 2,000 rows, which
    # would blur the lines on a projector and hide the axes and labels from the page (and tests).
    # Lines are one path each, so SVG stays cheap.
    return {"height": height, "datasets": datasets, "data": {"name": "points"}, "layer": layers,
            "config": style.vega_config, "usermeta": {"embedOptions": {"renderer": "svg"}}}


def loss_spec(points: pd.DataFrame, events: pd.DataFrame, y_title: str,
              zoom: StepRange | None = None, height: int | None = None, style: ChartStyle = NORMAL) -> dict:
    """Vega-Lite spec for loss_frame's table: the raw chunk loss (thin, grey), the smooth loss, the
    validation loss (dots) and the uniform-guess baseline (dashed) against the step; the best
    validation loss ringed and labelled; the events as labelled rules. `style`: type sizes, line
    widths and the height unless `height` is given (ui/figures/style.py)."""
    series = list(LOSS_SERIES)
    x = _step_x(zoom)
    y = {"field": "value", "type": "quantitative", "title": y_title, "scale": {"zero": False},
         "axis": {"format": ",.4~g"}}
    tooltip = [{"field": "series", "type": "nominal"},
               {"field": "step", "type": "quantitative", "format": ","},
               {"field": "value", "type": "quantitative", "format": ".3f"}]
    color = {"field": "series", "type": "nominal", "title": None, "sort": series,
             "scale": _scale(LOSS_SERIES, list(LOSS_COLORS)), "legend": _top_legend(style, 2, series)}
    lines = {
        "transform": [_one_of("series", (LOSS_SERIES[0], LOSS_SERIES[1], LOSS_SERIES[3]))],
        "mark": {"type": "line"},
        "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip,
                     "strokeDash": {"field": "series", "type": "nominal", "legend": None, "sort": series,
                                    "scale": _scale(LOSS_SERIES, [[1, 0], [1, 0], [1, 0], [6, 4]])},
                     "strokeWidth": {"field": "series", "type": "nominal", "legend": None, "sort": series,
                                     "scale": _scale(LOSS_SERIES, [style.width(w) for w in (1, 3, 2, 2)])}},
    }
    validation = {
        "transform": [_one_of("series", (LOSS_SERIES[2],))],
        "mark": {"type": "line", "strokeWidth": style.width(2),
                 "point": {"size": round(40 * style.line ** 2), "filled": True}},
        "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip},
    }
    best = [_one_of("series", (BEST_SERIES,)),
            {"calculate": "'best ' + format(datum.value, '.2f')", "as": "label"}]
    ring = {"transform": best,
            "mark": {"type": "point", "size": 260, "strokeWidth": style.width(3), "filled": False,
                     "color": BEST_COLOR},
            "encoding": {"x": x, "y": y, "tooltip": tooltip}}
    ring_label = {"transform": best,
                  "mark": {"type": "text", "dy": 22, "fontSize": style.mark_text + 1, "fontWeight": "bold",
                           "color": BEST_COLOR},
                  "encoding": {"x": x, "y": y, "text": {"field": "label"}}}
    return _chart(height or style.live_height, points, events,
                  [lines, validation, ring, ring_label, *_event_layers(style=style)], style)


def grad_norm_spec(points: pd.DataFrame, events: pd.DataFrame, clip: float | None,
                   zoom: StepRange | None = None, height: int | None = None,
                   parameters: Sequence[str] = PARAM_NAMES, style: ChartStyle = NORMAL) -> dict:
    """Vega-Lite spec for grad_norm_frame's table on a log scale: the global norm before (black)
    and after (orange) clipping, thick, named by the stage alone in the legend; each parameter's
    norm thin, before (solid) and after (dashed); the clipping threshold `clip` (by norm; None: no
    threshold on the norm) as a labelled line; the events as rules. `parameters`: the cell's
    weights (TrainView.param_names), in the legend's order."""
    lines = [*GLOBAL_LINES, *parameters]
    colors = [*GLOBAL_COLORS, *(PARAM_COLORS + MORE_PARAM_COLORS)[: len(parameters)]]
    x = _step_x(zoom)
    y = {"field": "norm", "type": "quantitative", "title": "gradient norm ‖dL/dθ‖",
         "scale": {"type": "log"}, "axis": {"format": "~g"}}
    color = {"field": "line", "type": "nominal", "title": None, "sort": lines,
             "scale": _scale(tuple(lines), colors), "legend": _top_legend(style, 4, lines)}
    tooltip = [{"field": "parameter", "type": "nominal"}, {"field": "stage", "type": "nominal"},
               {"field": "step", "type": "quantitative", "format": ","},
               {"field": "norm", "type": "quantitative", "format": ".3g"}]
    name_line = {"calculate": f"datum.parameter === '{GLOBAL}' ? datum.stage : datum.parameter", "as": "line"}
    per_parameter = {
        "transform": [{"filter": f"datum.parameter !== '{GLOBAL}'"}, name_line],
        "mark": {"type": "line", "strokeWidth": style.width(1.2), "opacity": 0.6},
        "encoding": {"x": x, "y": y, "color": color, "detail": {"field": "stage", "type": "nominal"},
                     "strokeDash": {"field": "stage", "type": "nominal", "legend": None, "sort": list(STAGES),
                                    "scale": _scale(STAGES, [[1, 0], [4, 3]])},
                     "tooltip": tooltip},
    }
    global_norm = {
        "transform": [{"filter": f"datum.parameter === '{GLOBAL}'"}, name_line],
        "mark": {"type": "line", "strokeWidth": style.width(3)},
        "encoding": {"x": x, "y": y, "color": color, "tooltip": tooltip},
    }
    layers = [per_parameter, global_norm]
    if clip is not None:
        # One row of its own: on the points' data the line and its label would be drawn per row.
        one = {"values": [{"clip": clip}]}
        threshold = {"field": "clip", "type": "quantitative"}
        layers += [
            {"data": one,
             "mark": {"type": "rule", "strokeDash": [8, 4], "strokeWidth": style.width(2),
                      "color": GLOBAL_COLORS[1]},
             "encoding": {"y": threshold}},
            {"data": one,
             "mark": {"type": "text", "align": "right", "baseline": "bottom", "dy": -4,
                      "fontSize": style.mark_text + 1,
                      "fontWeight": "bold", "color": GLOBAL_COLORS[1], "x": "width"},
             "encoding": {"y": threshold, "text": {"value": f"clip at {clip:g}"}}},
        ]
    return _chart(height or style.live_height, points, events,
                  [*layers, *_event_layers(labels=False, style=style)], style)


def clipped_spec(points: pd.DataFrame, events: pd.DataFrame, zoom: StepRange | None = None,
                 height: int = SMALL_HEIGHT, style: ChartStyle = NORMAL) -> dict:
    """Vega-Lite spec for clipped_frame's table: how much clipping acted per step (0 to 1; what
    it measures depends on the clipping mode, and the page's heading says it: an axis title as
    long would squeeze the plot to nothing); the events as rules."""
    area = {
        "mark": {"type": "area", "line": True if style is NORMAL else {"strokeWidth": style.width(1)},
                 "opacity": 0.35, "color": "#0b5cad"},
        "encoding": {
            "x": _step_x(zoom),
            "y": {"field": "fraction", "type": "quantitative", "title": "clipped",
                  "scale": {"domain": [0, 1]}, "axis": {"format": "%"}},
            "tooltip": [{"field": "step", "type": "quantitative", "format": ","},
                        {"field": "fraction", "type": "quantitative", "format": ".0%"}],
        },
    }
    return _chart(height, points, events, [area, *_event_layers(labels=False, style=style)], style)


NAV_PARAM = "steps"  # the navigator's selection: {"steps": {"step": [first, last]}}


def navigator_spec(points: pd.DataFrame, height: int = NAV_HEIGHT) -> dict:
    """Vega-Lite spec for navigator_frame's table: the smooth loss over the whole run in a thin
    strip, with an interval selection along the steps. Dragging across it selects the steps every
    chart shows (Streamlit reruns with the selection; the app turns it into their x domain), and a
    double-click clears it. Its own x axis always spans the whole run, so the selection stays where
    it was dragged while training adds steps."""
    return {
        "height": height, "datasets": {"points": points}, "data": {"name": "points"}, "config": FONT,
        "mark": {"type": "area", "line": {"color": "#0b5cad", "strokeWidth": 1.5}, "color": "#0b5cad",
                 "opacity": 0.3},
        "encoding": {
            "x": {**_step_x(None), "title": None},
            "y": {"field": "value", "type": "quantitative", "title": "zoom", "scale": {"zero": False},
                  "axis": {"labels": False, "ticks": False, "grid": False}},
        },
        "params": [{"name": NAV_PARAM, "select": {
            "type": "interval", "encodings": ["x"],
            "mark": {"fill": "#d55e00", "fillOpacity": 0.2, "stroke": "#d55e00"}}}],
    }
