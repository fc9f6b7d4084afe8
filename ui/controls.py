"""Widget groups shared by pages. Each draws widgets with stable keys and returns plain values."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnn_core.config import BOUNDS, DTYPES, PRESETS
from rnn_core.model import INIT_SCHEMES
from rnn_core.optim import CLIP_MODES, OPTIMIZERS
from ui.session import server
from ui.session.server import SERVER, server_threads
from ui.state import AppState
from ui.train_settings import choose_preset, reset_now


def live_interval(state: AppState) -> float | None:
    """run_every for live fragments: the refresh interval while training, None (no polling) when
    paused, so a paused page costs nothing and its charts stay still for zooming."""
    return state.refresh_s if state.polling else None


def training_controls(state: AppState) -> None:
    """Play / Pause / Step / Reset, keyed play, pause, step, reset. Clicks run callbacks, then a
    full rerun re-evaluates every fragment's run_every."""
    session = state.session
    c1, c2 = st.columns(2)
    c1.button("Play", key="play", icon=":material/play_arrow:", type="primary",
              on_click=session.play, disabled=session.playing, width="stretch")
    c2.button("Pause", key="pause", icon=":material/pause:", on_click=session.pause,
              disabled=not session.playing, width="stretch")
    c3, c4 = st.columns(2)
    c3.button("Step", key="step", icon=":material/skip_next:", on_click=session.step_once,
              help="One update on the next chunk (pauses training).", width="stretch")
    c4.button("Reset", key="reset", icon=":material/restart_alt:", on_click=reset_now, args=(state,),
              help="New weights from the seed, with the settings chosen on the Train page.",
              width="stretch")


def status_text(state: AppState) -> str:
    """One line: 'Training' / 'Paused' · step N · smooth loss."""
    def read(trainer) -> tuple[int, float | None, float]:
        rec = trainer.last_record
        return trainer.step_count, (rec.smooth_bpc if rec else None), trainer.train_time
    step, smooth_bpc, seconds = state.session.read(read)
    mode = "Training" if state.session.playing else "Paused"
    loss = f" · {smooth_bpc:.2f} bits/char" if smooth_bpc is not None else ""
    return f"**{mode}** · step {step:,}{loss} · {seconds:,.0f} s"


REFRESH_OPTIONS = (0.5, 1.0, 2.0, 5.0)


def refresh_control(state: AppState) -> None:
    """How often live views redraw while training (a full rerun re-arms every fragment)."""
    state.refresh_s = st.select_slider(
        "Refresh every", options=REFRESH_OPTIONS, value=state.refresh_s, key="refresh_s",
        format_func=lambda s: f"{s:g} s",
        help="Faster refresh costs server and browser CPU that training could use.")


def hyperparameter_controls(state: AppState) -> dict[str, Any]:
    """The Train page's settings, shown from state.draft, bounded by rnn_core.config.BOUNDS.
    Returns {setting: value}; ui.train_settings.apply_settings decides what applies when."""
    d = state.draft
    st.selectbox("Preset", list(PRESETS), index=list(PRESETS).index(state.preset), key="preset",
                 on_change=choose_preset, args=(state,),
                 help="fast: Adam, 32 streams, float32 (learns quickly on a laptop). "
                      "min-char-rnn: Karpathy's original settings, exactly.")
    live_col, reset_col = st.columns(2, gap="large")
    with live_col:
        st.markdown("**Applies now**")
        lr = st.number_input("Learning rate", *BOUNDS["lr"], value=d.lr, key="lr", format="%g",
                             step=d.lr / 2 if d.lr >= 2e-7 else 1e-7,
                             help="Takes effect at the next step.")
        clip_mode = st.segmented_control("Gradient clipping", CLIP_MODES, default=d.clip_mode,
                                         key="clip_mode", required=True,
                                         help="value: each entry into [-c, c] (min-char-rnn); "
                                              "norm: rescale all gradients to norm ≤ c; off.")
        clip = st.number_input("Clip value c", *BOUNDS["clip"], value=d.clip, key="clip",
                               format="%g", step=1.0, disabled=clip_mode == "off")
    with reset_col:
        st.markdown("**Applies on Reset** (a new model)")
        a, b = st.columns(2)
        hidden = a.number_input("Hidden units H", *_int_bounds("hidden"), value=d.hidden,
                                step=16, key="hidden")
        seq_len = b.number_input("Sequence length T", *_int_bounds("seq_len"), value=d.seq_len,
                                 step=5, key="seq_len", help="Characters per chunk (truncated BPTT).")
        optimizer = a.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(d.optimizer),
                                key="optimizer")
        batch = b.number_input("Batch streams B", *_int_bounds("batch"), value=d.batch, step=1,
                               key="batch", help="Independent streams through the text per step.")
        dtype = a.selectbox("Precision", DTYPES, index=DTYPES.index(d.dtype), key="dtype")
        init = b.selectbox("Initialisation", INIT_SCHEMES, index=INIT_SCHEMES.index(d.init),
                           key="init", help="uniform: U(±1/√fan-in); randn: min-char-rnn's 0.01·N(0,1).")
        seed = a.number_input("Seed", *_int_bounds("seed"), value=d.seed, step=1, key="seed",
                              help="Same seed, same settings: the same run.")
    return {"lr": lr, "clip_mode": clip_mode or d.clip_mode, "clip": clip, "hidden": hidden,
            "seq_len": seq_len, "optimizer": optimizer, "batch": batch, "dtype": dtype,
            "init": init, "seed": seed}


def _int_bounds(name: str) -> tuple[int, int]:
    lo, hi = BOUNDS[name]
    return int(lo), int(hi)


def server_line() -> str:
    """The whole server at a glance (every session's workers, not just this one's)."""
    return (f"Server: {SERVER.playing_count()} of {server.MAX_TRAINING} training slots in use · "
            f"worker threads: {SERVER.live_threads()} · sessions in memory: {SERVER.live_sessions()} · "
            "threads: {} ({} pooled)".format(*server_threads()))
