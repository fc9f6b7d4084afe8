"""Unrolled: the frame. Page config, the shared sidebar (status and training controls, on every
page) and the navigation over the scripts in pages/."""

from pathlib import Path

import streamlit as st

from rnn_core.tuning import tune_process
from ui.state import app_state
from ui.text import escape_markdown
from ui.widgets.display import display_controls
from ui.widgets.model_file import model_file_panel
from ui.widgets.sidebar import live_interval, refresh_control, server_line, status_text, training_controls

tune_process()  # first thing: one BLAS thread and glibc's malloc settings (rnn_core/tuning.py)
# A local image: a ":material/..." icon makes the browser fetch the tab icon from a font host.
st.set_page_config(page_title="Unrolled: watch an RNN learn",
                   page_icon=Path(__file__).parent / "assets" / "favicon.png", layout="wide")
state = app_state()
state.polling = state.session.playing  # what this run's fragments poll with

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/description:"),
    st.Page("pages/train.py", title="Train", icon=":material/monitoring:", default=True),
    st.Page("pages/inspect.py", title="Inspect", icon=":material/visibility:"),
    st.Page("pages/unrolled.py", title="Unrolled", icon=":material/view_week:"),
    st.Page("pages/sample.py", title="Sample", icon=":material/edit_note:"),
]
nav = st.navigation(pages)

with st.sidebar:
    st.markdown("### Unrolled")
    st.caption(f"Corpus: **{escape_markdown(state.corpus.name, 40)}** · {len(state.corpus):,} chars · "
               f"{len(state.corpus.vocab)} symbols")
    training_controls(state)

    @st.fragment(run_every=live_interval(state))
    def sidebar_status() -> None:
        with st.container(key="status"):
            st.markdown(status_text(state))
        if state.session.message:
            st.error(state.session.message, icon=":material/error:")
        if state.polling and not state.session.playing:
            st.rerun()  # training stopped by itself (divergence): stop polling everywhere

    sidebar_status()
    if state.notice:  # a refused action (Reset, corpus switch, rewind): shown once, on any page
        st.error(state.notice, icon=":material/error:")
        state.notice = None
    display_controls(state)
    if not state.presentation:  # presentation mode keeps what a speaker uses in front of a room
        refresh_control(state)
        with st.expander("Save / load model", icon=":material/save:"):
            model_file_panel(state)

        @st.fragment(run_every=live_interval(state))
        def server_status() -> None:
            with st.container(key="server_status"):
                st.caption(server_line())

        with st.expander("Server", icon=":material/dns:"):  # for operators, not the audience
            server_status()

nav.run()
