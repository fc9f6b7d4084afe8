"""Unrolled: the article's figure of the network unrolled over a chunk, alive, and one training
step walked through phase by phase (GAN Lab's slow motion applied to backpropagation through time):
each phase's equation with this step's numbers and the lines of rnn_core that compute it. The last
phase takes that very step. Laid out to fit a 1920×1080 screen with a 25-character chunk."""

import streamlit as st

from ui.figures.style import chart_style
from ui.figures.unrolled import unrolled_figure
from ui.state import app_state
from ui.views import phase_text as words
from ui.views.source import listing
from ui.views.unrolled import STEP, frame_view
from ui.views.walk import TICK_S
from ui.widgets import unrolled as controls

state = app_state()
st.header("Unrolled", anchor=False)
st.caption("The network unrolled over the next chunk, and that training step phase by phase: **←** / "
           "**→** move through the phases, **P** plays the iteration. Walking through pauses training; "
           "the last phase takes the step.")
CODE_LINES, CODE_HEIGHT = 7, 170  # longer excerpts scroll inside their box
ticking = state.walk.playing  # this run's fragment beats on a timer while the walk plays
style = chart_style(state.presentation)


@st.fragment(run_every=TICK_S if ticking else None)
def walk_through() -> None:
    view, rerun = controls.prepare(state, ticking)
    if rerun:
        st.rerun()  # play started or stopped (the timer), or a step was taken (the sidebar)
    walk = state.walk
    controls.walk_controls(state, view.streams)
    check = walk.taken.check if walk.phase == STEP and walk.taken is not None else None
    text = words.phase_text(view, walk.phase, walk.t, check)
    left, right = st.columns(2, gap="medium")
    with left:
        st.plotly_chart(unrolled_figure(frame_view(view, walk.phase, walk.t), style=style),
                        key="unrolled_chart", config={"displayModeBar": False})
        controls.time_slider(state, view.inputs)
    with right:
        st.container(key="unrolled_text").markdown(f"**{text.title}.** {text.lead}")
        st.latex(text.equations)
        if walk.started_over:
            st.info("The trainer changed (it trained on, or its settings did): the walk starts over at its "
                    "next step.", icon=":material/update:")
        if walk.phase == STEP and walk.taken is not None and walk.taken.message:
            st.error(walk.taken.message, icon=":material/error:")
        elif walk.phase == STEP and check is not None and check.taken and check.equal:
            st.success(text.note, icon=":material/check_circle:")
        elif text.note:
            st.caption(text.note)
        code = listing(words.phase_source(walk.phase, view.clip_mode, view.optimizer))
        st.code(code, language="python", height=CODE_HEIGHT if code.count("\n") > CODE_LINES else "content")
        table = words.param_table(view, walk.phase)
        if table is not None:
            st.dataframe(table, key="unrolled_params", hide_index=True, row_height=27)
        else:
            units = "" if len(view.units) == view.H else f" ({len(view.units)} drawn: the most active)"
            with st.expander(f"All {view.H} hidden units at t = {walk.t}{units}"):
                st.dataframe(words.units_table(view, walk.t), key="unrolled_units", hide_index=True)


note = controls.cell_note(state)
if note is not None:
    st.info(note, icon=":material/info:")
    controls.new_rnn_button(state)
else:
    walk_through()
