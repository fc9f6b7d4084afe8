"""The charts' zoom: a strip under the loss chart (the step navigator, keyed steps_navigator) to
drag across; every Train chart then shows those steps, refresh after refresh, until a double-click
on the strip clears it.

A zoom made with the mouse inside a Vega-Lite chart is lost at every live refresh (Streamlit
1.67 gives the chart new data and Vega resets a scale-bound zoom), so the range is kept here
instead, with the model it was chosen on, and the charts' specs use it as their x domain. The
navigator's own axis always spans the whole run, so its selection stays where it was dragged.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from ui.figures.train import NAV_PARAM, navigator_spec
from ui.state import AppState, widget_value
from ui.views.train import StepRange, TrainView, clamp_zoom, navigator_frame, selected_range

NAV_KEY = "steps_navigator"


def remember_zoom(state: AppState) -> None:
    """on_select callback: keep the navigator's selection (or its clearing) for this model."""
    zoom = selected_range(widget_value(NAV_KEY))
    state.zoom = (state.session.model_serial, *zoom) if zoom else None


def current_zoom(state: AppState, view: TrainView) -> StepRange | None:
    """The steps the charts show: the range chosen on this model, within the steps trained."""
    if state.zoom is None or state.zoom[0] != state.session.model_serial:
        return None
    return clamp_zoom(state.zoom[1:], view.step)


def step_navigator(state: AppState, view: TrainView) -> None:
    st.vega_lite_chart(spec=navigator_spec(navigator_frame(view)), key=NAV_KEY, width="stretch",
                       on_select=partial(remember_zoom, state), selection_mode=NAV_PARAM)
