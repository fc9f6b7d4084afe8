"""Sample page (placeholder)."""

import streamlit as st

st.header("Sample")
