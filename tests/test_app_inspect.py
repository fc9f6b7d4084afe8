"""The Inspect page under AppTest: every tab draws its charts from one step's snapshot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import DEFAULT_PRESET, PRESETS
from rnn_core.reach import itemized_gradients
from tests.inspect_support import charts, plotly_array, z_shape
from ui.views import hidden

PAGE = "pages/inspect.py"
CFG = PRESETS[DEFAULT_PRESET]


def open_tab(at: AppTest, tab: str) -> AppTest:
    at.session_state["inspect_tab"] = tab  # what a click on the tab sets (on_change="rerun")
    return at.run()


@pytest.fixture
def inspect(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    for _ in range(3):
        app.button(key="step").click().run()
    assert not app.exception
    return app


def test_before_training_every_tab_says_what_to_do(app: AppTest):
    app.switch_page(PAGE).run()
    for tab in ("Hidden state", "Softmax", "Gradient flow"):
        open_tab(app, tab)
        assert not app.exception
        assert "No training step yet" in app.info[0].value
    open_tab(app, "Gradient check")
    app.button(key="gradcheck_button").click().run()
    assert "No training step yet" in app.info[0].value


def test_hidden_state_heatmap_is_units_by_seq_len(inspect: AppTest):
    specs = charts(inspect)
    assert z_shape(specs["hidden_state_chart"]) == (CFG.hidden, CFG.seq_len)
    heat = specs["hidden_state_chart"]["data"][0]
    assert (heat["zmin"], heat["zmax"]) == (-1, 1)
    assert sorted(heat["y"]) == sorted(f"h{u}" for u in range(CFG.hidden))  # every unit, once
    assert len(specs["hidden_state_chart"]["layout"]["xaxis"]["ticktext"]) == CFG.seq_len
    assert z_shape(specs["unit_text_chart"]) == (1, CFG.seq_len)
    assert any(c.value.startswith("Step 3 ·") for c in inspect.caption)
    assert inspect.selectbox(key="unit_sort").value == hidden.SIMILAR  # the default order


def step_chunks(at: AppTest) -> tuple[np.ndarray, list[str]]:
    """h(t) and the input characters of the last step's chunks, every stream, read directly."""
    traces = at.session_state["unrolled"].session.read(lambda t: [t.chunk_trace(s) for s in range(t.streams)])
    return np.concatenate([t.hs for t in traces]), [c for t in traces for c in t.input_chars]


def test_the_text_is_coloured_by_the_unit_that_follows_spaces(inspect: AppTest):
    inspect.session_state["unrolled"].session.read(lambda t: t.run(150))  # a unit has learnt spaces
    inspect.run()
    hs, chars = step_chunks(inspect)
    is_space = np.array([c == " " for c in chars], dtype=float)
    r = np.array([np.corrcoef(hs[:, u], is_space)[0, 1] if hs[:, u].std() > 0 else 0.0
                  for u in range(hs.shape[1])])  # np.corrcoef: a reference independent of the view
    best = int(np.nanargmax(np.abs(r)))
    title = charts(inspect)["unit_text_chart"]["layout"]["title"]["text"]
    assert abs(r[best]) >= hidden.MIN_R
    assert f"unit h{best}, which follows spaces (r = {r[best]:+.2f})" in title
    assert f"**h{best}** spaces (r = {r[best]:+.2f})" in " ".join(m.value for m in inspect.markdown)
    ticks = charts(inspect)["hidden_state_chart"]["layout"]["yaxis"]["ticktext"]
    assert any(t.startswith("<b>spaces") and t.endswith(f"→ h{best}</b>") for t in ticks), ticks


def test_unit_controls(inspect: AppTest):
    inspect.selectbox(key="unit_sort").set_value("most variable").run()
    assert inspect.number_input(key="unit_pick").disabled  # until "the unit number" is chosen
    inspect.selectbox(key="unit_color").set_value(hidden.CHOICES[-1]).run()
    inspect.number_input(key="unit_pick").set_value(5000).run()  # clamped to the last unit
    assert not inspect.exception
    specs = charts(inspect)
    assert z_shape(specs["hidden_state_chart"]) == (CFG.hidden, CFG.seq_len)
    y = specs["hidden_state_chart"]["data"][0]["y"]
    hs = inspect.session_state["unrolled"].session.read(lambda t: t.chunk_trace(0).hs)
    assert y[0] == f"h{int(np.argmax(hs.std(axis=0)))}"  # most variable first
    assert f"h{CFG.hidden - 1} " in specs["unit_text_chart"]["layout"]["title"]["text"]


def test_the_stream_input_says_what_a_stream_is(inspect: AppTest):
    box = inspect.number_input(key="inspect_stream")
    assert box.label == f"Stream (0–{CFG.batch - 1})"
    assert any(f"**{CFG.batch} places at once** (streams)" in c.value for c in inspect.caption)
    box.set_value(CFG.batch - 1).run()
    assert any(c.value.startswith(f"Step 3 · stream {CFG.batch - 1} of {CFG.batch}") for c in inspect.caption)


def test_softmax_terms_add_up_to_the_chunk_loss(inspect: AppTest):
    open_tab(inspect, "Softmax")
    assert not inspect.exception
    specs = charts(inspect)
    assert z_shape(specs["softmax_topk_chart"]) == (5, CFG.seq_len)
    assert len(plotly_array(specs["loss_terms_chart"]["data"][0]["y"])) == CFG.seq_len
    table = inspect.dataframe[0].value
    assert len(table) == CFG.seq_len + 1
    total = table["loss term -ln p"].iloc[-1]
    assert math.isclose(table["loss term -ln p"].iloc[:-1].sum(), total, rel_tol=1e-9)
    stream_loss = inspect.session_state["unrolled"].session.read(lambda t: t.chunk_trace(0).loss)
    assert math.isclose(total, stream_loss, rel_tol=1e-9)
    text = " ".join(m.value for m in inspect.markdown)
    assert f"{total:.3f} nats" in text and f"mean over the {CFG.batch} streams" in text
    inspect.slider(key="softmax_top_k").set_value(8).run()
    assert z_shape(charts(inspect)["softmax_topk_chart"]) == (8, CFG.seq_len)


def test_gradient_flow(inspect: AppTest):
    open_tab(inspect, "Gradient flow")
    assert not inspect.exception
    specs = charts(inspect)
    session = inspect.session_state["unrolled"].session
    params, trace = session.read(lambda t: (t.chunk_params(), t.chunk_trace(0)))
    G = itemized_gradients(params, trace.inputs, trace.targets, trace.h_prev)
    np.testing.assert_allclose(plotly_array(specs["last_prediction_chart"]["data"][0]["y"]), G[-1])
    assert specs["last_prediction_chart"]["layout"]["yaxis"]["type"] == "log"
    assert len(plotly_array(specs["reach_chart"]["data"][0]["y"])) == CFG.seq_len  # one per distance
    assert len(plotly_array(specs["reach_chart"]["data"][1]["y"])) == CFG.seq_len * (CFG.seq_len + 1) // 2
    assert z_shape(specs["itemized_chart"]) == (CFG.seq_len, CFG.seq_len)
    text = " ".join(m.value for m in inspect.markdown)
    assert "Why it fades" in text and "each step back multiplies it by" in text
    np.testing.assert_allclose(plotly_array(specs["grad_flow_chart"]["data"][0]["y"]), trace.dh_norms)
    assert z_shape(specs["grad_flow_history_chart"]) == (3, CFG.seq_len)  # one row per Step click


def test_gradient_flow_follows_the_chosen_stream(inspect: AppTest):
    open_tab(inspect, "Gradient flow")
    inspect.number_input(key="inspect_stream").set_value(5).run()
    assert not inspect.exception
    session = inspect.session_state["unrolled"].session
    params, trace = session.read(lambda t: (t.chunk_params(), t.chunk_trace(5)))
    G = itemized_gradients(params, trace.inputs, trace.targets, trace.h_prev)
    np.testing.assert_allclose(plotly_array(charts(inspect)["last_prediction_chart"]["data"][0]["y"]), G[-1])


@pytest.mark.parametrize(("name", "shape"), [("U", (CFG.hidden, None)), ("W", (CFG.hidden, CFG.hidden)),
                                             ("c", (1, None))])
def test_weights_tab(inspect: AppTest, name: str, shape: tuple[int, int | None]):
    open_tab(inspect, "Weights")
    inspect.radio(key="weight_param").set_value(name).run()
    assert not inspect.exception
    specs = charts(inspect)
    K = len(inspect.session_state["unrolled"].corpus.vocab)
    expected = tuple(K if n is None else n for n in shape)
    for key in ("weights_chart", "update_chart", "step_size_chart"):  # the default optimizer adapts
        assert z_shape(specs[key]) == expected
    assert inspect.dataframe[0].value["parameter"].tolist() == ["U", "W", "V", "b", "c"]


def test_own_text(inspect: AppTest):
    open_tab(inspect, "Your own text")
    assert not inspect.exception
    text = inspect.text_area(key="own_text").value
    specs = charts(inspect)
    assert z_shape(specs["own_hidden_state_chart"]) == (CFG.hidden, len(text) - 1)
    assert z_shape(specs["own_softmax_topk_chart"]) == (5, len(text) - 1)
    inspect.text_area(key="own_text").set_value("snow ☃ man").run()
    assert not inspect.exception
    assert "not in the training text" in inspect.error[0].value
    assert "☃" in inspect.error[0].value
    assert "own_hidden_state_chart" not in charts(inspect)


def test_gradient_check_shows_small_errors(inspect: AppTest):
    open_tab(inspect, "Gradient check")
    inspect.button(key="gradcheck_button").click().run()
    assert not inspect.exception
    table = inspect.dataframe[0].value
    assert table["parameter"].tolist() == ["U", "W", "V", "b", "c"]
    assert (table["relative error"] < 1e-5).all()
    assert "gradcheck_chart" in charts(inspect)
    inspect.run()  # the result stays on the page
    assert len(inspect.dataframe) == 1
