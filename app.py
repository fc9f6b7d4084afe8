"""Unrolled: the frame. Page config, the shared sidebar (status and training controls, on every
page) and the navigation over the scripts in pages/."""

import streamlit as st

from ui.controls import live_interval, status_text, training_controls
from ui.state import app_state

st.set_page_config(page_title="Unrolled: watch an RNN learn", page_icon=":material/replay:",
                   layout="wide")
state = app_state()
state.polling = state.session.playing  # what this run's fragments poll with

pages = [
    st.Page("pages/data.py", title="Data", icon=":material/description:"),
    st.Page("pages/train.py", title="Train", icon=":material/monitoring:", default=True),
    st.Page("pages/inspect.py", title="Inspect", icon=":material/visibility:"),
    st.Page("pages/sample.py", title="Sample", icon=":material/edit_note:"),
]
nav = st.navigation(pages)

with st.sidebar:
    st.markdown("### Unrolled")
    st.caption(f"Corpus: **{state.corpus.name}** · {len(state.corpus):,} chars · "
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
    if state.notice:
        st.warning(state.notice, icon=":material/warning:")
        state.notice = None

nav.run()
