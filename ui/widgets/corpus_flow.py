"""Choosing the corpus: propose (a built-in or an upload), then confirm (new model) or cancel.

Every corpus call is wrapped here, so whatever a file contains, the page gets a message to show
and the current corpus, weights and history stay as they are until the user confirms.
"""

from __future__ import annotations

import logging

import streamlit as st

from rnn_core.config import ConfigError
from rnn_core.corpus import BUILTINS, DEFAULT_CORPUS, Corpus, CorpusError, corpus_from_bytes
from ui.state import AppState, builtin_corpus, set_widget_values, widget_value
from ui.views.setup import CORPUS_KEY, corpus_label
from ui.widgets.attempt import attempt

UPLOAD_LIMIT_MB = 2  # per file; the browser refuses bigger files, and so does propose_upload
UPLOAD_CHOICE = "upload"

log = logging.getLogger(__name__)


def choice_options() -> list[str]:
    return [*BUILTINS, UPLOAD_CHOICE]


def choice_label(choice: str) -> str:
    return corpus_label(choice)  # what a link carries: ui/views/setup.py reads it back


def choice_box(state: AppState) -> str:
    """The Data page's built-in-or-upload selectbox, keyed corpus_choice and bound to the URL (its
    default is the default text, so a link names only another one). It shows state.corpus_choice
    (set through session state, never through its default); a new choice becomes a proposal."""
    if widget_value(CORPUS_KEY) is None:
        set_widget_values(**{CORPUS_KEY: state.corpus_choice})
    options = choice_options()
    choice = st.selectbox("Built-in text", options, index=options.index(DEFAULT_CORPUS), key=CORPUS_KEY,
                          format_func=choice_label, bind="query-params")
    if choice != state.corpus_choice:
        on_choice(state, choice)
    return choice


def on_choice(state: AppState, choice: str) -> None:
    """The selectbox moved to `choice`: propose that built-in (or drop the proposal when it is
    the corpus in use)."""
    state.corpus_choice = choice
    if choice == UPLOAD_CHOICE:
        return
    if choice == current_choice(state):
        state.pending_corpus = None
        return
    try:
        state.pending_corpus = builtin_corpus(choice)
    except (CorpusError, ConfigError) as exc:
        state.pending_corpus = None
        state.notice = str(exc)


def propose_upload(state: AppState, file_id: str, name: str, raw: bytes) -> None:
    """Check an uploaded file once (by its file_id); a usable one becomes the proposal, a
    refused one leaves `upload_error` set and everything else untouched."""
    if file_id == state.upload_id:
        return
    state.upload_id = file_id
    state.upload_error = None
    limit = UPLOAD_LIMIT_MB * 2**20
    if len(raw) > limit:  # the browser enforces the limit too, but a script can bypass it
        state.upload_error = (f"The file is {len(raw) / 2**20:.1f} MB; the limit is "
                              f"{UPLOAD_LIMIT_MB} MB. Please use a shorter text.")
        return
    try:
        corpus = corpus_from_bytes(raw, name=name or "upload", seq_len=state.draft.seq_len)
    except CorpusError as exc:
        state.upload_error = str(exc)
        return
    except Exception:  # a bug, not the user's file: log it, say so, keep going
        log.exception("corpus_from_bytes failed on an upload")
        state.upload_error = "This file could not be read as text. Please try a plain UTF-8 .txt file."
        return
    state.pending_corpus = corpus
    state.corpus_choice = UPLOAD_CHOICE


def clear_upload(state: AppState) -> None:
    """The uploader was emptied: forget its file, and its proposal if it was the pending one."""
    if state.pending_corpus is not None and state.corpus_choice == UPLOAD_CHOICE:
        state.pending_corpus = None
    state.upload_id = None
    state.upload_error = None


def confirm_corpus(state: AppState) -> None:
    """Button callback: train a new model on the proposed corpus with the Train page's settings."""
    corpus = state.pending_corpus
    if corpus is None:
        return
    if not attempt(state, lambda: state.session.reset(config=state.draft, corpus=corpus),
                   "Could not switch to this text"):
        return
    state.pending_corpus = None
    state.corpus_choice = current_choice(state)
    set_widget_values(corpus_choice=state.corpus_choice)


def cancel_corpus(state: AppState) -> None:
    """Button callback: keep the corpus in use; the selectbox goes back to it."""
    state.pending_corpus = None
    state.corpus_choice = current_choice(state)
    set_widget_values(corpus_choice=state.corpus_choice)


def is_builtin(corpus: Corpus) -> bool:
    # By description too: an uploaded file may well be called "zen".
    entry = BUILTINS.get(corpus.name)
    return entry is not None and corpus.description == entry.description


def display_name(corpus: Corpus) -> str:
    """A built-in's title, or an upload's file name (user text: escape it before markdown)."""
    return BUILTINS[corpus.name].title if is_builtin(corpus) else corpus.name


def current_choice(state: AppState) -> str:
    return state.corpus.name if is_builtin(state.corpus) else UPLOAD_CHOICE
