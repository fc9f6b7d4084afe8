"""The Train page: hyperparameters (live vs on Reset, presets, bounds), the live charts (their
zoom and events), the throughput readout, the periodic sample, the CSV download, and what goes
wrong and the way back (divergence, worse than guessing, overfitting, rewind)."""

import dataclasses
import json
import time

import pandas as pd
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

from rnn_core.config import BOUNDS, DEFAULT_PRESET, LIVE_SETTINGS, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import load_builtin
from rnn_core.optim import CLIP_MODES
from tests.apptest_support import app_state_of, chart_places, errors_of, keyed_block, status_of
from tests.rnn_support import Losses
from ui.views.recovery import ABOVE_UNIFORM_STEPS, read_rewind_points
from ui.views.train import metrics_csv, read_train_view
from ui.widgets.train_settings import KEYS, LIVE, ON_RESET, apply_settings

NUMBER_KEYS = ("hidden", "seq_len", "lr", "clip", "batch", "seed")


CHARTS = ("loss_chart", "grad_norm_chart", "clipped_chart")


def chart_specs(at) -> dict[str, dict]:
    """The Vega-Lite spec of each live chart, found by its keyed container."""
    specs = {}
    for key in CHARTS:
        block = keyed_block(at, key)
        if block is not None:
            (chart,) = block.get("vega_lite_chart")
            specs[key] = json.loads(chart.proto.spec)
    return specs


def chart_data(at, key: str) -> dict[str, pd.DataFrame]:
    """The datasets Streamlit sent with the live chart in the container `key`."""
    (chart,) = keyed_block(at, key).get("vega_lite_chart")
    return {d.name: convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets}


def x_domains(spec: dict) -> list:
    """The x scale domain of every layer that draws the step axis."""
    return [layer["encoding"]["x"].get("scale", {}).get("domain") for layer in spec["layer"]
            if "axis" in layer["encoding"].get("x", {})]


def test_every_setting_has_its_keyed_widget_bounded_by_rnn_core(app):
    for key in NUMBER_KEYS:
        w = app.number_input(key=key)
        assert (w.min, w.max) == pytest.approx(BOUNDS[key]), key
    for key in ("preset", "optimizer", "dtype", "init"):
        assert app.selectbox(key=key)
    draft = app_state_of(app).draft
    clip_mode = app.button_group(key="clip_mode")
    # A single-select segmented control's value is the chosen option itself, not a list.
    assert clip_mode.value == draft.clip_mode == PRESETS[DEFAULT_PRESET].clip_mode == "norm"
    assert clip_mode.options == list(CLIP_MODES) and clip_mode.indices == [CLIP_MODES.index("norm")]
    assert app.number_input(key="hidden").value == draft.hidden
    assert app.number_input(key="lr").value == pytest.approx(draft.lr)
    assert app.selectbox(key="preset").value == "fast"


def test_the_live_settings_are_rnn_cores_and_the_rest_waits_for_reset(app):
    assert set(KEYS) <= {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(LIVE) == set(KEYS) & set(LIVE_SETTINGS) and set(ON_RESET) == set(KEYS) - set(LIVE)
    session, draft = app_state_of(app).session, app_state_of(app).draft
    for key in LIVE:  # the running model takes each at once ...
        session.apply_live(**{key: getattr(draft, key)})
    for key in ON_RESET:  # ... and refuses each of the others
        with pytest.raises(ConfigError):
            session.apply_live(**{key: getattr(draft, key)})


def test_learning_rate_applies_live(app):
    state = app_state_of(app)
    app.button(key="step").click().run()
    app.number_input(key="lr").set_value(0.01).run()
    assert state.config.lr == 0.01 and state.draft.lr == 0.01
    assert state.session.read(lambda t: t.step_count) == 1  # same model, no reset
    assert not app.get("flex_container") or not [c for c in app.info if "Reset" in c.value]


@pytest.mark.parametrize("button", ["step", "play"])
def test_a_live_setting_changed_with_a_click_applies_before_that_clicks_step(app, button: str):
    """A change and a click in one script run (a click while the change's rerun is under way): the
    click's callback runs before the page applies the change, and must apply it first. (Step's
    callback steps at once, so the old code failed it every time; Play's worker usually waited for
    the script run: the race CI lost once in tests/e2e/test_story.py.)"""
    state = app_state_of(app)
    app.number_input(key="lr").set_value(0.05)
    app.number_input(key="clip").set_value(0.5)
    app.button(key=button).click().run()
    deadline = time.monotonic() + 20
    while steps_of(state) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    if button == "play":
        app.button(key="pause").click().run()
    first = state.session.read(lambda t: {k: t.history.column(k)[0] for k in ("lr", "global_pre",
                                                                              "global_post")})
    assert first["lr"] == 0.05  # the first step took the new learning rate ...
    assert first["global_pre"] > 0.5 and first["global_post"] == pytest.approx(0.5)  # ... and clip value
    assert state.config.lr == state.draft.lr == 0.05 and state.config.clip == 0.5


def test_a_setting_changed_with_a_click_on_reset_goes_into_that_reset(app):
    """As above, for Reset: the new model has the hidden size typed just before the click."""
    state = app_state_of(app)
    app.number_input(key="hidden").set_value(32)
    app.button(key="reset").click().run()
    assert state.config.hidden == state.draft.hidden == 32
    assert state.session.read(lambda t: t.params["W"].shape) == (32, 32)
    assert not [i for i in app.info if "Applies on Reset" in i.value]  # nothing left waiting


def test_clipping_applies_live_and_off_disables_the_value(app):
    state = app_state_of(app)
    app.button_group(key="clip_mode").set_value("norm").run()
    assert state.config.clip_mode == "norm"
    app.number_input(key="clip").set_value(1.0).run()
    assert state.config.clip == 1.0
    app.button_group(key="clip_mode").set_value("off").run()
    assert state.config.clip_mode == "off" and app.number_input(key="clip").disabled


def test_structural_settings_wait_for_reset(app):
    state = app_state_of(app)
    app.button(key="step").click().run()
    app.number_input(key="hidden").set_value(32).run()
    app.number_input(key="seq_len").set_value(10).run()
    app.selectbox(key="optimizer").set_value("rmsprop").run()
    fast = PRESETS["fast"]
    assert state.config.hidden == fast.hidden and state.session.read(lambda t: t.step_count) == 1
    info = " ".join(i.value for i in app.info)
    assert "Applies on Reset" in info and f"{fast.hidden} → 32" in info
    assert f"{fast.optimizer} → rmsprop" in info
    app.button(key="apply_reset").click().run()
    assert (state.config.hidden, state.config.seq_len, state.config.optimizer) == (32, 10, "rmsprop")
    assert "step 0" in status_of(app)
    assert not [i for i in app.info if "Applies on Reset" in i.value]


def test_sidebar_reset_applies_the_draft_too(app):
    app.selectbox(key="dtype").set_value("float64").run()
    app.button(key="reset").click().run()
    assert app_state_of(app).config.dtype == "float64"


def test_preset_sets_every_widget_and_applies_on_reset(app):
    state = app_state_of(app)
    app.selectbox(key="preset").set_value("min-char-rnn").run()
    ref = PRESETS["min-char-rnn"]
    assert state.draft == ref
    assert app.number_input(key="hidden").value == ref.hidden
    assert app.number_input(key="lr").value == pytest.approx(ref.lr)
    assert app.selectbox(key="optimizer").value == "adagrad"
    assert state.config == PRESETS["fast"]  # not yet: the preset's lr suits its own optimizer
    app.button(key="apply_reset").click().run()
    assert state.config == ref


def test_an_invalid_value_is_refused_with_a_message(app):
    state = app_state_of(app)
    before = (state.draft, state.config)
    # A script can send what the widgets would not: rnn_core validates again.
    assert "hidden" in apply_settings(state, {"hidden": 0})
    assert "lr" in apply_settings(state, {"lr": float("nan")})
    assert (state.draft, state.config) == before


def test_a_model_too_big_for_the_server_is_flagged_before_reset(app):
    state = app_state_of(app)
    for key, value in (("hidden", 1024), ("seq_len", 400), ("batch", 256)):
        app.number_input(key=key).set_value(value).run()
    assert any("Reset would refuse" in e for e in errors_of(app))
    app.button(key="reset").click().run()
    assert state.config.hidden == PRESETS["fast"].hidden  # refused, current model kept
    assert any("MB" in e.value for e in app.sidebar.error)


def test_live_charts_have_stable_keys_and_the_baseline(app):
    app.button(key="step").click().run()
    specs = chart_specs(app)
    assert set(specs) == set(CHARTS)
    charts = app.get("vega_lite_chart")
    assert len(charts) == len(CHARTS) + 1  # and the zoom strip:
    assert [c.key for c in charts if c.key] == ["steps_navigator"]
    app.button(key="step").click().run()
    assert set(chart_specs(app)) == set(specs)  # same keys on every run
    assert "loss per chunk (nats)" in json.dumps(specs["loss_chart"])
    assert "uniform guess" in json.dumps(specs["loss_chart"])


@pytest.mark.parametrize("present", [False, True])
def test_the_charts_keep_their_places_from_the_first_step_on(app, present: bool):
    """Before the first step, then stepping and training: no element comes or goes above a chart
    (once the line "Compute alone" appeared a second into training and every chart was remounted)."""
    app.toggle(key="presentation").set_value(present).run()
    places = chart_places(app)
    assert len(places) == len(CHARTS) + (not present)  # the zoom strip, outside presentation mode
    app.button(key="step").click().run()
    assert chart_places(app) == places
    app.button(key="play").click().run()
    deadline = time.monotonic() + 20
    while not app.code and time.monotonic() < deadline:  # until the first periodic sample
        time.sleep(0.5)
        app.run()
    assert app.code
    assert chart_places(app) == places
    app.button(key="pause").click().run()


def test_bits_per_char_toggle_changes_the_loss_axis(app):
    app.button(key="step").click().run()
    app.toggle(key="loss_bits").set_value(True).run()
    spec = json.dumps(chart_specs(app)["loss_chart"])
    assert "bits per character" in spec and "nats" not in spec


def test_playing_shows_throughput_and_a_periodic_sample(app):
    app.button(key="play").click().run()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.5)
        app.run()
        metrics = {m.label: m.value for m in app.metric}
        if metrics["Steps/s"] != "–" and app.code:
            break
    assert float(metrics["Steps/s"]) > 0 and metrics["Chars/s"] != "–"
    assert app.code and len(app.code[0].value) > 50  # the sample from the worker's timeline
    assert any(m.label == "Validation, bits/char" for m in app.metric)


def test_metrics_download(app):
    assert app.get("download_button")[0].key == "metrics_csv"
    for _ in range(3):
        app.button(key="step").click().run()
    view = app_state_of(app).session.read(read_train_view)
    table = pd.read_csv(pd.io.common.BytesIO(metrics_csv(view)))
    assert list(table["step"]) == [1, 2, 3]
    assert {"loss", "smooth_loss", "bpc", "pre_W", "post_W", "clipped_fraction", "val_bpc"} <= set(table)


def test_divergence_pauses_with_a_message_and_play_works_after_the_fix(app):
    state = app_state_of(app)
    app.selectbox(key="optimizer").set_value("sgd").run()
    app.button(key="apply_reset").click().run()
    app.button_group(key="clip_mode").set_value("off").run()
    app.number_input(key="lr").set_value(10.0).run()
    app.button(key="play").click().run()
    deadline = time.monotonic() + 20
    while state.session.playing and time.monotonic() < deadline:
        time.sleep(0.2)
    app.run()
    assert not state.session.playing
    message = " ".join(e.value for e in app.sidebar.error)
    assert "loss exploded" in message and "learning rate" in message
    assert "the charts are as they were then" in message  # what going back did
    assert not app.exception
    back_to = state.session.read(lambda t: t.step_count)
    events = chart_data(app, "loss_chart")["events"]
    assert events["label"].str.startswith("diverged at").any()  # marked where training went back to
    assert events["step"].max() == back_to
    points = chart_data(app, "loss_chart")["points"]
    assert (points[points["series"] == "chunk loss"]["step"] <= back_to).all()  # the chart was cut back
    assert (state.session.grad_flow_history().steps <= back_to).all()  # and so was every recorder
    app.number_input(key="lr").set_value(0.01).run()
    app.button_group(key="clip_mode").set_value("value").run()
    rolled_back = state.session.read(lambda t: t.step_count)
    app.button(key="play").click().run()
    # Play works again, and keeps working: the weights went back to before the blow-up, so
    # training goes on well past it without diverging again, at a loss below a uniform guess.
    deadline = time.monotonic() + 30
    while state.session.read(lambda t: t.step_count) <= rolled_back + 100 and time.monotonic() < deadline:
        time.sleep(0.1)
    app.button(key="pause").click().run()
    assert state.session.read(lambda t: t.step_count) > rolled_back + 100
    assert state.session.message is None
    assert state.session.read(lambda t: t.last_record.loss < t.initial_loss)
    assert not app.exception


def steps_of(state) -> int:
    return state.session.read(lambda t: t.step_count)


def test_a_zoom_fixes_every_chart_to_its_steps_across_reruns(app):
    state = app_state_of(app)
    for _ in range(8):
        state.session.step_once()
    state.zoom = (state.session.model_serial, 2, 5)  # what dragging across the navigator leaves
    app.run()
    specs = chart_specs(app)
    for key in CHARTS:
        assert set(map(tuple, filter(None, x_domains(specs[key])))) == {(2, 5)}, key
        points = chart_data(app, key)["points"]
        assert points["step"].between(2, 5).all() and points["step"].max() == 5, key
    assert any("Steps 2 to 5 shown" in c.value for c in app.caption)
    app.button(key="step").click().run()  # a rerun with a new step: the zoom stays
    assert x_domains(chart_specs(app)["loss_chart"])[0] == [2, 5]
    app.button(key="reset").click().run()  # a new model: the whole run again
    assert set(x_domains(chart_specs(app)["loss_chart"])) == {None}


def test_events_are_marked_on_the_charts(app):
    state = app_state_of(app)
    app.button(key="step").click().run()
    app.number_input(key="lr").set_value(0.01).run()
    app.button(key="step").click().run()
    for key in CHARTS:
        events = chart_data(app, key)["events"]
        assert events[["step", "kind", "label"]].values.tolist() == [[1, "setting", "lr 0.002 → 0.01"]]
    app.button(key="reset").click().run()
    assert chart_data(app, "loss_chart")["events"]["label"].tolist() == ["Reset"]
    assert state.session.event_items()[0].step == 0


def test_rewind_lists_the_kept_snapshots_and_goes_back_to_one(app):
    state = app_state_of(app)
    app.number_input(key="hidden").set_value(16).run()  # a small model: 250 steps in a moment
    app.button(key="apply_reset").click().run()
    while steps_of(state) < 250:
        state.session.step_once()
    app.run()
    radio = app.radio(key="rewind_to")
    labels = radio.options  # as shown
    assert labels[0].startswith("step 200 · ") and labels[0].endswith("kept every 100 steps")
    assert labels[-1] == "step 0 · no steps before it · the start"
    assert any("best validation" in label for label in labels)
    points = state.session.read(read_rewind_points)
    radio.set_value(next(p for p in points if p.step == 100 and not p.best)).run()
    app.button(key="rewind").click().run()
    assert steps_of(state) == 100
    assert "step 100" in status_of(app)
    events = chart_data(app, "loss_chart")["events"]
    assert events["label"].tolist() == ["Reset", "rewound from 250"]
    assert chart_data(app, "loss_chart")["points"]["step"].max() == 100
    assert not app.exception


def test_rewind_goes_to_the_step_chosen_in_the_same_script_run(app):
    """A choice and the click in one run (a quick click after picking): back to the step chosen, not
    the one the list showed chosen when the button was drawn."""
    state = app_state_of(app)
    app.number_input(key="hidden").set_value(16).run()
    app.button(key="apply_reset").click().run()
    while steps_of(state) < 250:
        state.session.step_once()
    app.run()
    points = state.session.read(read_rewind_points)
    assert app.radio(key="rewind_to").value.step != 100  # what the button was drawn with
    app.radio(key="rewind_to").set_value(next(p for p in points if p.step == 100 and not p.best))
    app.button(key="rewind").click().run()
    assert steps_of(state) == 100


def test_rewind_waits_for_a_pause(app):
    app.button(key="play").click().run()
    assert not app.get("radio") and any("Pause to choose" in c.value for c in app.caption)
    app.button(key="pause").click().run()
    assert app.radio(key="rewind_to")


def test_training_worse_than_guessing_is_flagged_with_advice(app, monkeypatch):
    state = app_state_of(app)
    for _ in range(3):
        state.session.step_once()
    losses = Losses(monkeypatch)
    losses.factor = 4.0  # above a uniform guess, below an explosion (5 times)
    for _ in range(ABOVE_UNIFORM_STEPS - 1):
        state.session.step_once()
    app.run()
    assert not [w for w in app.warning if "Worse than guessing" in w.value]
    state.session.step_once()
    app.run()
    (warning,) = [w.value for w in app.warning if "Worse than guessing" in w.value]
    assert f"for the last {ABOVE_UNIFORM_STEPS} steps" in warning and "learning rate" in warning


def test_overfitting_is_flagged_and_the_best_weights_restored(app):
    """A text learnt by heart: the Zen of Python (857 characters), a network big enough for it."""
    state = app_state_of(app)
    config = PRESETS["fast"].replace(hidden=64, batch=4, lr=1e-2, val_every=20)
    state.session.reset(config=config, corpus=load_builtin("zen"))
    state.session.trainer.val_share = None  # validate every 20 steps, however long it takes here
    for _ in range(3000):
        state.session.step_once()
        if state.session.read(lambda t: t.step_count % 50 == 0):
            app.run()
            if [w for w in app.warning if "Overfitting" in w.value]:
                break
    (warning,) = [w.value for w in app.warning if "Overfitting" in w.value]
    best = state.session.read(lambda t: (t.best.step, t.best_val_bpc))
    assert f"weights of step {best[0]:,}" in warning and "memorising" in warning
    loss_points = chart_data(app, "loss_chart")["points"]
    ring = loss_points[loss_points["series"] == "best validation"]
    assert ring["step"].tolist() == [best[0]]  # marked on the chart
    app.button(key="restore_best").click().run()
    assert steps_of(state) == best[0]
    assert state.session.read(lambda t: t.validation_bpc()) == pytest.approx(best[1], rel=1e-9)
    assert not [w for w in app.warning if "Overfitting" in w.value]  # back before it began
