"""The only module that touches st.session_state: one typed AppState per browser session."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from rnn_core.config import DEFAULT_PRESET, PRESETS, TrainConfig
from rnn_core.corpus import DEFAULT_CORPUS, Corpus, load_builtin
from ui.worker import TrainingSession

_KEY = "unrolled"


@dataclass
class AppState:
    session: TrainingSession
    corpus_choice: str = DEFAULT_CORPUS   # built-in name, or "upload"
    pending_corpus: Corpus | None = None  # chosen but not yet confirmed (a change resets the model)
    notice: str | None = None             # the last rejected input's message, shown once
    refresh_s: float = 1.0                # live view refresh interval
    polling: bool = False                 # whether this script run's fragments poll
    draft: TrainConfig = field(default_factory=lambda: PRESETS[DEFAULT_PRESET])  # applied on Reset

    @property
    def config(self) -> TrainConfig:
        return self.session.trainer.config

    @property
    def corpus(self) -> Corpus:
        return self.session.trainer.corpus


@st.cache_resource(show_spinner=False)
def builtin_corpus(name: str) -> Corpus:
    """Built-in corpora are read-only and shared by all sessions."""
    return load_builtin(name)


class _Guard:
    """Lives in a session-scoped cache; Streamlit drops it when the tab's websocket closes."""

    def __init__(self, session: TrainingSession) -> None:
        self.session = session


def _release(guard: _Guard) -> None:
    # Runs on the server's event loop: only signal the thread, never join it here.
    guard.session.close()


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _guard(session_id: int, _session: TrainingSession) -> _Guard:
    return _Guard(_session)


def app_state() -> AppState:
    """This session's state, created on first use with the default corpus and preset."""
    if _KEY not in st.session_state:
        session = TrainingSession(builtin_corpus(DEFAULT_CORPUS), PRESETS[DEFAULT_PRESET])
        st.session_state[_KEY] = AppState(session=session)
    state: AppState = st.session_state[_KEY]
    _guard(id(state.session), state.session)  # re-registered after a reconnect
    return state
