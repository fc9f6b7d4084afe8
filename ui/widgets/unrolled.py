"""The Unrolled page's controls and the flow behind them: Previous and Next phase (keys ← and →),
Play the iteration (key P), the phase, the time step and the stream. Every move pauses training;
taking the step goes through the session (TrainingSession.step_once, as the sidebar's Step does)
and the trainer's weights are then checked against the ones the walk showed.

The walk (ui/views/walk.py) is the truth and lives in AppState; the phase and time-step widgets
show it (their values are set from it before they are drawn) and their callbacks move it.
"""

from __future__ import annotations

import time

import streamlit as st

from rnn_core.checkpoint import CELL_TITLES
from ui.state import AppState, set_widget_values, widget_value
from ui.views.unrolled import (
    CHUNK,
    PHASES,
    STEP,
    UPDATE,
    UnrolledView,
    preview_key,
    read_preview,
    step_check,
    unrolled_view,
)
from ui.views.walk import TakenStep
from ui.widgets.train_settings import reset_now

PHASE_KEY, T_KEY, STREAM_KEY = "unrolled_phase", "unrolled_t", "unrolled_stream"


def cell_note(state: AppState) -> str | None:
    """Why the walk cannot show the running model (None: it can). The step-through is the
    article's RNN's, equation by equation and line by line of rnn_core/model.py; an LSTM or GRU
    (chosen on the Train page or loaded) is trained, inspected and sampled, but not walked through
    (its play is stopped)."""
    cell = state.session.read(lambda trainer: trainer.config.cell)
    if cell == "rnn":
        return None
    state.walk.playing = False
    return (f"The model running now is {CELL_TITLES[cell]}. This page walks "
            "through a step of the article's RNN, its equations and rnn_core's lines, so it is "
            "for the RNN only: the Train, Inspect and Sample pages show this model. The button "
            "below starts a new RNN with the same settings (this model is then gone: download "
            "it first to keep it).")


def new_rnn(state: AppState) -> None:
    """Button callback: a new RNN with the running model's settings (Reset with cell "rnn")."""
    state.draft = state.draft.replace(cell="rnn")
    set_widget_values(cell="rnn")  # else the Train page's Cell control would put the old one back
    reset_now(state)


def new_rnn_button(state: AppState) -> None:
    st.button("New RNN with these settings", key="unrolled_new_rnn", icon=":material/restart_alt:",
              on_click=new_rnn, args=(state,))


def prepare(state: AppState, ticking: bool) -> tuple[UnrolledView, bool]:
    """At the top of every run of the page's fragment: the walk kept on the trainer's next step,
    one beat of play when `ticking` (the fragment runs on a timer while playing), and the view to
    show (the next step's, or the one just taken). Also whether the whole app must run again: play
    started or stopped (the timer is set on a full run) or a step was taken (the sidebar)."""
    session, walk = state.session, state.walk
    key = session.read(preview_key)
    walk.follow(key, key[2].seq_len)
    if walk.playing and ticking and walk.tick(key[2].seq_len):
        take_step(state)
    rerun = walk.redraw or walk.playing != ticking
    walk.redraw = False
    if walk.phase == STEP and walk.taken is not None:
        return walk.taken.view, rerun
    stream = int(widget_value(STREAM_KEY) or 0)
    view = walk.view(key, stream)
    if view is None:  # a new step or stream: peek (the numbers of a step do not change)
        read = session.read(read_preview)
        walk.follow(read.key, read.config.seq_len)  # in case it moved on meanwhile
        view = unrolled_view(read, stream)
        walk.keep(read.key, stream, view)
    return view, rerun


def take_step(state: AppState) -> None:
    """Take the step the walk shows: through the session, then compare the trainer's weights with
    the preview's. If the trainer has changed since (training played meanwhile), nothing is taken
    and the walk starts over at the new step."""
    session, walk = state.session, state.walk
    session.pause()
    walk.playing = False
    read = session.read(read_preview)
    if read.key != walk.key:
        walk.follow(read.key, read.config.seq_len)
        return
    session.step_once()
    check = session.read(lambda trainer: step_check(trainer, read.preview))
    view = unrolled_view(read, int(widget_value(STREAM_KEY) or 0))
    walk.took(TakenStep(view, check, None if check.taken else session.message))


# --- callbacks: each stops playing and pauses training -------------------------------------------


def _hold(state: AppState) -> int:
    """Pause training and the walk's play; the chunk length (for the walk's moves)."""
    state.session.pause()
    state.walk.playing = False
    state.walk.started_over = False
    return state.config.seq_len


def previous_phase(state: AppState) -> None:
    T = _hold(state)
    walk = state.walk
    if CHUNK < walk.phase < STEP:
        walk.go(walk.phase - 1, T)


def next_phase(state: AppState) -> None:
    T = _hold(state)
    walk = state.walk
    if walk.phase == UPDATE:
        take_step(state)
    elif walk.phase == STEP:
        walk.next_walk(CHUNK, T)
    else:
        walk.go(walk.phase + 1, T)


def pick_phase(state: AppState) -> None:
    walk = state.walk
    phase = widget_value(PHASE_KEY)
    if walk.playing or phase is None or phase == walk.phase:
        return  # while playing the control is the walk's (the browser may send back a stale value)
    T = _hold(state)
    if phase == STEP:
        take_step(state)
    elif walk.phase == STEP:
        walk.next_walk(phase, T)
    else:
        walk.go(phase, T)


def pick_t(state: AppState) -> None:
    t = int(widget_value(T_KEY))
    walk = state.walk
    if walk.playing or t == walk.t or time.monotonic() - walk.stopped_at < ECHO_S:
        return  # the slider is the walk's while playing, and its old value may come back after
    _hold(state)
    state.walk.t = t


# While the walk plays, its fragment redraws the row of buttons several times a second, and the
# browser keeps the outgoing copy of a button for a moment: one press of a key can click both
# copies (seen 0.55 s apart on a loaded 2-core machine). So play and stop are two buttons sharing
# the key P, each doing one thing (twice is the same as once), never a toggle. A time-step value
# the browser sends back within this many seconds of a stop is the walk's own, not a pick.
ECHO_S = 1.5


def start_play(state: AppState) -> None:
    walk = state.walk
    if walk.playing:
        return
    T = _hold(state)
    if walk.phase == STEP:
        walk.next_walk(CHUNK, T)
    walk.playing, walk.dwell = True, 0


def stop_play(state: AppState) -> None:
    if state.walk.playing:
        _hold(state)
        state.walk.stopped_at = time.monotonic()


# --- the widgets ----------------------------------------------------------------------------------


def walk_controls(state: AppState, streams: int) -> None:
    """Previous, Next, Play the iteration, (with several streams) the stream and the phase, in one
    row where they fit (prepare() reads the stream's value: the view is computed before the row is
    drawn)."""
    walk = state.walk
    set_widget_values(**{PHASE_KEY: walk.phase, T_KEY: walk.t})
    next_label, next_help = {
        UPDATE: ("Take the step", "Take this step: the trainer's update, exactly as shown (key →)."),
        STEP: ("Next step", "Walk through the trainer's next step (key →)."),
    }.get(walk.phase, ("Next", "Next phase (key →)."))
    # One row where it fits (1920 px); at 1366 the phases wrap onto a row of their own instead of
    # being cut off (in fixed columns "Play the iteration" read "Pla…" and phases 4-6 were hidden).
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small", key="unrolled_controls"):
        st.button("Back", key="unrolled_prev", icon=":material/arrow_back:", shortcut="left",
                  help="Previous phase (key ←).", on_click=previous_phase, args=(state,),
                  disabled=walk.phase in (CHUNK, STEP))
        st.button(next_label, key="unrolled_next", icon=":material/arrow_forward:", shortcut="right",
                  help=next_help, on_click=next_phase, args=(state,), type="primary")
        if walk.playing:
            st.button("Stop", key="unrolled_stop", icon=":material/stop:", shortcut="p",
                      help="Stops the walk where it is (key P).", on_click=stop_play, args=(state,))
        else:
            st.button("Play the iteration", key="unrolled_play", icon=":material/play_arrow:", shortcut="p",
                      help=("Plays the walk: one time step at a time, the other phases for a moment "
                            "each, and takes the step at the end (key P)."),
                      on_click=start_play, args=(state,))
        if streams > 1:  # before the phases: at 1366 px it stays on the buttons' row
            if (widget_value(STREAM_KEY) or 0) > streams - 1:
                set_widget_values(**{STREAM_KEY: streams - 1})
            st.selectbox("Stream", range(streams), key=STREAM_KEY, format_func=lambda s: f"stream {s}",
                         label_visibility="collapsed", disabled=walk.phase == STEP, width=130,
                         help=f"Training reads {streams} streams of the text at once: which one to "
                              "show (the step is the same for all).")
        st.segmented_control("Phase", options=range(len(PHASES)), format_func=lambda p: f"{p} {PHASES[p]}",
                             key=PHASE_KEY, required=True, on_change=pick_phase, args=(state,),
                             disabled=walk.playing, label_visibility="collapsed")


def time_slider(state: AppState, labels: list[str]) -> None:
    """The time step t, labelled with its input character (the walk's value, set in walk_controls)."""
    if len(labels) < 2:
        return
    st.select_slider("Time step t", options=range(len(labels)), key=T_KEY, on_change=pick_t, args=(state,),
                     disabled=state.walk.playing,
                     format_func=lambda t: f"t = {t} · {labels[t]}", label_visibility="collapsed")
