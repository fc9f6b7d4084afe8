"""The link to this setup (sidebar): the address that opens this page with this text and these
settings, to copy. It is built from the settings, not read from the address bar, which holds only
the current page's own widgets (Streamlit drops the others' parameters on a page switch)."""

from __future__ import annotations

import streamlit as st

from rnn_core.corpus import DEFAULT_CORPUS
from ui.state import AppState, widget_value
from ui.views.setup import PRESENTATION_KEY, Setup, corpus_label, link_url
from ui.widgets.corpus_flow import is_builtin


def current_setup(state: AppState) -> Setup:
    """The setup a link reproduces: the text in use (an upload cannot travel: the default text
    instead), the preset and the settings shown on the Train page (those waiting for Reset too)."""
    corpus = state.corpus.name if is_builtin(state.corpus) else DEFAULT_CORPUS
    return Setup(corpus, state.preset, state.draft, bool(widget_value(PRESENTATION_KEY)))


def app_address(page_path: str) -> str:
    """The app's address as the browser sees it, without the page ('' when unknown: AppTest)."""
    url = (st.context.url or "").rstrip("/")
    if page_path and url.endswith("/" + page_path):
        url = url[: -len(page_path) - 1]
    return url


def link_panel(state: AppState, page_path: str) -> None:
    """The link, in a code box (its copy button works offline), and what it does and cannot do."""
    setup = current_setup(state)
    with st.container(key="setup_link"):
        st.code(link_url(app_address(page_path), page_path, setup), language=None, wrap_lines=True)
    st.caption("Opens this page on this text with these settings, from step 0: press Play there, or "
               "Step as many times, and the weights are the same as here. It carries settings, not "
               "weights: later changes to the learning rate or clipping are not replayed.")
    if not is_builtin(state.corpus):
        st.warning(f"Your uploaded text cannot travel in a link: it opens on "
                   f"{corpus_label(DEFAULT_CORPUS)} instead.", icon=":material/link_off:")
    if state.draft != state.config:
        st.caption("It has the Train page's settings, including those waiting for Reset.")
