"""The Train page's hyperparameters: their widgets, and the widgets' values in, live changes or a
draft for the next model out.

Widgets always show `state.draft`, the configuration the next Reset builds. A change to a live
setting (learning rate, clipping) also goes to the running model at once; anything else waits for
Reset, and `pending_changes` says what is waiting.

Every widget here is bound to the URL (`bind="query-params"`, the key is the parameter's name), and
its default is its preset's value, so the address names the preset and what differs from it
(ui/views/setup.py reads such a link). Their values are set through session state (by a preset, a
lesson, a link, a loaded model), never through their defaults.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from rnn_core.cells import CELL_NAMES
from rnn_core.config import BOUNDS, DEFAULT_PRESET, DTYPES, LIVE_SETTINGS, NEEDS_RESET, PRESETS, ConfigError
from rnn_core.model import INIT_SCHEMES
from rnn_core.optim import CLIP_MODES, OPTIMIZERS
from ui.session.limits import check_config
from ui.state import AppState, set_widget_values, widget_value
from ui.views.setup import PRESET_KEY
from ui.views.setup import SETTING_KEYS as KEYS
from ui.widgets.attempt import attempt

# The Train page's settings (KEYS), each a widget keyed by its TrainConfig field. Live ones go to
# the running model at once (rnn_core.config.LIVE_SETTINGS), the others wait for Reset.
LIVE = tuple(k for k in KEYS if k in LIVE_SETTINGS)
ON_RESET = tuple(k for k in KEYS if k in NEEDS_RESET)


LABELS = {
    "hidden": "hidden units H", "seq_len": "sequence length T", "lr": "learning rate",
    "clip": "clip value", "clip_mode": "clipping", "optimizer": "optimizer",
    "batch": "batch streams B", "dtype": "precision", "init": "initialisation", "seed": "seed",
    "cell": "cell",
}
CELL_HELP = ("rnn: the article's h(t) = tanh(U x(t) + W h(t-1) + b). lstm and gru: the gated cells "
             "the article ends on, whose gradient reaches further back (about 4× and 3× the RNN's "
             "work per character).")


def apply_settings(state: AppState, values: dict[str, Any]) -> str | None:
    """Take the widgets' values: live ones go to the running model, all go to the draft.
    Returns an error message for the page, or None."""
    state.settings_seen.update(values)
    changed = {k: v for k, v in values.items() if getattr(state.draft, k) != v}
    if not changed:
        return None
    try:
        draft = state.draft.replace(**changed)  # validated by TrainConfig
    except (ConfigError, TypeError, ValueError) as exc:
        return str(exc)
    live = {k: v for k, v in changed.items() if k in LIVE}
    if live:
        try:
            state.session.apply_live(**live)
        except (ConfigError, ValueError) as exc:
            return str(exc)
    state.draft = draft
    try:  # valid, but say now (not at Reset) when the next model would not fit this server
        check_config(draft, len(state.corpus.vocab))
    except ConfigError as exc:
        return f"Reset would refuse these settings: {exc}"
    return None


def take_settings(state: AppState, keys: tuple[str, ...] = KEYS) -> None:
    """Before Play or Step (`keys`: LIVE) or Reset (all): a settings widget changed since the page
    last took the values goes to the model and the draft. A change and a click can arrive in one
    script run (a click while the change's rerun is under way, as when a click takes the focus from
    a number box), and callbacks run before the page reaches apply_settings: without this the first
    steps would take the old values (a learning rate just lowered after a blow-up), or Reset the
    old draft. Only changed widgets count: a draft set past them (by a script) stays for Reset to
    judge. An invalid value is left for the page's apply_settings, which says why."""
    seen = state.settings_seen
    changed = {k: v for k in keys if k in seen and (v := widget_value(k)) is not None and v != seen[k]}
    if changed:
        apply_settings(state, changed)


def pending_changes(state: AppState) -> list[str]:
    """'hidden units H: 128 → 256' for every setting where the next model differs from this one."""
    current, draft = state.config, state.draft
    return [f"{LABELS[k]}: {_fmt(getattr(current, k))} → {_fmt(getattr(draft, k))}"
            for k in KEYS if getattr(current, k) != getattr(draft, k)]


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def choose_preset(state: AppState) -> None:
    """Preset selectbox callback: the draft (and so every widget) becomes that preset. Nothing
    changes in the running model until Reset, as the preset's learning rate suits its optimizer."""
    name = widget_value("preset")
    if name not in PRESETS:
        return
    state.preset = name
    state.draft = PRESETS[name]
    set_widget_values(**{k: getattr(state.draft, k) for k in KEYS})


def reset_now(state: AppState) -> None:
    """Button callback: a new model from the draft (the sidebar's Reset does the same)."""
    take_settings(state)
    attempt(state, lambda: state.session.reset(config=state.draft), "", failed="Reset failed")


def _show_draft(state: AppState) -> None:
    """A settings widget with no value yet shows the draft (set before the widgets are drawn)."""
    missing = {k: getattr(state.draft, k) for k in KEYS if widget_value(k) is None}
    if widget_value(PRESET_KEY) is None:
        missing[PRESET_KEY] = state.preset
    set_widget_values(**missing)


def hyperparameter_controls(state: AppState) -> dict[str, Any]:
    """The Train page's settings, showing state.draft, bounded by rnn_core.config.BOUNDS, in the
    URL. Returns {setting: value}; apply_settings decides what applies when."""
    _show_draft(state)
    preset = st.selectbox("Preset", list(PRESETS), index=list(PRESETS).index(DEFAULT_PRESET), key=PRESET_KEY,
                          on_change=choose_preset, args=(state,), bind="query-params",
                          help="fast: Adam, 32 streams, float32 (learns quickly on a laptop). "
                               "min-char-rnn: Karpathy's original settings, exactly.")
    state.preset = preset  # also when the URL set it (the browser's Back), which calls no callback
    d, base = state.draft, PRESETS[preset]  # base: each widget's default, left out of the URL
    bound = {"bind": "query-params"}
    live_col, reset_col = st.columns(2, gap="large")
    with live_col:
        st.markdown("**Applies now**")
        lr = st.number_input("Learning rate", *BOUNDS["lr"], value=base.lr, key="lr", format="%g",
                             step=d.lr / 2 if d.lr >= 2e-7 else 1e-7, **bound,
                             help="Takes effect at the next step.")
        clip_mode = st.segmented_control("Gradient clipping", CLIP_MODES, default=base.clip_mode,
                                         key="clip_mode", required=True, **bound,
                                         help="value: each entry into [-c, c] (min-char-rnn); "
                                              "norm: rescale all gradients to norm ≤ c; off.")
        clip = st.number_input("Clip value c", *BOUNDS["clip"], value=base.clip, key="clip",
                               format="%g", step=1.0, disabled=clip_mode == "off", **bound)
    with reset_col:
        st.markdown("**Applies on Reset** (a new model)")
        cell = st.segmented_control("Cell", CELL_NAMES, default=base.cell, key="cell", required=True,
                                    format_func=str.upper, help=CELL_HELP, **bound)
        a, b = st.columns(2)
        hidden = a.number_input("Hidden units H", *_int_bounds("hidden"), value=base.hidden,
                                step=16, key="hidden", **bound)
        seq_len = b.number_input("Sequence length T", *_int_bounds("seq_len"), value=base.seq_len,
                                 step=5, key="seq_len", help="Characters per chunk (truncated BPTT).",
                                 **bound)
        optimizer = a.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(base.optimizer),
                                key="optimizer", **bound)
        batch = b.number_input("Batch streams B", *_int_bounds("batch"), value=base.batch, step=1,
                               key="batch", help="Independent streams through the text per step.",
                               **bound)
        dtype = a.selectbox("Precision", DTYPES, index=DTYPES.index(base.dtype), key="dtype", **bound)
        init = b.selectbox("Initialisation", INIT_SCHEMES, index=INIT_SCHEMES.index(base.init),
                           key="init", **bound,
                           help="uniform: U(±1/√fan-in); randn: min-char-rnn's 0.01·N(0,1).")
        seed = a.number_input("Seed", *_int_bounds("seed"), value=base.seed, step=1, key="seed",
                              help="Same seed, same settings: the same run.", **bound)
    return {"lr": lr, "clip_mode": clip_mode or d.clip_mode, "clip": clip, "cell": cell or d.cell,
            "hidden": hidden,
            "seq_len": seq_len, "optimizer": optimizer, "batch": batch, "dtype": dtype,
            "init": init, "seed": seed}


def _int_bounds(name: str) -> tuple[int, int]:
    lo, hi = BOUNDS[name]
    return int(lo), int(hi)
