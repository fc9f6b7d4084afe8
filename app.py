"""Unrolled: the Streamlit entry point (placeholder until the app issue lands)."""

import streamlit as st

st.set_page_config(page_title="Unrolled", layout="wide")
st.title("Unrolled")
st.write("Watch a character-level RNN learn.")
