"""The Inspect and Sample pages' figure builders (ui/figures/inspect.py, sample.py): shapes, axis
labels, colour ranges."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from rnn_core.config import TrainConfig
from rnn_core.corpus import corpus_from_text
from rnn_core.trainer import ChunkTrace, Trainer
from ui.figures import inspect as charts
from ui.figures import sample as sample_charts
from ui.figures.axes import MAX_TICKS
from ui.session.grad_flow import GradFlow
from ui.session.worker import TrainingSession
from ui.text import visible_char
from ui.views import grad_flow, gradcheck, hidden, softmax, weights
from ui.views import sample as sd

TEXT = "a b\tc\nd. the cat sat on the mat; the dog sat on the log!\n" * 4


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    corpus = corpus_from_text(TEXT, seq_len=12)
    t = Trainer(corpus, TrainConfig(hidden=16, seq_len=12, val_fraction=0.0, seed=1))
    t.run(3)
    return t


@pytest.fixture(scope="module")
def trace(trainer: Trainer) -> ChunkTrace:
    # The first chunk, "a b\tc\nd. th", has a space, a tab and a newline among its inputs.
    t = Trainer(trainer.corpus, trainer.config)
    t.step()
    return t.chunk_trace(0)


def heat(fig: go.Figure) -> go.Heatmap:
    assert isinstance(fig, go.Figure)
    trace = fig.data[0]
    assert isinstance(trace, go.Heatmap)
    return trace


def test_hidden_state_figure(trace: ChunkTrace):
    view = hidden.hidden_view(trace)
    fig = charts.hidden_state_figure(view)
    h = heat(fig)
    assert np.asarray(h.z).shape == (16, 12)  # units × time steps
    assert (h.zmin, h.zmax, h.zmid) == (-1.0, 1.0, 0.0)
    assert list(h.y) == [f"h{u}" for u in range(16)]
    assert list(fig.layout.xaxis.ticktext) == ["a", "␣", "b", "⇥", "c", "⏎", "d", ".", "␣", "t", "h", "e"]
    assert list(fig.layout.xaxis.tickvals) == list(range(12))
    assert fig.layout.xaxis.title.text.startswith("t")
    assert fig.layout.yaxis.title.text == "hidden unit"
    assert np.asarray(h.customdata).shape == (16, 12)


def test_hidden_state_figure_sorted_and_capped(trace: ChunkTrace):
    view = hidden.hidden_view(trace, "most variable", max_units=4)
    fig = charts.hidden_state_figure(view)
    assert np.asarray(heat(fig).z).shape == (4, 12)
    assert list(heat(fig).y) == [f"h{u}" for u in view.units]
    assert "4 of 16 units" in fig.layout.title.text


def test_hidden_state_figure_names_the_marked_units(trace: ChunkTrace):
    view = hidden.hidden_view(trace, hidden.SIMILAR)
    marked = int(view.units[5])
    fig = charts.hidden_state_figure(view, marks={marked: "spaces"})
    ticks = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext, strict=True))
    assert ticks[f"h{marked}"] == f"<b>spaces → h{marked}</b>"
    assert sorted(heat(fig).y) == sorted(f"h{u}" for u in range(16))
    assert charts.hidden_state_figure(view).layout.yaxis.tickvals is None  # no marks: plotly's ticks


def test_long_axes_thin_their_tick_labels():
    view = hidden.HiddenView(z=np.zeros((3, 250)), units=np.arange(3), labels=["x"] * 250, total_units=3)
    fig = charts.hidden_state_figure(view)
    assert len(fig.layout.xaxis.tickvals) <= MAX_TICKS
    assert np.asarray(heat(fig).z).shape == (3, 250)


def test_unit_text_figure(trace: ChunkTrace):
    grid, unit = hidden.unit_grid(trace, 5)
    h = heat(charts.unit_text_figure(grid, unit))
    assert (h.zmin, h.zmax) == (-1.0, 1.0)
    assert np.asarray(h.z).shape == (1, 12)
    assert list(h.text[0]) == ["a", "␣", "b", "⇥", "c", "⏎", "d", ".", "␣", "t", "h", "e"]
    assert h.texttemplate == "%{text}"


def test_surprise_text_figure(trace: ChunkTrace):
    grid = softmax.surprise_grid(trace)
    h = heat(charts.surprise_text_figure(grid, vocab_size=20))
    assert h.zmin == 0.0 and h.zmax == pytest.approx(math.log(20))
    np.testing.assert_allclose(np.asarray(h.z)[0], trace.losses)


def test_softmax_figures(trainer: Trainer, trace: ChunkTrace):
    view = softmax.softmax_view(trace, trainer.corpus.vocab, k=3)
    fig = charts.softmax_topk_figure(view)
    h = heat(fig)
    assert np.asarray(h.z).shape == (3, 12)  # ranks × time steps
    assert (h.zmin, h.zmax) == (0.0, 1.0)
    assert list(h.y) == ["1", "2", "3"]
    assert list(fig.layout.xaxis.ticktext)[:4] == ["a", "␣", "b", "⇥"]
    marks = fig.data[1]
    assert len(marks.x) == int(view.top_is_target.sum())

    loss_fig = charts.loss_terms_figure(view)
    bars = loss_fig.data[0]
    assert isinstance(bars, go.Bar)
    assert float(np.sum(bars.y)) == pytest.approx(trace.loss)
    assert f"{trace.loss:.3f}" in loss_fig.layout.title.text
    assert list(loss_fig.layout.yaxis2.range) == [0, 1]


def test_grad_flow_figures(trace: ChunkTrace):
    labels = [visible_char(c) for c in trace.input_chars]
    fig = charts.grad_flow_figure(trace.dh_norms, labels)
    assert len(fig.data[0].y) == 12 and fig.layout.yaxis.type == "log"
    assert list(fig.layout.xaxis.ticktext) == labels

    flow = GradFlow(steps=np.array([10, 20, 30]), norms=np.full((3, 12), 0.01))
    h = heat(charts.grad_flow_history_figure(flow))
    assert np.asarray(h.z).shape == (3, 12)  # steps × t
    np.testing.assert_allclose(np.asarray(h.z), -2.0)  # log10
    assert list(h.y) == [10, 20, 30]
    empty = charts.grad_flow_history_figure(GradFlow(np.empty(0, int), np.empty((0, 12))))
    assert len(empty.data) == 0 and "No steps" in empty.layout.annotations[0].text


def test_reach_figures(trainer: Trainer):
    view = grad_flow.reach_view(grad_flow.read_reach(trainer, 0))
    T = len(view.labels)
    last = charts.last_prediction_figure(view)
    np.testing.assert_allclose(np.asarray(last.data[0].y), view.last)
    assert last.layout.yaxis.type == "log" and list(last.layout.xaxis.ticktext) == view.labels
    assert f"('{view.targets[-1]}')" in last.layout.title.text
    reach = charts.reach_figure(view)
    np.testing.assert_allclose(np.asarray(reach.data[0].y), view.typical)  # the line
    assert len(reach.data[1].x) == T * (T + 1) // 2 and reach.layout.yaxis.type == "log"  # the pairs
    h = heat(charts.itemized_figure(view))
    z = np.asarray(h.z, dtype=float)
    assert z.shape == (T, T)
    assert np.isnan(z[np.triu_indices(T, k=1)]).all()  # no gradient from a prediction to later steps
    np.testing.assert_allclose(z[np.tril_indices(T)], np.log10(view.G[np.tril_indices(T)]))


@pytest.mark.parametrize("name", ["U", "W", "V", "b", "c"])
def test_weight_figures(trainer: Trainer, name: str):
    view = weights.read_weights(trainer, name)
    fig = charts.weight_figure(view.weights, view.row_labels, view.col_labels, name)
    h = heat(fig)
    assert np.asarray(h.z).shape == view.weights.shape
    m = float(np.abs(view.weights).max()) or 1.0
    assert (h.zmin, h.zmax, h.zmid) == (pytest.approx(-m), pytest.approx(m), 0.0)  # symmetric
    assert len(fig.layout.xaxis.ticktext) == view.weights.shape[1]
    upd = heat(charts.weight_figure(view.update, view.row_labels, view.col_labels, name, "update"))
    assert upd.zmin == -upd.zmax
    lr = heat(charts.weight_figure(view.effective_lr, view.row_labels, view.col_labels, name, "step size"))
    np.testing.assert_allclose(np.asarray(lr.z), np.log10(view.effective_lr))


def test_weight_figure_labels_characters_on_the_vocabulary_axis(trainer: Trainer):
    view = weights.read_weights(trainer, "U")
    fig = charts.weight_figure(view.weights, view.row_labels, view.col_labels, "U")
    assert list(fig.layout.xaxis.ticktext)[:3] == ["⇥", "⏎", "␣"]  # '\t' < '\n' < ' '
    with pytest.raises(ValueError):
        charts.weight_figure(view.weights, view.row_labels, view.col_labels, "U", "nope")
    zero = heat(charts.weight_figure(np.zeros((2, 2)), ["a", "b"], ["c", "d"], "zero"))
    assert (zero.zmin, zero.zmax) == (-1.0, 1.0)


def test_gradcheck_figure():
    result = gradcheck.GradCheckResult(step=3, errors={"U": 1e-9, "W": 0.0, "V": 2e-8, "b": 1e-10, "c": 5e-9},
                                  entries=10, steps_checked=12, seconds=0.1)
    fig = charts.gradcheck_figure(result)
    assert list(fig.data[0].x) == ["U", "W", "V", "b", "c"]
    assert min(fig.data[0].y) > 0 and fig.layout.yaxis.type == "log"


def test_sample_figures(trainer: Trainer):
    session = TrainingSession(trainer.corpus, trainer.config)
    try:
        session.step_once()
        result = sd.generate(session, sd.SampleRequest(seed_text="the", length=40, rng_seed=3))
    finally:
        session.close()
    fig = sample_charts.sample_distribution_figure(result)
    h = heat(fig)
    assert np.asarray(h.z).shape == (sd.DISPLAY_TOP, 40)  # ranks × generated characters
    assert (h.zmin, h.zmax) == (0.0, 1.0)
    assert list(fig.layout.xaxis.ticktext) == result.visible
    window = sample_charts.sample_distribution_figure(result, 10, 25, position=12)
    np.testing.assert_allclose(np.asarray(heat(window).z), result.top_p[10:25].T)
    assert list(heat(window).x) == list(range(10, 25))
    assert list(window.layout.xaxis.ticktext) == result.visible[10:25]
    assert list(window.layout.xaxis.tickvals) == list(range(10, 25))
    frame = window.layout.shapes[0]
    assert (frame.x0, frame.x1) == (11.5, 12.5)  # the chosen position
    assert "characters 10–24 of 40" in window.layout.title.text
    bars = sample_charts.position_figure(result, 7)
    assert len(bars.data[0].y) == sd.DISPLAY_TOP
    assert list(bars.data[0].y) == pytest.approx(result.top_p[7].tolist())
