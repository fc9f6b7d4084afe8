"""The only module that touches st.session_state: one typed AppState per browser session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.pages_manager import PagesManager

from rnn_core.config import DEFAULT_PRESET, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import DEFAULT_CORPUS, Corpus, load_builtin
from ui.session.limits import ModelTooBigError, check_config
from ui.session.worker import TrainingSession
from ui.views.gradcheck import GradCheckResult
from ui.views.sample import SampleResult
from ui.views.setup import link_query, read_link
from ui.views.walk import Walk

_KEY = "unrolled"


@dataclass
class AppState:
    session: TrainingSession
    corpus_choice: str = DEFAULT_CORPUS   # built-in name, or "upload"
    pending_corpus: Corpus | None = None  # chosen but not yet confirmed (a change resets the model)
    notice: str | None = None             # the last rejected input's message, shown once
    upload_id: str | None = None          # file_id of the upload already checked (checked once)
    upload_error: str | None = None       # why that upload was refused (shown while it is selected)
    # the model upload: (file_id, outcome, message, the session's model_serial after it)
    model_file: tuple[str, str, str, int] | None = None
    preset: str = DEFAULT_PRESET          # the preset the draft started from
    refresh_s: float = 1.0                # live view refresh interval
    polling: bool = False                 # whether this script run's fragments poll
    presentation: bool = False            # this run's presentation mode (the sidebar's toggle)
    explain: bool = True                  # this run's explanations beside the charts (ditto)
    draft: TrainConfig = field(default_factory=lambda: PRESETS[DEFAULT_PRESET])  # applied on Reset
    settings_seen: dict[str, Any] = field(default_factory=dict)  # the settings widgets' values, last taken
    zoom: tuple[int, int, int] | None = None     # the charts' steps: (model_serial, first, last)
    last_sample: SampleResult | None = None      # the Sample page's latest sample
    gradcheck: GradCheckResult | None = None     # the Inspect page's latest gradient check
    walk: Walk = field(default_factory=Walk)     # the Unrolled page's walk through one step
    lesson: str | None = None                    # the key of the lesson picked last (ui/views/lessons.py)
    link_note: str | None = None                 # what the opening link carried but could not use

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
    # Computed on the first run and again on the first run after a disconnect released it.
    _session.resume_after_reconnect()
    return _Guard(_session)


def _leave_pages_folder_mode() -> None:
    """Streamlit's legacy mode for apps with a pages/ folder is on until st.navigation first runs
    in the process. A fresh server whose first visitor opens /data would run pages/data.py alone
    (no sidebar, the folder's file names as the page list) and stay that way until someone opens
    "/". Every page calls app_state(), so switch the mode off here and rerun through app.py."""
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def widget_value(key: str) -> Any:
    """A keyed widget's current value (for on_change callbacks), None before it exists."""
    return st.session_state.get(key)


def set_widget_values(**values: Any) -> None:
    """Set keyed widgets' values; call from callbacks, before the widgets are drawn."""
    for key, value in values.items():
        st.session_state[key] = value


def app_state() -> AppState:
    """This session's state, created on first use from the link the session was opened with."""
    _leave_pages_folder_mode()
    if _KEY not in st.session_state:
        st.session_state[_KEY] = _opened_state()
    state: AppState = st.session_state[_KEY]
    _guard(id(state.session), state.session)  # re-registered after a reconnect
    _repair_draft(state)
    return state


def _opened_state() -> AppState:
    """A new session's state, from the link it was opened with (no query parameters: the default
    text and preset). What the link carried but cannot be used is named in `link_note`, and the URL
    is rewritten to the setup used, then the script runs again: the widgets bound to the URL read
    it on their first run, so they show exactly this setup."""
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    read = read_link(params, lambda name: len(builtin_corpus(name).vocab))
    setup = read.setup
    state = AppState(session=TrainingSession(builtin_corpus(setup.corpus), setup.config),
                     corpus_choice=setup.corpus, preset=setup.preset, draft=setup.config,
                     link_note=read.note())
    set_widget_values(**setup.widget_values())
    used = link_query(setup)
    if params != {key: [value] for key, value in used.items()}:
        try:
            st.query_params.from_dict(used)  # a new session: no widget is bound to a parameter yet
        except StreamlitAPIException:
            return state  # one is (the state was dropped by hand): it keeps its own value
        st.session_state[_KEY] = state
        st.rerun()
    return state


def _repair_draft(state: AppState) -> None:
    """Widgets draw the draft, and an out-of-range value would raise there, so a draft that no
    longer validates (a script can set anything) is replaced by the running model's settings."""
    try:
        check_config(state.draft, len(state.corpus.vocab))
    except ModelTooBigError:
        return  # valid settings, only too big for this server: the user adjusts them
    except ConfigError:
        state.draft = state.config
        state.notice = " ".join(filter(None, [
            state.notice, "The settings for the next model were invalid and have been put back to "
            "the current model's."]))
