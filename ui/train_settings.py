"""Hyperparameters: widget values in, live changes or a draft for the next model out.

Widgets always show `state.draft`, the configuration the next Reset builds. A change to a live
setting (learning rate, clipping) also goes to the running model at once; anything else waits for
Reset, and `pending_changes` says what is waiting. No Streamlit here except through ui.state.
"""

from __future__ import annotations

import logging
from typing import Any

from rnn_core.config import PRESETS, ConfigError
from ui.session.limits import check_config
from ui.state import AppState, set_widget_values, widget_value

LIVE = ("lr", "clip", "clip_mode")  # a subset of rnn_core.trainer.LIVE_SETTINGS
ON_RESET = ("hidden", "seq_len", "optimizer", "batch", "dtype", "init", "seed")
KEYS = LIVE + ON_RESET

log = logging.getLogger(__name__)

LABELS = {
    "hidden": "hidden units H", "seq_len": "sequence length T", "lr": "learning rate",
    "clip": "clip value", "clip_mode": "clipping", "optimizer": "optimizer",
    "batch": "batch streams B", "dtype": "precision", "init": "initialisation", "seed": "seed",
}


def apply_settings(state: AppState, values: dict[str, Any]) -> str | None:
    """Take the widgets' values: live ones go to the running model, all go to the draft.
    Returns an error message for the page, or None."""
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
    try:
        state.session.reset(config=state.draft)
    except ValueError as exc:  # CorpusError, ConfigError: keep the current model
        state.notice = str(exc)
    except Exception:  # a bug, not the user's input: log it, keep the current model
        log.exception("reset failed")
        state.notice = "Reset failed (an internal error; the details are in the server log)."
