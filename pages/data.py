"""Data page (placeholder)."""

import streamlit as st

st.header("Data")
