"""Train page (placeholder): live loss."""

import streamlit as st

from ui.controls import live_interval
from ui.state import app_state

state = app_state()
st.header("Train")


@st.fragment(run_every=live_interval(state))
def live() -> None:
    hist = state.session.read(lambda t: t.history.as_dict())
    with st.container(key="loss_chart"):
        st.line_chart({"smooth loss": hist["smooth_loss"]})


live()
