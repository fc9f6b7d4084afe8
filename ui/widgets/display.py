"""How the app is shown, on every page: presentation mode (large type for a projector, the
sidebar's secondary controls hidden, each page laid out to fit one 1920×1080 screen) and the
explanations beside the charts. Both are sidebar toggles with stable keys; app.py draws them
before the page runs, so each page reads this run's choice from the AppState."""

from __future__ import annotations

import streamlit as st

from ui.state import AppState

PRESENTATION_KEY = "presentation"  # also the URL parameter (?presentation=true)
EXPLAIN_KEY = "explain"


def display_controls(state: AppState) -> None:
    """The two toggles, keyed presentation and explain; their values go into the AppState for
    this run's page, and presentation mode's style is injected."""
    state.presentation = st.toggle(
        "Presentation mode", key=PRESENTATION_KEY, bind="query-params",
        help="For a projector: large type and thicker lines, the sidebar's secondary controls "
             "hidden, and the Train and Unrolled pages on one 1920×1080 screen.")
    state.explain = st.toggle(
        "Explanations", value=True, key=EXPLAIN_KEY,
        help="Beside the charts: what each shows, what to look for and why, with the running "
             "model's own numbers.")
    if state.presentation:
        presentation_style()


def presentation_style() -> None:
    """Presentation mode's style, injected only while the mode is on, so these rules are the mode.
    Streamlit sizes its type and spacing in rem from html's font size: one number scales the
    page. A literal: no variable ever goes into HTML (tests/test_security.py); a style-only st.html
    goes to Streamlit's event container and takes no room on the page."""
    st.html("""<style>
html { font-size: 23px; }
/* The page starts near the top and uses the screen's width: every pixel counts for fitting 1080. */
[data-testid="stMainBlockContainer"] { padding: 1.4rem 1.5rem 1rem 1.5rem; }
[data-testid="stMain"] [data-testid="stVerticalBlock"] { gap: 0.6rem; }
[data-testid="stMain"] h2 { padding-top: 0; padding-bottom: 0; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 1.9rem; }
/* Captions and explanations are read from the back of the room too: body size, dark. */
[data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 1rem; color: #222222; opacity: 1; }
/* The Unrolled page: its row of controls (for the speaker) at the normal size, so that it stays one
   row; the equations and the code a little smaller than the text beside them, to fit their column. */
:is(.st-key-unrolled_prev, .st-key-unrolled_next, .st-key-unrolled_play, .st-key-unrolled_stop,
    .st-key-unrolled_phase, .st-key-unrolled_stream) :is(button, button *, [data-baseweb="select"] *,
    [data-testid="stSelectbox"] *) { font-size: 15px; }
:is(.st-key-unrolled_prev, .st-key-unrolled_next, .st-key-unrolled_play, .st-key-unrolled_stop,
    .st-key-unrolled_phase) button { padding: 0 8px; min-height: 40px; }
:is(.st-key-unrolled_prev, .st-key-unrolled_next, .st-key-unrolled_play, .st-key-unrolled_stop) button span {
  gap: 5px; }
.st-key-unrolled_stream [role="group"] { padding-left: 0; min-height: 40px; }
.st-key-unrolled_stream input { padding-left: 8px; padding-right: 0; }
[data-testid="stMain"] .katex { font-size: 0.92em; }
/* Plotly's tick labels: Streamlit's theme sizes them over the figure's own (ui/figures/style.py). */
[data-testid="stPlotlyChart"] :is(.xtick, .ytick, .x2tick, .y2tick) text { font-size: 18px !important; }
[data-testid="stMain"] [data-testid="stCode"] code.language-python { font-size: 0.8rem; }
/* Wide enough for Play, Pause, Step and Reset at this size. */
[data-testid="stSidebar"] { width: 400px !important; }
</style>""")
