"""The Compare page under AppTest: runs differing in one thing, trained in turn by the session's
one worker with equal budgets of characters, the sidebar's Play, Pause, Step and Reset applying to
every run, the charts and samples of each, and each run's model downloaded and loaded back."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from rnn_core import checkpoint
from rnn_core.trainer import Trainer
from tests.apptest_support import app_state_of, chart_places, keyed_block
from ui.session.compare import DEFAULT_BUDGET, VAL_EVERY, VANISH_BUDGET, VANISH_CONFIG
from ui.widgets.compare import run_bytes

CHARTS = ("compare_val_chars", "compare_val_time", "compare_reach", "compare_grads")


def sidebar_status(at: AppTest) -> str:
    (status,) = keyed_block(at, "status").get("markdown")
    return status.value


def run_headings(at: AppTest) -> list[str]:
    """The heading of each run's column (its label and latest validation loss), in order."""
    headings = []
    while (block := keyed_block(at, f"compare_run_{len(headings)}")) is not None:
        headings.append(block.get("markdown")[0].value)
    return headings


def runs(at: AppTest) -> list[tuple[str, int, int]]:
    """(label, characters read, steps) of every run."""
    return app_state_of(at).session.read_comparison(
        lambda c: [(r.label, r.trainer.chars_seen, r.trainer.step_count) for r in c.runs])


def chart(at: AppTest, key: str) -> tuple[dict, dict]:
    """The Vega-Lite spec in the keyed container and the datasets sent with it."""
    (element,) = keyed_block(at, key).get("vega_lite_chart")
    data = {d.name: convert_arrow_bytes_to_pandas_df(d.data.data) for d in element.proto.datasets}
    return json.loads(element.proto.spec), data


@pytest.fixture
def compare(app: AppTest) -> AppTest:
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    return app


def test_it_opens_on_the_three_cells_from_the_train_pages_settings(compare: AppTest):
    state = app_state_of(compare)
    assert [label for label, _, _ in runs(compare)] == ["RNN", "LSTM", "GRU"]
    assert compare.button_group(key="compare_vary").value == "cell"
    configs = state.session.read_comparison(lambda c: [r.trainer.config for r in c.runs])
    assert [c.cell for c in configs] == ["rnn", "lstm", "gru"]
    assert all(c.replace(cell="rnn", val_every=state.draft.val_every) == state.draft for c in configs)
    assert {c.val_every for c in configs} == {0}  # the comparison validates them itself
    assert sidebar_status(compare) == "**Paused** · 3 runs · 0 of 2.00 M characters each"
    assert "Press **Play** in the sidebar" in compare.info[0].value
    assert run_headings(compare) == ["**RNN** · validation –", "**LSTM** · validation –",
                                     "**GRU** · validation –"]


def test_the_charts_keep_their_places_once_the_runs_train(compare: AppTest):
    """The hint "Press Play" goes with the first step; the charts below it keep their places (a
    moved element is remounted: the browser redraws it from scratch)."""
    places = chart_places(compare)
    assert len(places) == len(CHARTS)
    compare.button(key="step").click().run()
    assert not compare.info
    assert chart_places(compare) == places


def test_step_and_play_train_every_run_in_turn_with_equal_characters(compare: AppTest):
    state = app_state_of(compare)
    chunk = state.config.batch * state.config.seq_len
    compare.button(key="step").click().run()
    assert [(c, s) for _, c, s in runs(compare)] == [(chunk, 1)] * 3
    compare.button(key="play").click().run()
    assert state.session.comparing and not state.session.playing
    assert sidebar_status(compare).startswith("**Comparing** · 3 runs")
    deadline = time.monotonic() + 120
    while min(c for _, c, _ in runs(compare)) < VAL_EVERY * chunk:  # a validation each after 0
        assert time.monotonic() < deadline, runs(compare)
        time.sleep(0.2)
    compare.run()
    compare.button(key="pause").click().run()
    assert not state.session.busy
    seen = [c for _, c, _ in runs(compare)]
    assert max(seen) - min(seen) <= chunk  # interleaved: never more than one step apart
    assert state.session.read(lambda t: t.step_count) == 0  # the Train page's model waited
    compare.run()
    assert not compare.exception
    labels = ["RNN", "LSTM", "GRU"]
    for key in CHARTS:
        spec, _ = chart(compare, key)
        assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == labels, key
    _, vals = chart(compare, "compare_val_chars")
    per_run = vals["points"].groupby("run")["chars_seen"].apply(list).to_dict()
    assert {run: seen[:2] for run, seen in per_run.items()} == {r: [0, VAL_EVERY * chunk] for r in labels}
    _, grads = chart(compare, "compare_grads")
    assert sorted(set(grads["points"]["run"])) == sorted(labels)
    _, reach = chart(compare, "compare_reach")
    assert sorted(set(reach["points"]["run"])) == sorted(labels)
    points = reach["points"]
    assert points["distance"].max() <= state.config.seq_len - 1
    assert points.loc[points["distance"] == 0, "share"].tolist() == [1.0] * 3  # each its own d = 0
    texts = [keyed_block(compare, f"compare_sample_{i}").get("code")[0].value for i in range(3)]
    assert all(len(t) == 200 for t in texts)


def test_pause_and_reset_apply_to_every_run(compare: AppTest):
    state = app_state_of(compare)
    compare.button(key="step").click().run()
    compare.button(key="step").click().run()
    compare.button(key="play").click().run()
    time.sleep(0.5)
    compare.button(key="pause").click().run()
    frozen = runs(compare)
    time.sleep(0.5)
    assert runs(compare) == frozen and min(s for _, _, s in frozen) >= 2
    old = state.session.comparison
    compare.button(key="reset").click().run()
    assert not compare.exception
    assert state.session.comparison is not old
    assert [(c, s) for _, c, s in runs(compare)] == [(0, 0)] * 3
    # New weights from the seed: each run's are a fresh trainer's with its settings.
    for run in state.session.comparison.runs:
        fresh = Trainer(state.corpus, run.trainer.config)
        for k, a in run.trainer.params.items():
            np.testing.assert_array_equal(a, fresh.params[k])


def test_the_sidebar_plays_the_model_elsewhere_and_that_pauses_the_comparison(compare: AppTest):
    state = app_state_of(compare)
    compare.button(key="play").click().run()
    assert state.session.comparing
    compare.switch_page("pages/train.py").run()
    assert "Comparing (Compare page)" in sidebar_status(compare)
    compare.button(key="play").click().run()
    assert state.session.playing and not state.session.comparing
    frozen = runs(compare)
    time.sleep(0.3)
    assert runs(compare) == frozen
    compare.button(key="pause").click().run()


def test_the_variation_and_the_budget(compare: AppTest):
    state = app_state_of(compare)
    compare.button_group(key="compare_vary").set_value("optimizer").run()
    assert not compare.exception
    assert [label for label, _, _ in runs(compare)] == ["Adagrad, lr 0.03", "SGD, lr 0.03", "Adam, lr 0.002"]
    compare.select_slider(key="compare_budget").set_value(500_000).run()
    assert state.session.comparison.budget == 500_000
    assert sidebar_status(compare) == "**Paused** · 3 runs · 0 of 500,000 characters each"
    compare.button_group(key="compare_vary").set_value("clipping").run()
    assert [label for label, _, _ in runs(compare)] == ["clipping by norm at 20", "no clipping"]
    assert state.session.comparison.budget == 500_000  # kept across a new variation
    assert [h.split(" · ")[0] for h in run_headings(compare)] == ["**clipping by norm at 20**",
                                                                  "**no clipping**"]


def test_watch_gradients_vanish_sets_up_the_recall_task_and_reset_keeps_it(compare: AppTest):
    state = app_state_of(compare)
    compare.button_group(key="compare_vary").set_value("hidden size").run()
    assert compare.select_slider(key="compare_budget").value == DEFAULT_BUDGET
    compare.button(key="compare_vanish").click().run()
    assert not compare.exception
    comparison = state.session.comparison
    assert comparison.preset and comparison.corpus.name == "recall"
    # the preset's own budget, room for the steps tests/test_long_range.py shows the learning in
    assert comparison.budget == VANISH_BUDGET != DEFAULT_BUDGET
    assert compare.select_slider(key="compare_budget").value == VANISH_BUDGET
    assert [r.trainer.config.cell for r in comparison.runs] == ["rnn", "lstm", "gru"]
    assert comparison.runs[0].trainer.config.hidden == VANISH_CONFIG.hidden
    assert compare.button_group(key="compare_vary").value == "cell"
    assert any("**recall**" in c.value for c in compare.caption)
    compare.button(key="reset").click().run()
    assert state.session.comparison is not comparison and state.session.comparison.preset


def test_each_runs_model_downloads_and_loads_back(compare: AppTest):
    state = app_state_of(compare)
    for _ in range(2):
        compare.button(key="step").click().run()
    buttons = {b.key: b for b in compare.get("download_button")}
    for i, label in enumerate(["RNN", "LSTM", "GRU"]):
        button = buttons[f"compare_download_{i}"]
        assert button.proto.deferred_file_id and label in button.proto.label  # made when clicked
        ckpt = checkpoint.from_bytes(run_bytes(state.session, i))
        run = state.session.comparison.runs[i]
        assert ckpt.config == run.trainer.config and ckpt.trainer["step"] == 2
        restored = checkpoint.restore(ckpt, state.corpus)
        for k, a in run.trainer.params.items():
            np.testing.assert_array_equal(restored.trainer.params[k], a)
    # And through the sidebar's upload: the LSTM run becomes the session's model.
    compare.file_uploader(key="model_upload").set_value(
        ("lstm.npz", run_bytes(state.session, 1), "application/octet-stream")).run()
    assert not compare.exception
    assert state.session.read(lambda t: (t.config.cell, t.step_count)) == ("lstm", 2)
    with pytest.raises(ValueError, match="no such run"):
        run_bytes(state.session, 3)


def test_presentation_mode_draws_the_charts_larger_two_a_row(compare: AppTest):
    from ui.figures.style import PRESENTATION
    compare.toggle(key="presentation").set_value(True).run()
    assert not compare.exception
    for key in CHARTS:
        spec, _ = chart(compare, key)
        assert spec["config"] == PRESENTATION.vega_config, key
