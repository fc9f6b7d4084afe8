"""An LSTM or GRU in the app: chosen with the Train page's Cell control (it applies on Reset), or
loaded from a checkpoint (e.g. trained with the CLI's --cell); then every page works with its
weights: no traceback anywhere. The Unrolled page's step-through is the RNN's, and it says so."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core import checkpoint
from rnn_core.cells import get
from rnn_core.config import PRESETS
from rnn_core.reach import itemized_gradients, reach_by_distance
from rnn_core.trainer import Trainer
from tests.apptest_support import app_state_of
from tests.inspect_support import charts, plotly_array, z_shape
from tests.rnn_support import small_corpus, tiny_config
from ui.figures.inspect import cell_map_figure
from ui.figures.train import grad_norm_spec
from ui.session.limits import model_megabytes
from ui.views import gradcheck, hidden, weights
from ui.views.cell_state import PARTS, cell_maps
from ui.views.train import events_frame, grad_norm_frame, read_train_view
from ui.widgets.train_settings import pending_changes

GATED = ("lstm", "gru")
TABS = ("Hidden state", "Softmax", "Gradient flow", "Weights", "Your own text", "Gradient check")


def cell_of(at: AppTest) -> str:
    return app_state_of(at).session.read(lambda t: t.config.cell)


def no_exception(at: AppTest, where: str) -> None:
    assert not at.exception, f"{where}: {at.exception[0].value}"


@pytest.mark.parametrize("name", GATED)
def test_a_loaded_gated_model_trains_and_every_page_and_tab_shows_it(app: AppTest, name: str):
    app.switch_page("pages/inspect.py").run()
    app.button(key="step").click().run()
    app.session_state["inspect_tab"] = "Weights"
    app.run()
    app.radio(key="weight_param").set_value("W").run()  # an RNN's weight picked before the load
    config = app_state_of(app).session.read(lambda t: t.config).replace(cell=name)
    trained = Trainer(app_state_of(app).corpus, config)
    trained.run(2)
    app.file_uploader(key="model_upload").set_value(
        ("gated.npz", checkpoint.to_bytes(trained), "application/octet-stream")).run()
    no_exception(app, "load")
    assert cell_of(app) == name
    assert any(f"({name.upper()}, hidden {config.hidden}" in s.value for s in app.success)
    for _ in range(2):
        app.button(key="step").click().run()
        no_exception(app, "step")
    names = get(name).PARAM_NAMES
    for tab in TABS:
        app.session_state["inspect_tab"] = tab
        app.run()
        no_exception(app, tab)
        if tab == "Weights":
            radio = app.radio(key="weight_param")
            assert tuple(radio.options) == names and radio.value == names[0]
            assert app.dataframe[0].value["parameter"].tolist() == list(names)
        if tab == "Gradient flow":
            # the itemized gradients, through the cell's own step back
            assert {"last_prediction_chart", "reach_chart", "grad_flow_chart"} <= set(charts(app))
    app.button(key="gradcheck_button").click().run()
    no_exception(app, "gradient check")
    table = app.dataframe[0].value
    assert table["parameter"].tolist() == list(names) and (table["verdict"] == "correct").all()
    for page in ("pages/train.py", "pages/data.py", "pages/sample.py"):
        app.switch_page(page).run()
        no_exception(app, page)
    app.button(key="sample_button").click().run()
    no_exception(app, "sample")
    app.switch_page("pages/unrolled.py").run()
    no_exception(app, "unrolled")
    assert "for the RNN only" in app.info[0].value
    assert not [b for b in app.button if b.key == "unrolled_next"]
    app.button(key="unrolled_new_rnn").click().run()  # a new RNN with the same settings
    no_exception(app, "new RNN")
    assert cell_of(app) == "rnn" and app.session_state["unrolled"].config.hidden == config.hidden
    app.button(key="unrolled_next").click().run()
    no_exception(app, "walk")


# --- the views, with a gated cell's weights ------------------------------------------------------


@pytest.fixture(params=GATED)
def gated_trainer(request) -> Trainer:
    trainer = Trainer(small_corpus(), tiny_config(cell=request.param, batch=2, optimizer="adam", lr=0.01))
    trainer.run(3)
    return trainer


def test_the_gradient_chart_has_a_line_per_weight_of_the_cell(gated_trainer: Trainer):
    view = read_train_view(gated_trainer)
    assert view.param_names == gated_trainer.param_names
    frame = grad_norm_frame(view)
    assert set(frame["parameter"]) == {*gated_trainer.param_names, "all (global)"}
    spec = grad_norm_spec(frame, events_frame([]), None, parameters=view.param_names)
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"][2:] == list(gated_trainer.param_names)
    assert len(set(scale["range"])) == len(scale["domain"])  # a colour each


def test_the_weights_views_read_the_cells_weights(gated_trainer: Trainer):
    names = weights.read_param_names(gated_trainer)
    assert names == gated_trainer.param_names
    gate = get(gated_trainer.config.cell).GATES[1]
    captions = [weights.weight_caption(f"{m}_{gate}") for m in "UWb"]
    assert captions == [f"x→{gate}", f"h→{gate}", f"{gate} bias"]
    rnn = [weights.weight_caption(k) for k in ("U", "V", "c")]
    assert rnn == ["input→hidden", "hidden→output", "output bias"]
    view = weights.read_weights(gated_trainer, f"U_{gate}")
    assert view.weights.shape == (12, gated_trainer.vocab_size)
    assert view.row_labels[0] == "h0" and len(view.col_labels) == gated_trainer.vocab_size
    assert weights.read_weights(gated_trainer, f"b_{gate}").col_labels[0] == "h0"
    with pytest.raises(ValueError, match="unknown parameter"):
        weights.read_weights(gated_trainer, "U")
    summary = weights.read_weight_summary(gated_trainer)
    assert summary["parameter"].tolist() == list(names) and (summary["‖Δθ‖ last step"] > 0).all()


def test_the_gradient_check_of_a_gated_cell(gated_trainer: Trainer):
    inputs = gradcheck.read_gradcheck_input(gated_trainer)
    assert inputs[3].shape == (1, gated_trainer.carry_size)
    result = gradcheck.run_gradcheck(*inputs)
    assert tuple(result.errors) == gated_trainer.param_names
    assert max(result.errors.values()) < 1e-5
    # a forward step costs a gate's worth per gate; more weights share the budget
    assert gradcheck.gradcheck_entries(25, 128, 100) == 10
    assert gradcheck.gradcheck_entries(25, 128, 100, gates=4, params=14) == 2


def test_the_memory_guard_counts_the_cells_weights():
    fast = PRESETS["fast"]
    rnn, lstm, gru = (model_megabytes(fast.replace(cell=c), 100) for c in ("rnn", "lstm", "gru"))
    assert rnn < gru < lstm < 4 * rnn
    H, K, T, B = fast.hidden, 100, fast.seq_len, fast.batch  # the RNN's estimate as it was
    item = 4 if fast.dtype == "float32" else 8
    assert rnn == ((2 * H * K + H * H + H + K) * 8 + T * B * (5 * K + 4 * H)) * item / 2**20


def test_a_change_of_cell_waits_for_reset_and_is_listed(app: AppTest):
    state = app_state_of(app)
    state.draft = state.draft.replace(cell="gru")
    assert pending_changes(state) == ["cell: rnn → gru"]


@pytest.mark.parametrize("name", GATED)
def test_the_cell_control_trains_a_gated_cell_after_reset(app: AppTest, name: str):
    control = app.button_group(key="cell")
    assert control.options == ["RNN", "LSTM", "GRU"] and control.value == "rnn"
    control.set_value(name).run()
    no_exception(app, "pick")
    assert cell_of(app) == "rnn"  # like the hidden size: it waits for Reset
    assert app_state_of(app).draft.cell == name
    (waiting,) = [i.value for i in app.info if "Applies on Reset" in i.value]
    assert f"cell: rnn → {name}" in waiting
    app.button(key="apply_reset").click().run()
    no_exception(app, "reset")
    assert cell_of(app) == name and app.button_group(key="cell").value == name
    assert not [i for i in app.info if "Applies on Reset" in i.value]
    app.button(key="step").click().run()
    assert app_state_of(app).session.read(lambda t: (t.step_count, t.param_names)) == (
        1, get(name).PARAM_NAMES)
    # The Unrolled page offers a new RNN; the Cell control follows it (else it would put the
    # gated cell back into the draft on the Train page's next run).
    app.switch_page("pages/unrolled.py").run()
    app.button(key="unrolled_new_rnn").click().run()
    no_exception(app, "new RNN")
    app.switch_page("pages/train.py").run()
    assert cell_of(app) == "rnn" and app_state_of(app).draft.cell == "rnn"
    assert app.button_group(key="cell").value == "rnn"


# --- inside the cell: the gates and the LSTM's cell state on Inspect -------------------------------


def test_the_cell_maps_are_the_traces_gates_in_the_hidden_states_row_order(gated_trainer: Trainer):
    trace = gated_trainer.chunk_trace(1)
    view = hidden.hidden_view(trace, "most variable", max_units=5)
    maps = cell_maps(trace, view.units)
    name = gated_trainer.config.cell
    assert [m.name for m in maps] == list(PARTS[name])  # LSTM s, f, i, g, o; GRU z, r, n
    assert set(PARTS[name]) == set(get(name).GATES) | ({"s"} if name == "lstm" else set())
    for m in maps:
        source = trace.ss if m.name == "s" else trace.gates[m.name]  # (T, H)
        np.testing.assert_array_equal(m.z, source[:, view.units].T)  # (units, T), h's row order
        assert m.row_labels == [f"{m.name}{u}" for u in view.units] and m.total_units == 12
        assert m.labels == view.labels
        assert m.zmin <= m.z.min() and m.z.max() <= m.zmax
        if m.squash == "sigmoid":
            assert (m.zmin, m.zmax) == (0.0, 1.0)
        fig = cell_map_figure(m)
        heat = fig.data[0]
        assert np.asarray(heat.z).shape == (5, len(trace.inputs)) and list(heat.y) == m.row_labels
        assert (heat.zmin, heat.zmax) == (m.zmin, m.zmax)
    assert cell_maps(_rnn_trace(), view.units) == []  # the RNN has no gates


def _rnn_trace():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.step()
    return trainer.chunk_trace(0)


@pytest.mark.parametrize("name", ("rnn", *GATED))
def test_inspect_shows_each_cells_gates_and_reach(app: AppTest, name: str):
    """The Train page's Cell control, Reset, a step: the Hidden state tab draws h(t) for every
    cell, and a units × time heatmap of each gate (and the LSTM's cell state) with the chunk's
    input characters on the time axis, in the hidden state's row order; the Gradient flow tab the
    itemized gradients ‖∂L(t)/∂h(s)‖ of the cell, as a matrix and against the distance t − s."""
    app.button_group(key="cell").set_value(name).run()
    app.button(key="reset").click().run()  # the sidebar's: a new model from the Train page's settings
    app.button(key="step").click().run()
    app.switch_page("pages/inspect.py").run()
    no_exception(app, "inspect")
    trainer_facts = app_state_of(app).session.read(
        lambda t: (t.config.hidden, t.config.seq_len, t.chunk_trace(0)))
    H, T, trace = trainer_facts
    specs = charts(app)
    assert z_shape(specs["hidden_state_chart"]) == (H, T)
    expected = [f"cell_{g}_chart" for g in PARTS.get(name, {})]
    assert sorted(k for k in specs if k.startswith("cell_")) == sorted(expected)
    rows = specs["hidden_state_chart"]["data"][0]["y"]
    for key in expected:
        spec = specs[key]
        letter = key.split("_")[1]
        assert z_shape(spec) == (H, T), key
        assert spec["data"][0]["y"] == [f"{letter}{r[1:]}" for r in rows]  # h12 -> f12: one unit a row
        ticks = spec["layout"]["xaxis"]["ticktext"]
        assert ticks == specs["hidden_state_chart"]["layout"]["xaxis"]["ticktext"]
        assert len(ticks) == T
        units = [int(r[1:]) for r in rows]
        source = trace.ss if letter == "s" else trace.gates[letter]
        np.testing.assert_allclose(plotly_array(spec["data"][0]["z"]), source[:, units].T, rtol=1e-6)
    words = " ".join(m.value for m in app.markdown)
    assert ("Inside the LSTM" in words) == (name == "lstm") and ("Inside the GRU" in words) == (name == "gru")

    # The gradient tab: every prediction's reach for this cell, through its own step back.
    app.session_state["inspect_tab"] = "Gradient flow"
    app.run()
    no_exception(app, "gradient flow")
    specs = charts(app)
    params = app_state_of(app).session.read(lambda t: t.chunk_params())
    G = itemized_gradients(params, trace.inputs, trace.targets, trace.carry_prev)  # (T, T)
    with np.errstate(divide="ignore"):
        log_g = np.log10(G)
    matrix = plotly_array(specs["itemized_chart"]["data"][0]["z"])  # log colour scale, t rows
    assert matrix.shape == (T, T)
    below = np.tril_indices(T)
    np.testing.assert_allclose(matrix[below], log_g[below], rtol=1e-6)
    assert np.isnan(matrix[np.triu_indices(T, k=1)]).all()  # s > t: no gradient, left blank
    typical = plotly_array(specs["reach_chart"]["data"][0]["y"])  # against the distance t - s
    np.testing.assert_allclose(typical, reach_by_distance(G, geometric=True)[1], rtol=1e-6)
    np.testing.assert_allclose(plotly_array(specs["last_prediction_chart"]["data"][0]["y"]), G[-1],
                               rtol=1e-6)
    words = " ".join(m.value for m in app.markdown)
    assert ("Why it fades less" in words) == (name != "rnn")
    assert ("f(s) ⊙ ∂L(t)/∂s(s)" in words) == (name == "lstm")
