"""How large the charts draw their type and lines: the normal style, and presentation mode's
(read from the back of a room on a projector). Figure builders take a ChartStyle, so they stay
pure functions of what they are given; `chart_style(presentation)` picks one.

Plotly's tick labels are the exception: Streamlit's plotly theme sets their size over the figure's
own, so presentation mode's CSS (ui/widgets/display.py) enlarges them, and `label_room` makes room."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartStyle:
    axis_label: int   # px: tick labels
    axis_title: int   # px: axis titles, legend labels
    mark_text: int    # px: text drawn in the plot (labels of events, the best point, thresholds)
    line: float       # multiplies every line's width
    legend_label: int  # px: legend entries
    live_height: int  # px: the Train page's loss and gradient-norm charts, axes and legend included
    char_text: int    # px: characters drawn in cells (the Unrolled figure's x(t), ŷ(t), next)
    label_room: int   # px: a plotly figure's left margin, for its row labels (their size: the CSS's)

    def width(self, px: float) -> float:
        """A line `px` wide in the normal style, in this one."""
        return round(px * self.line, 2)

    @property
    def vega_config(self) -> dict:
        """Vega-Lite's config: the axes' and legends' type."""
        legend = {"labelFontSize": self.legend_label, "titleFontSize": self.legend_label,
                  "symbolStrokeWidth": self.width(3), "symbolType": "stroke"}
        if self.line > 1:
            legend["symbolSize"] = 250  # longer strokes: thick short ones read as dots
        return {"axis": {"labelFontSize": self.axis_label, "titleFontSize": self.axis_title},
                "legend": legend}


NORMAL = ChartStyle(axis_label=14, axis_title=15, mark_text=13, line=1.0, legend_label=15, live_height=300,
                    char_text=15, label_room=70)
# The gradient chart's legend (7 entries for the RNN) still fits one row of a half-screen chart.
PRESENTATION = ChartStyle(axis_label=19, axis_title=20, mark_text=18, line=1.8, legend_label=18,
                          live_height=340, char_text=20, label_room=100)


def chart_style(presentation: bool) -> ChartStyle:
    return PRESENTATION if presentation else NORMAL
