"""Lessons in the sidebar: one button each (keyed lesson_<key>) that sets up the text, the preset
and every setting for a new model, so Play is the only other click; then what to watch, until the
text changes or the user is done with it. The lessons themselves are data (ui/views/lessons.py)."""

from __future__ import annotations

import streamlit as st

from ui.state import AppState, builtin_corpus, set_widget_values
from ui.views.lessons import BY_KEY, LESSONS, Lesson
from ui.views.setup import Setup
from ui.widgets.attempt import attempt
from ui.widgets.corpus_flow import is_builtin


def open_setup(state: AppState, setup: Setup) -> None:
    """A new model on `setup`'s built-in text with its settings, and every widget of the setup
    showing them. Raises CorpusError or ConfigError, keeping the current model."""
    state.session.reset(config=setup.config, corpus=builtin_corpus(setup.corpus))
    state.preset, state.draft = setup.preset, setup.config
    state.corpus_choice, state.pending_corpus = setup.corpus, None
    set_widget_values(**setup.widget_values())


def pick_lesson(state: AppState, key: str) -> None:
    """Button callback: the lesson's setup, a new model (paused), and its note shown."""
    if attempt(state, lambda: open_setup(state, BY_KEY[key].setup), "Could not set up this lesson"):
        state.lesson = key


def done_with_lesson(state: AppState) -> None:
    state.lesson = None


def current_lesson(state: AppState) -> Lesson | None:
    """The lesson picked last, while its text is still the one in use."""
    lesson = BY_KEY.get(state.lesson or "")
    if lesson is None or not is_builtin(state.corpus) or state.corpus.name != lesson.setup.corpus:
        return None
    return lesson


def lesson_buttons(state: AppState) -> None:
    """One button per lesson, each with what it shows underneath."""
    st.caption("Each starts a new model with its text and settings (the current one is discarded); "
               "then press Play.")
    for lesson in LESSONS:
        st.button(lesson.title, key=f"lesson_{lesson.key}", on_click=pick_lesson, args=(state, lesson.key),
                  width="stretch", type="primary" if lesson.key == state.lesson else "secondary")
        st.caption(lesson.watch)


def lesson_note(state: AppState) -> None:
    """What to watch in the current lesson, and a way to put the note away."""
    lesson = current_lesson(state)
    if lesson is None:
        return
    with st.container(key="lesson_note", border=True):
        st.markdown(f"**Lesson: {lesson.title}.** {lesson.watch}")
        st.button("Done with this lesson", key="lesson_done", type="tertiary", on_click=done_with_lesson,
                  args=(state,))
