"""The Compare page's controls and the flows behind them: what the runs differ in, their budget of
characters, the "Watch gradients vanish" preset, and the sidebar's Play, Pause, Step and Reset,
which on the Compare page apply to every run of the comparison (ui/widgets/sidebar.py).

A comparison is built from the Train page's settings (the draft, as Reset uses) on the session's
text, or from the preset's own text and settings; the session's worker trains it in place of the
model (ui/session/worker.py, ui/session/compare.py).
"""

from __future__ import annotations

import logging
import re
from functools import partial

import streamlit as st

from rnn_core import checkpoint
from rnn_core.config import ConfigError
from ui.session.compare import (
    BUDGETS,
    DEFAULT_BUDGET,
    VANISH_BUDGET,
    VANISH_CONFIG,
    VANISH_CORPUS,
    VARIATIONS,
    Comparison,
)
from ui.session.worker import TrainingSession
from ui.state import AppState, builtin_corpus, set_widget_values, widget_value
from ui.text import format_count

VARY_KEY, BUDGET_KEY = "compare_vary", "compare_budget"
log = logging.getLogger(__name__)


def _build(state: AppState, vary: str, budget: int, preset: bool = False) -> str | None:
    """A new comparison in the session (training pauses); an error message instead when its
    settings are refused (the old comparison, if any, stays)."""
    corpus, base = (builtin_corpus(VANISH_CORPUS), VANISH_CONFIG) if preset else (state.corpus, state.draft)
    try:
        comparison = Comparison(corpus, base, vary, budget, preset=preset)
    except ConfigError as exc:
        return f"The comparison cannot start: {exc}"
    state.session.set_comparison(comparison)
    return None


def _chosen() -> tuple[str, int]:
    """The controls' values (their defaults before they are drawn)."""
    vary, budget = widget_value(VARY_KEY), widget_value(BUDGET_KEY)
    return (vary if vary in VARIATIONS else VARIATIONS[0],
            budget if budget in BUDGETS else DEFAULT_BUDGET)


def ensure_comparison(state: AppState) -> str | None:
    """The session's comparison, built on first use from the controls' values; an error message
    when it cannot be built."""
    if state.session.comparison is not None:
        return None
    return _build(state, *_chosen())


def _notice(state: AppState, message: str | None) -> None:
    if message:
        state.notice = message  # shown once in the sidebar, on any page


def choose_vary(state: AppState) -> None:
    """The variation control's callback: new runs differing in that, from the Train page's
    settings on the session's text."""
    _notice(state, _build(state, *_chosen()))


def choose_budget(state: AppState) -> None:
    state.session.set_comparison_budget(_chosen()[1])


def watch_gradients_vanish(state: AppState) -> None:
    """The preset's callback: RNN, LSTM and GRU on the recall text (see ui.session.compare)."""
    set_widget_values(**{VARY_KEY: "cell", BUDGET_KEY: VANISH_BUDGET})
    _notice(state, _build(state, "cell", VANISH_BUDGET, preset=True))


def play_all(state: AppState) -> None:
    """The sidebar's Play on the Compare page: every run, in turn."""
    error = ensure_comparison(state)
    comparison = state.session.comparison
    if error or comparison is None:
        _notice(state, error)
    elif comparison.done:
        state.notice = ("Every run has read its budget of characters: raise the budget on the "
                        "Compare page, or Reset.")
    else:
        state.session.play_comparison()  # False, with the session's message, when the server is busy


def step_all(state: AppState) -> None:
    """The sidebar's Step on the Compare page: one update of each run."""
    if ensure_comparison(state) is None:
        state.session.step_comparison()


def reset_all(state: AppState) -> None:
    """The sidebar's Reset on the Compare page: every run starts again from the seed, with the
    Train page's settings (the preset keeps its own)."""
    comparison = state.session.comparison
    preset = comparison is not None and comparison.preset
    vary, budget = _chosen()
    _notice(state, _build(state, "cell" if preset else vary, budget, preset=preset))


def compare_controls(state: AppState) -> None:
    """What the runs differ in (keyed compare_vary), their budget (compare_budget) and the preset
    button (compare_vanish)."""
    comparison = state.session.comparison
    vary = comparison.vary if comparison is not None else _chosen()[0]
    budget = comparison.budget if comparison is not None else _chosen()[1]
    # 5 parts of 11: at 1366×768 the four choices fit in one row (at 4 of 10 "hidden size" was cut)
    left, middle, right = st.columns([5, 3, 3], vertical_alignment="bottom")
    left.segmented_control(
        "The runs differ in", VARIATIONS, default=vary, key=VARY_KEY, required=True,
        on_change=choose_vary, args=(state,),
        help="cell: RNN, LSTM, GRU. optimizer: Adagrad (the article's), SGD and Adam, each at a "
             "learning rate that suits it. clipping: on against off. hidden size: half, as set, "
             "double. Everything else is the Train page's settings.")
    middle.select_slider(
        "Characters each run reads", BUDGETS, value=budget, key=BUDGET_KEY, format_func=format_count,
        on_change=choose_budget, args=(state,),
        help="Every run reads the same characters: the one behind always steps next.")
    right.button("Watch gradients vanish", key="compare_vanish", icon=":material/science:",
                 on_click=watch_gradients_vanish, args=(state,), width="stretch",
                 help="RNN, LSTM and GRU on the built-in recall text: a letter to recall 22 to 26 "
                      "characters later. The gated cells learn it; the RNN's gradient has faded "
                      "by then.")


def run_bytes(session: TrainingSession, index: int) -> bytes:
    """Run `index`'s checkpoint (rnn_core.checkpoint), taken under the lock: one whole step."""
    def take(comparison: Comparison | None) -> bytes:
        if comparison is None or not 0 <= index < len(comparison.runs):
            raise ValueError("no such run")
        return checkpoint.to_bytes(comparison.runs[index].trainer)
    return session.read_comparison(take)


def download_buttons(state: AppState, labels: list[str]) -> None:
    """One download per run (keyed compare_download_<i>), its bytes made when clicked."""
    for i, (col, label) in enumerate(zip(st.columns(len(labels)), labels, strict=True)):
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        col.download_button(
            f"Download {label}", data=partial(run_bytes, state.session, i),
            file_name=f"unrolled-compare-{slug}.npz", mime="application/octet-stream",
            key=f"compare_download_{i}", on_click="ignore", icon=":material/download:",
            width="stretch",
            help="Its weights, optimizer state and place in the text (.npz): load it in the "
                 "sidebar's Save / load model to go on training it alone.")
