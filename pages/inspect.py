"""Inspect page (placeholder)."""

import streamlit as st

st.header("Inspect")
