"""Reliability through the app (AppTest): divergence, bad hyperparameters that bypass the widgets,
and the cap on concurrent training. Every bad input ends as a message in the page, never as an
exception, and the running model survives it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import ConfigError, TrainConfig
from ui.session import server
from ui.session.limits import MAX_MODEL_MB, check_config, model_megabytes
from ui.session.server import SERVER
from ui.session.worker import TrainingSession

WAIT_S = 30  # generous: 2 cores shared with other test processes; each wait ends as soon as it can


def session(at: AppTest) -> TrainingSession:
    return at.session_state["unrolled"].session


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)


def steps(s: TrainingSession) -> int:
    return s.read(lambda t: t.step_count)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def finite_params(s: TrainingSession) -> bool:
    return s.read(lambda t: all(bool(np.isfinite(a).all()) for a in t.params.values()))


# --- divergence ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow in the diverging step, by design
def test_divergence_pauses_rolls_back_and_play_resumes_after_the_fix(app: AppTest) -> None:
    s = session(app)
    # On the default preset and text, lr 10 without clipping blows the loss up within a few steps.
    s.apply_live(lr=10.0, clip_mode="off")
    app.button(key="play").click().run()
    wait_until(lambda: not s.playing)  # the worker paused by itself
    app.run()
    assert not app.exception
    # Which limit trips first (the loss or the gradients' size) depends on rounding; either pauses.
    message = next((e for e in errors(app) if e.startswith("**Training paused: the")), None)
    assert message is not None, errors(app)
    assert "lower the learning rate" in message and "turn gradient clipping on" in message  # the fix
    assert any("**Paused**" in m.value for m in app.markdown)
    assert finite_params(s)  # rolled back to the last finite state
    stopped_at = steps(s)
    assert s.read(lambda t: t.last_record is None or np.isfinite(t.last_record.loss))
    assert not app.button(key="play").disabled

    # The fix, through the Train page's widget as a user makes it, then Play again.
    app.number_input(key="lr").set_value(1e-3).run()
    assert s.read(lambda t: t.config.lr) == pytest.approx(1e-3)
    app.button(key="play").click().run()
    assert s.playing
    wait_until(lambda: steps(s) >= stopped_at + 20)
    app.button(key="pause").click().run()
    assert not [e for e in errors(app) if "Training paused" in e]  # the message went with the fix
    assert finite_params(s)
    assert s.read(lambda t: bool(np.isfinite(t.history.column("loss")).all()))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_on_step_button_is_a_message_too(app: AppTest) -> None:
    s = session(app)
    s.apply_live(lr=10.0, clip_mode="off")
    for _ in range(10):
        app.button(key="step").click().run()
        assert not app.exception
        if s.message:
            break
    assert s.message and s.message.startswith("**Training paused: the")  # loss or gradients: rounding
    assert s.message in errors(app)
    assert finite_params(s)


# --- hyperparameters that bypass the widgets ------------------------------------------------------


@pytest.mark.parametrize("changes", [
    {"hidden": 10**9}, {"hidden": 0}, {"hidden": 2.5}, {"hidden": "100"}, {"seq_len": -1},
    {"lr": -1.0}, {"lr": float("nan")}, {"lr": float("inf")}, {"clip": 0.0}, {"batch": 10**6},
    {"seed": -1}, {"clip_mode": "sideways"}, {"optimizer": "magic"}, {"dtype": "float16"},
])
def test_train_config_refuses_out_of_range_values(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(**changes)  # type: ignore[arg-type]
    assert next(iter(changes)) in str(info.value)  # the message names the setting


@pytest.mark.parametrize("changes", [{"lr": -1.0}, {"lr": 0.0}, {"lr": "fast"}, {"clip": -5.0},
                                     {"clip_mode": "both"}, {"hidden": 256}, {"seq_len": 10}])
def test_apply_live_refuses_and_keeps_the_running_settings(app: AppTest, changes: dict) -> None:
    s = session(app)
    before = s.read(lambda t: t.config)
    with pytest.raises(ConfigError):
        s.apply_live(**changes)
    assert s.read(lambda t: t.config) == before
    app.button(key="step").click().run()  # and the model still trains
    assert steps(s) == 1 and not app.exception


def _forged(config: TrainConfig, **changes: object) -> TrainConfig:
    """A TrainConfig with values its own checks would refuse (a frozen dataclass can be forged)."""
    forged = dataclasses.replace(config)
    for k, v in changes.items():
        object.__setattr__(forged, k, v)
    return forged


@pytest.mark.parametrize("draft", [
    pytest.param(lambda d: _forged(d, hidden=10**9), id="forged-hidden"),
    pytest.param(lambda d: _forged(d, lr=float("nan")), id="forged-lr-nan"),
    pytest.param(lambda d: _forged(d, seq_len=0), id="forged-seq-len"),
    pytest.param(lambda d: {"hidden": 64}, id="not-a-config"),
    pytest.param(lambda d: d.replace(hidden=1024, seq_len=400, batch=256, dtype="float64"),
                 id="valid-but-too-big"),
])
def test_reset_with_a_bad_draft_shows_an_error_and_keeps_the_model(app: AppTest, draft) -> None:
    state = app.session_state["unrolled"]
    s = state.session
    app.button(key="step").click().run()
    trainer = s.trainer
    state.draft = draft(state.draft)  # as a script could, past every widget
    app.button(key="reset").click().run()
    assert not app.exception
    assert any("must" in e or "MB" in e for e in errors(app)), errors(app)
    assert s.trainer is trainer and steps(s) == 1
    # The page drew (no exception above): an invalid draft was put back to the running settings,
    # a valid but too big one is kept for the user to adjust.
    assert isinstance(state.draft, TrainConfig)
    if state.draft != state.config:
        assert state.draft.hidden == 1024
    app.switch_page("pages/data.py").run()  # and every page still draws
    assert not app.exception


def test_widgets_clamp_out_of_range_values(app: AppTest) -> None:
    # A client can send any number; Streamlit keeps the widget inside its bounds.
    app.number_input(key="lr").set_value(100.0).run()
    app.number_input(key="hidden").set_value(10**7).run()
    assert not app.exception
    state = app.session_state["unrolled"]
    assert state.config.lr <= 10 and state.draft.hidden <= 1024


def test_url_query_parameters_change_nothing(app: AppTest) -> None:
    before = app.session_state["unrolled"].config
    app.query_params.update({"hidden": "1000000000", "lr": "-1", "seq_len": "x"})
    app.run()
    assert not app.exception
    assert app.session_state["unrolled"].config == before


def test_model_budget_estimate() -> None:
    fast = TrainConfig(hidden=128, seq_len=25, batch=32, dtype="float32")
    assert model_megabytes(fast, 100) < 10  # the default preset is far inside the budget
    check_config(fast, 100)
    worst = TrainConfig(hidden=1024, seq_len=400, batch=256, dtype="float64")
    assert model_megabytes(worst, 1000) > 5000  # what the per-setting bounds alone would allow
    with pytest.raises(ConfigError, match="MB"):
        check_config(worst, 1000)
    # The largest model that may exist (checkpoints of it load) trains at a short sequence length.
    check_config(TrainConfig(hidden=1024, seq_len=25, batch=1, dtype="float64"), 1000)
    assert MAX_MODEL_MB >= 128


# --- the cap on concurrent training ---------------------------------------------------------------


def test_play_past_the_cap_says_server_busy(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "MAX_TRAINING", SERVER.playing_count())  # every slot taken
    s = session(app)
    app.button(key="play").click().run()
    assert not s.playing and not app.exception
    assert any("Server busy" in e for e in errors(app)), errors(app)
    monkeypatch.setattr(server, "MAX_TRAINING", SERVER.playing_count() + 1)  # a slot frees
    app.button(key="play").click().run()
    assert s.playing
    assert not any("Server busy" in e for e in errors(app))
    app.button(key="pause").click().run()
