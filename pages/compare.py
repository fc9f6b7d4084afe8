"""Compare: two or three runs on one text, from one seed, with one budget of characters, differing
in one thing, trained in turn by the session's one worker and drawn side by side: the validation
loss against characters read and against time, how far back the gradient reaches, the gradient
norms before and after clipping, and a sample from each. Shaping in ui/views/compare.py, charts in
ui/figures/compare.py, controls in ui/widgets/compare.py."""

import streamlit as st

from ui.figures.compare import grad_norm_spec, reach_spec, val_loss_spec
from ui.figures.style import chart_style
from ui.state import app_state
from ui.text import escape_markdown
from ui.views.compare import (
    SAMPLE,
    VAL_EVERY,
    grad_frame,
    norm_clip,
    reach_frame,
    read_compare,
    recall_note,
    run_caption,
    run_heading,
    sample_caption,
    val_frame,
)
from ui.widgets.compare import compare_controls, download_buttons, ensure_comparison
from ui.widgets.sidebar import live_interval

state = app_state()
session = state.session
style = chart_style(state.presentation)  # presentation mode: larger type, two charts a row
st.header("Compare")
st.caption("Runs that differ in one thing, on one text from one seed, reading the same characters in "
           "turn (the Train page's model waits): **Play**, **Pause**, **Step** and **Reset** in the "
           "sidebar apply to all of them.")
error = ensure_comparison(state)
compare_controls(state)
if error:
    st.error(error, icon=":material/error:")
    st.stop()
first = session.read_comparison(read_compare)
st.caption(f"Text: **{escape_markdown(first.corpus_name, 40)}** · every run: {first.base}.")


CHART_WIDTH = 690 if state.presentation else 335  # px: two or four a row in a 1920-px window


def chart(title: str, key: str, spec: dict) -> None:
    # The key names the chart for tests and CSS (.st-key-...).
    with st.container(key=key, width=CHART_WIDTH):
        st.markdown(f"**{title}**")
        st.vega_lite_chart(spec=spec, key=f"{key}_chart", width="stretch")


@st.fragment(run_every=live_interval(state))
def live_view() -> None:
    view = session.read_comparison(read_compare)
    if view is None:
        return
    # Always drawn, so the charts below keep their place: Streamlit remounts an element whose
    # position changes, as when one above it comes or goes.
    with st.container(key="compare_hint"):
        if view.chars_seen == 0:
            st.info("Press **Play** in the sidebar: the runs train in turn, always the one behind "
                    "first, so each has read as many characters as the others.",
                    icon=":material/play_arrow:")
    labels, vals = view.labels, val_frame(view)
    # Four charts a row on a wide screen, wrapping to two on a narrower one (1366 px).
    with st.container(horizontal=True, gap="small", key="compare_charts"):
        chart("Validation loss by characters read", "compare_val_chars",
              val_loss_spec(vals, labels, "chars_seen", style=style))
        chart("… by seconds of training", "compare_val_time",
              val_loss_spec(vals, labels, "time", style=style))
        chart("Gradient left t − s steps back", "compare_reach",
              reach_spec(reach_frame(view), labels, style=style))
        chart("Gradient norm (dashed: after clipping)", "compare_grads",
              grad_norm_spec(grad_frame(view), labels, norm_clip(view), style=style))
    st.caption("Bits per character on held-out text, against what each run has read and against its "
               "own seconds of training (a gated cell does 3 to 4 times the RNN's work per "
               "character). The gradient's reach: ‖∂L(t)/∂h(s)‖, typical over the pairs t − s apart "
               "in each run's last chunk (stream 0, computed when drawn), as a share of t − s = 0: "
               "where a line falls steeply, predictions learn little from that far back.")
    st.caption(f"A sample from each run every {VAL_EVERY} steps, at the same steps for all: "
               f"{SAMPLE.length} characters at temperature {SAMPLE.temperature:g}, random seed "
               f"{SAMPLE.rng_seed}.")
    with st.container(key="compare_recall_note"):  # always drawn: the runs' columns keep their place
        note = recall_note(view)
        if note:
            st.caption(note)
    for i, (col, run) in enumerate(zip(st.columns(len(view.runs)), view.runs, strict=True)):
        with col.container(key=f"compare_run_{i}"):
            st.markdown(run_heading(run))
            st.caption(f"{run_caption(run, view.budget)}. {sample_caption(run)}:")
            with st.container(key=f"compare_sample_{i}"):
                if run.sample is not None:  # never markdown: the model's text
                    st.code(run.sample.text, language=None, wrap_lines=True)


live_view()
download_buttons(state, first.labels)
