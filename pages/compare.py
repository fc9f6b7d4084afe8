"""Compare: two or three runs on one text, from one seed, with one budget of characters, differing
in one thing, trained in turn by the session's one worker and drawn side by side: the validation
loss against characters read and against time, how far back the gradient reaches, the gradient
norms before and after clipping, and a sample from each. Shaping in ui/views/compare.py, charts in
ui/figures/compare.py, controls in ui/widgets/compare.py."""

import streamlit as st

from ui.figures.compare import grad_norm_spec, reach_spec, val_loss_spec
from ui.state import app_state
from ui.text import escape_markdown
from ui.views.compare import (
    SAMPLE,
    grad_frame,
    norm_clip,
    reach_frame,
    read_compare,
    run_caption,
    samples,
    val_frame,
)
from ui.widgets.compare import compare_controls, download_buttons, ensure_comparison
from ui.widgets.sidebar import live_interval

state = app_state()
session = state.session
st.header("Compare")
st.caption("Runs on one text, from one seed, each reading the same characters, that differ in one "
           "thing. They train in turn in this session's one worker (the Train page's model waits "
           "meanwhile): **Play**, **Pause**, **Step** and **Reset** in the sidebar apply to every run.")
error = ensure_comparison(state)
compare_controls(state)
if error:
    st.error(error, icon=":material/error:")
    st.stop()
first = session.read_comparison(read_compare)
st.caption(f"Text: **{escape_markdown(first.corpus_name, 40)}** · every run: {first.base}.")


def chart(title: str, key: str, spec: dict) -> None:
    st.markdown(f"**{title}**")
    with st.container(key=key):  # the key names the chart for tests and CSS (.st-key-...)
        st.vega_lite_chart(spec=spec, key=f"{key}_chart", width="stretch")


@st.fragment(run_every=live_interval(state))
def live_view() -> None:
    view = session.read_comparison(read_compare)
    if view is None:
        return
    for col, run in zip(st.columns(len(view.runs)), view.runs, strict=True):
        val = run.last_val_bpc
        col.metric(run.label, f"{val:.2f} bits/char" if val is not None else "–",
                   help="The latest validation loss: held-out text, bits per character.")
        col.caption(run_caption(run, view.budget))
    if view.chars_seen == 0:
        st.info("Press **Play** in the sidebar: the runs train in turn, always the one behind "
                "first, so each has read as many characters as the others.", icon=":material/play_arrow:")
    labels, vals = view.labels, val_frame(view)
    left, right = st.columns(2)
    with left:
        chart("Validation loss against characters read", "compare_val_chars",
              val_loss_spec(vals, labels, "chars_seen"))
    with right:
        chart("… and against seconds of training (a gated cell costs more per character)",
              "compare_val_time", val_loss_spec(vals, labels, "time"))
    left, right = st.columns(2)
    with left:
        chart("How far back the gradient reaches: what is left of ‖∂L(t)/∂h(s)‖ at t − s steps "
              "(last chunk)", "compare_reach", reach_spec(reach_frame(view), labels))
    with right:
        chart("Gradient norm before (solid) and after (dashed) clipping", "compare_grads",
              grad_norm_spec(grad_frame(view), labels, norm_clip(view)))
    st.markdown(f"**A sample from each**, {SAMPLE.length} characters at temperature "
                f"{SAMPLE.temperature:g}, random seed {SAMPLE.rng_seed} for each")
    for i, (col, run, text) in enumerate(zip(st.columns(len(view.runs)), view.runs, samples(view),
                                             strict=True)):
        with col.container(key=f"compare_sample_{i}"):
            st.caption(run.label)
            st.code(text, language=None, wrap_lines=True)  # never markdown: it is the model's text


live_view()
download_buttons(state, first.labels)
