"""The sidebar, on every page: the training controls, the status line (the one step counter on
screen), how often the live views refresh (which every page's fragments use), and the server
line for operators. On the Compare page the controls and the status are the comparison's: Play,
Pause, Step and Reset apply to every run of it (ui/widgets/compare.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st

from rnn_core.units import bits_per_char
from ui.session import server
from ui.session.compare import Comparison
from ui.session.server import SERVER, server_threads
from ui.state import AppState
from ui.text import format_count
from ui.widgets import compare
from ui.widgets.train_settings import LIVE, reset_now, take_settings

# Streamlit reserves C and R; N for "new weights".
STEP_KEY, RESET_KEY = "right", "n"


def live_interval(state: AppState) -> float | None:
    """run_every for live fragments: the refresh interval while training, None (no polling) when
    paused, so a paused page costs nothing and its charts stay still for zooming."""
    return state.refresh_s if state.polling else None


def training_controls(state: AppState, walking: bool = False, comparison: bool = False) -> None:
    """Play / Pause / Step / Reset, keyed play, pause, step, reset, each with a keyboard shortcut
    (Space, Space, →, N) shown on the button and named in its tooltip: for the model, or with
    `comparison` (the Compare page) for every run of the comparison. Streamlit ignores the keys
    while the focus is in a text field. `walking`: the Unrolled page is open, where ← and → walk
    through the step's phases (its own buttons), so Step keeps no key there. Clicks run callbacks,
    then a full rerun re-evaluates every fragment's run_every."""
    session = state.session
    if comparison:
        compare.ensure_comparison(state)  # drawn before the page: the status line counts its runs
        play, step, reset = partial(compare.play_all, state), partial(compare.step_all, state), \
            partial(compare.reset_all, state)
        playing = session.comparing
    else:
        play = partial(_with_live_settings, state, session.play)
        step = partial(_with_live_settings, state, session.step_once)
        reset = partial(reset_now, state)
        playing = session.playing
    # Space on both: a disabled button's shortcut does not listen, so Space plays when paused and
    # pauses when playing. No icons: the key's label on the button takes their room.
    c1, c2 = st.columns(2)
    c1.button("Play", key="play", type="primary", shortcut="space", help="Train continuously (key Space).",
              on_click=play, disabled=playing, width="stretch")
    c2.button("Pause", key="pause", shortcut="space", help="Pause training (key Space).",
              on_click=session.pause, disabled=not session.busy, width="stretch")
    # Between the rows: a tooltip opens above its button, and this keeps Step's and Reset's off Play
    # and Pause (a click on Play right after Step once landed on Step's tooltip: tests/e2e/test_story.py).
    if comparison:
        st.caption("On this page they apply to every run of the comparison: Step takes one update "
                   "of each; Reset starts them all again from the seed.")
    else:
        st.caption("Step: one update, then pause. Reset: new weights from the seed, with the Train "
                   "page's settings.")
    c3, c4 = st.columns(2)
    c3.button("Step", key="step", shortcut=None if walking else STEP_KEY,
              help="One update, then pause (key →; on this page → walks through the step instead)."
              if walking else "One update, then pause (key →).",
              on_click=step, width="stretch")
    c4.button("Reset", key="reset", shortcut=RESET_KEY, help="New weights from the seed (key N).",
              on_click=reset, width="stretch")


def _with_live_settings(state: AppState, action: Callable[[], object]) -> None:
    """A Play or Step callback: the live settings just changed apply first (take_settings)."""
    take_settings(state, LIVE)
    action()


def status_text(state: AppState, comparison: bool = False) -> str:
    """One line: 'Training' / 'Paused' · step N · smooth loss · training seconds. The smooth loss
    is the trainer's own, so it shows with no step taken yet and after a load or a rewind. With
    `comparison` (the Compare page): 'Comparing' / 'Paused' · runs · characters each has read."""
    session = state.session
    if comparison:
        def count(c: Comparison | None) -> tuple[int, int, int]:
            return (0, 0, 0) if c is None else (len(c.runs), c.chars_seen, c.budget)
        runs, chars, budget = session.read_comparison(count)
        mode = "Comparing" if session.comparing else "Paused"
        return (f"**{mode}** · {runs} runs · {format_count(chars)} of {format_count(budget)} "
                "characters each")

    def read(trainer) -> tuple[int, float, float]:
        return (trainer.step_count, bits_per_char(trainer.smooth_loss, trainer.config.seq_len),
                trainer.train_time)
    step, smooth_bpc, seconds = session.read(read)
    mode = "Training" if session.playing else "Comparing (Compare page)" if session.comparing else "Paused"
    return f"**{mode}** · step {step:,} · {smooth_bpc:.2f} bits/char · {seconds:,.0f} s"


REFRESH_OPTIONS = (0.5, 1.0, 2.0, 5.0)


def refresh_control(state: AppState) -> None:
    """How often live views redraw while training (a full rerun re-arms every fragment)."""
    state.refresh_s = st.select_slider(
        "Refresh every", options=REFRESH_OPTIONS, value=state.refresh_s, key="refresh_s",
        format_func=lambda s: f"{s:g} s",
        help="Faster refresh costs server and browser CPU that training could use.")


def server_line() -> str:
    """The whole server at a glance (every session's workers, not just this one's), for operators
    and the load tests (tests/load/browser_sessions.py reads it): app.py keeps it in a collapsed
    expander, out of the audience's sight."""
    return (f"Server: {SERVER.playing_count()} of {server.MAX_TRAINING} training slots in use · "
            f"worker threads: {SERVER.live_threads()} · sessions in memory: {SERVER.live_sessions()} · "
            "threads: {} ({} pooled)".format(*server_threads()))
