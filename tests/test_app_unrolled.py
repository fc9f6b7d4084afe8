"""The Unrolled at under AppTest: the walk moves through the phases, the time step and the stream
are picked, walking pauses training, and the last phase takes exactly the step shown."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import DEFAULT_PRESET, PRESETS
from rnn_core.model import PARAM_NAMES
from tests.apptest_support import app_state_of, status_of
from tests.inspect_support import charts, plotly_array
from ui.views.unrolled import BACKWARD, CHUNK, CLIP, FORWARD, PHASES, SOFTMAX, STEP, UPDATE
from ui.views.walk import DWELL_TICKS
from ui.widgets.unrolled import start_play, stop_play

PAGE = "pages/unrolled.py"
CFG = PRESETS[DEFAULT_PRESET]
T = CFG.seq_len


@pytest.fixture
def at(app: AppTest) -> AppTest:
    """The app on the Unrolled page."""
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def walk_of(at: AppTest):
    return app_state_of(at).walk


def press(at: AppTest, key: str, times: int = 1) -> AppTest:
    for _ in range(times):
        at.button(key=key).click().run()
        assert not at.exception, at.exception[0].value
    return at


def equations(at: AppTest) -> str:
    return " ".join(x.value for x in at.latex)


def test_the_page_opens_on_the_chunk_of_the_next_step(at: AppTest):
    assert at.header[0].value == "Unrolled"
    assert "pauses training" in at.caption[0].value
    assert walk_of(at).phase == CHUNK
    assert any(m.value.startswith("**0 · The chunk.**") for m in at.markdown)
    spec = charts(at)["unrolled_chart"]
    assert plotly_array(spec["data"][0]["z"]).shape == (16, 2 * (T + 1) - 1)
    assert at.button(key="unrolled_prev").disabled and not at.button(key="unrolled_next").disabled
    assert len(at.selectbox(key="unrolled_stream").options) == CFG.batch
    assert "onehot" in equations(at) and "rnn_core/trainer.py" in at.code[0].value


def test_next_and_back_walk_the_phases_with_their_equations_and_source(at: AppTest):
    seen = []
    for phase in range(1, STEP):
        press(at, "unrolled_next")
        walk = walk_of(at)
        assert walk.phase == phase
        seen.append((walk.t, equations(at), at.code[0].value))
    assert [t for t, _, _ in seen[:3]] == [0, 0, T - 1]  # forward and softmax from 0, backward from T-1
    assert r"\tanh" in seen[0][1] and "# W h(t-1)" in seen[0][2]
    assert r"\ln" in seen[1][1] and "softmax_nll" in seen[1][2]
    assert r"\partial L" in seen[2][1] and "dz[t].dot(W" in seen[2][2]
    assert "clip" in seen[3][1] and "_clip_flat" in seen[3][2]
    assert r"\hat m" in seen[4][1] and "Adam._update" in seen[4][2]  # the fast preset's Adam
    assert at.button(key="unrolled_next").label == "Take the step"
    assert at.dataframe[0].value["parameter"].str[0].tolist() == list(PARAM_NAMES)
    press(at, "unrolled_prev")
    assert walk_of(at).phase == CLIP
    press(at, "unrolled_prev", 2)
    assert (walk_of(at).phase, walk_of(at).t) == (SOFTMAX, 0)  # where the backward pass ended


def test_the_time_step_picks_the_numbers_shown(at: AppTest):
    press(at, "unrolled_next")  # forward, t = 0
    assert "(0)" in equations(at)
    at.select_slider(key="unrolled_t").set_value(7).run()
    assert walk_of(at).t == 7
    eq = equations(at)
    assert "(7)" in eq and r"\tanh" in eq
    z = plotly_array(charts(at)["unrolled_chart"]["data"][0]["z"])
    filled = ~np.isnan(z[:, ::2]).all(axis=0)  # columns -1 ... T-1
    assert filled.tolist() == [True] * 9 + [False] * (T - 8)  # h(-1), h(0) ... h(7)


def test_the_stream_picker_shows_another_stream_of_the_same_step(at: AppTest):
    press(at, "unrolled_next", 2)  # softmax: the chunk's characters are in the figure
    def inputs() -> list[str]:
        spec = charts(at)["unrolled_chart"]
        return next(tr["text"][0] for tr in spec["data"] if tr.get("text") and len(tr["text"]) == 1
                    and tr["y"][0] < 0)
    first = inputs()
    at.selectbox(key="unrolled_stream").set_value(5).run()
    assert not at.exception and walk_of(at).phase == SOFTMAX
    assert inputs() != first and len(inputs()) == T


def test_the_last_phase_takes_exactly_the_step_shown(at: AppTest):
    session = app_state_of(at).session
    preview = session.read(lambda t: t.peek())
    steps = session.read(lambda t: t.step_count)
    press(at, "unrolled_next", UPDATE)
    assert session.read(lambda t: t.step_count) == steps  # nothing taken while walking
    press(at, "unrolled_next")  # Take the step
    walk = walk_of(at)
    assert walk.phase == STEP and walk.taken.check.taken and walk.taken.check.equal
    assert session.read(lambda t: t.step_count) == steps + 1 == preview.step
    weights = session.read(lambda t: t.snapshot_params())
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(weights[k], preview.params_after[k])
    assert f"Step {preview.step:,} taken" in at.success[0].value
    assert "U: 0" in equations(at)
    assert f"step {preview.step:,} " in status_of(at)  # the sidebar ran again
    assert at.button(key="unrolled_prev").disabled and at.button(key="unrolled_next").label == "Next step"
    press(at, "unrolled_next")  # the next step's walk
    assert walk_of(at).phase == CHUNK and walk_of(at).key[1] == preview.step + 1


def test_walking_pauses_training(at: AppTest):
    session = app_state_of(at).session
    at.button(key="play").click().run()
    assert session.playing
    press(at, "unrolled_next")
    assert not session.playing


def test_the_walk_starts_over_when_the_trainer_moves_on(at: AppTest):
    press(at, "unrolled_next", BACKWARD)
    at.button(key="step").click().run()  # the sidebar's Step: the step shown is gone
    assert walk_of(at).phase == CHUNK
    assert "starts over" in at.info[0].value


def test_play_walks_the_iteration_and_takes_the_step(at: AppTest):
    session = app_state_of(at).session
    steps = session.read(lambda t: t.step_count)
    press(at, "unrolled_play")
    assert walk_of(at).playing and at.button(key="unrolled_stop").label == "Stop"
    phases = [walk_of(at).phase]
    # AppTest does not run fragment timers: each run is one beat.
    for _ in range(3 * DWELL_TICKS + 3 * T + 5):
        if not walk_of(at).playing:
            break
        at.run()
        assert not at.exception
        phases.append(walk_of(at).phase)
    assert list(dict.fromkeys(phases)) == list(range(len(PHASES)))
    assert not walk_of(at).playing and walk_of(at).taken.check.equal
    assert session.read(lambda t: t.step_count) == steps + 1


def test_stop_stops_the_walk_where_it_is(at: AppTest):
    press(at, "unrolled_play")
    for _ in range(DWELL_TICKS + 3):
        at.run()
    where = (walk_of(at).phase, walk_of(at).t)
    assert where[0] == FORWARD
    press(at, "unrolled_stop")
    at.run()
    assert not walk_of(at).playing and (walk_of(at).phase, walk_of(at).t) == where


def test_play_and_stop_are_two_buttons_so_a_double_click_is_one(at: AppTest):
    """The browser may click a button's outgoing copy too (one key press, two clicks): Play twice
    still plays, Stop twice still stops (a toggle would undo the first click)."""
    press(at, "unrolled_play")
    keys = [b.key for b in at.button]
    assert walk_of(at).playing and "unrolled_stop" in keys and "unrolled_play" not in keys
    start_play(app_state_of(at))  # the second click of the same press
    at.run()
    assert walk_of(at).playing
    press(at, "unrolled_stop")
    stop_play(app_state_of(at))
    at.run()
    assert not walk_of(at).playing
