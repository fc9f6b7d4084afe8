"""Unrolled: the frame. Page config, the shared sidebar (status and training controls, on every
page) and the navigation over the scripts in pages/."""

from pathlib import Path

import streamlit as st

from rnn_core.tuning import tune_process
from ui.state import app_state
from ui.text import escape_markdown
from ui.widgets.display import display_controls
from ui.widgets.lessons import lesson_buttons, lesson_note
from ui.widgets.link import link_panel
from ui.widgets.model_file import model_file_panel
from ui.widgets.sidebar import live_interval, refresh_control, server_line, status_text, training_controls

tune_process()  # first thing: one BLAS thread and glibc's malloc settings (rnn_core/tuning.py)
# A local image: a ":material/..." icon makes the browser fetch the tab icon from a font host.
st.set_page_config(page_title="Unrolled: watch an RNN learn",
                   page_icon=Path(__file__).parent / "assets" / "favicon.png", layout="wide")
state = app_state()
state.polling = state.session.busy  # what this run's fragments poll with (the model or a comparison)

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/description:"),
    st.Page("pages/train.py", title="Train", icon=":material/monitoring:", default=True),
    st.Page("pages/inspect.py", title="Inspect", icon=":material/visibility:"),
    st.Page("pages/unrolled.py", title="Unrolled", icon=":material/view_week:"),
    st.Page("pages/sample.py", title="Sample", icon=":material/edit_note:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
]
nav = st.navigation(pages)
page_path = nav.url_path  # "" for the default page
comparing = page_path == "compare"  # the sidebar's controls and status are the comparison's there

with st.sidebar:
    st.markdown("### Unrolled")
    st.caption(f"Corpus: **{escape_markdown(state.corpus.name, 40)}** · {len(state.corpus):,} chars · "
               f"{len(state.corpus.vocab)} symbols")
    training_controls(state, walking=page_path == "unrolled", comparison=comparing)
    lesson_note(state)

    @st.fragment(run_every=live_interval(state))
    def sidebar_status() -> None:
        with st.container(key="status"):
            st.markdown(status_text(state, comparison=comparing))
        if state.session.message:
            st.error(state.session.message, icon=":material/error:")
        if state.polling and not state.session.busy:
            st.rerun()  # training stopped by itself (divergence, a comparison done): stop polling

    sidebar_status()
    if state.notice:  # a refused action (Reset, corpus switch, rewind): shown once, on any page
        st.error(state.notice, icon=":material/error:")
        state.notice = None
    display_controls(state)
    if not state.presentation:  # presentation mode keeps what a speaker uses in front of a room
        refresh_control(state)
        with st.expander("Lessons", icon=":material/school:"):
            lesson_buttons(state)
        with st.expander("Link to this setup", icon=":material/link:"):
            link_panel(state, page_path)
        with st.expander("Save / load model", icon=":material/save:"):
            model_file_panel(state)

        @st.fragment(run_every=live_interval(state))
        def server_status() -> None:
            with st.container(key="server_status"):
                st.caption(server_line())

        with st.expander("Server", icon=":material/dns:"):  # for operators, not the audience
            server_status()

if state.link_note:  # what the opening link carried but could not use: shown once
    st.warning(state.link_note, icon=":material/link_off:")
    state.link_note = None
nav.run()
