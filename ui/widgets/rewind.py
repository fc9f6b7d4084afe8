"""Going back: the Rewind panel (the kept snapshots, keyed rewind_to, and the rewind button) and
the restore_best button offered when the validation loss shows overfitting. Both call
TrainingSession.rewind, which pauses first and cuts the recorders back."""

from __future__ import annotations

import streamlit as st

from ui.state import AppState, widget_value
from ui.views.recovery import RewindPoint, read_rewind_points, rewind_label


def go_back(state: AppState, point: RewindPoint) -> None:
    """Button callback: back to `point`, or a notice when it is no longer kept."""
    if not state.session.rewind(point.step, best=point.best):
        state.notice = (f"Step {point.step:,} is no longer kept (training moved on or went back "
                        "since the list was shown). Nothing was changed; choose again.")


def go_back_to_chosen(state: AppState) -> None:
    """The Rewind button's callback: back to the point chosen now. Not one bound when the button
    was drawn: a choice and a quick click can arrive in one script run, before any redraw."""
    point = widget_value("rewind_to")
    if point is not None:
        go_back(state, point)


def rewind_panel(state: AppState) -> None:
    """The kept snapshots, newest first, and a button to go back to the one chosen. Listed only
    while paused: while training, new ones are kept every few hundred milliseconds."""
    if state.session.playing:
        st.caption("Pause to choose a step to go back to. While training, the weights are kept "
                   "every 100 steps (dense for the recent steps, reaching back to the start), and "
                   "those of the best validation loss.")
        return
    points = state.session.read(read_rewind_points)
    chosen = st.radio("Go back to", points, format_func=rewind_label, key="rewind_to",
                      help="Weights, optimizer state, place in the text and the charts go back to "
                           "that step; the settings stay as they are now.")
    st.button("Rewind to this step", key="rewind", icon=":material/history:",
              on_click=go_back_to_chosen, args=(state,), disabled=chosen is None)


def restore_best_button(state: AppState, best_step: int) -> None:
    st.button(f"Restore the best weights (step {best_step:,})", key="restore_best",
              icon=":material/settings_backup_restore:", on_click=go_back,
              args=(state, RewindPoint(best_step, None, "best validation", best=True)))
