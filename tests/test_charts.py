"""The Train and Data pages' figure builders (ui/figures/train.py, corpus.py) and the views behind
them (ui/views/train.py, corpus.py): no Streamlit needed."""

import io
import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from rnn_core import PRESETS, Trainer
from rnn_core.corpus import corpus_from_text
from ui.figures.corpus import char_frequency_figure
from ui.figures.train import clipped_spec, grad_norm_spec, loss_spec
from ui.views.corpus import char_counts, corpus_summary
from ui.views.train import (
    LOSS_SERIES,
    MAX_GRAD_POINTS,
    MAX_POINTS,
    clipped_frame,
    compute_rate,
    downsample_index,
    grad_norm_frame,
    loss_frame,
    metrics_csv,
    read_train_view,
)

TEXT = "the quick brown fox jumps over the lazy dog.\n" * 40


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    t = Trainer(corpus_from_text(TEXT, name="fox"),
                PRESETS["fast"].replace(hidden=16, batch=4, val_every=5))
    t.run(12)
    return t


@pytest.fixture(scope="module")
def view(trainer):
    return read_train_view(trainer)


@pytest.mark.parametrize(("n", "cap"), [(0, 10), (5, 10), (10, 10), (11, 10), (2000, 400), (1999, 7)])
def test_downsample_is_bounded_and_keeps_both_ends(n, cap):
    idx = downsample_index(n, cap)
    assert len(idx) <= cap and len(idx) == min(n, len(idx))
    if n:
        assert idx[0] == 0 and idx[-1] == n - 1
        assert (np.diff(idx) > 0).all()


def test_loss_frame_in_nats_has_the_uniform_baseline(view, trainer):
    frame = loss_frame(view)
    assert set(frame["series"]) == set(LOSS_SERIES)
    base = frame[frame["series"] == "uniform guess"]["value"]
    K, T = trainer.vocab_size, trainer.config.seq_len
    assert base.iloc[0] == pytest.approx(-math.log(1 / K) * T)
    raw = frame[frame["series"] == "chunk loss"]
    assert list(raw["value"]) == pytest.approx(list(trainer.history.column("loss")))


def test_loss_frame_in_bits_converts_every_series(view, trainer):
    nats, bits = loss_frame(view), loss_frame(view, bits=True)
    T = trainer.config.seq_len
    for series in LOSS_SERIES:
        a = nats[nats["series"] == series]["value"].to_numpy()
        b = bits[bits["series"] == series]["value"].to_numpy()
        assert b == pytest.approx(a / T / math.log(2)), series
    val = bits[bits["series"] == "validation"]
    assert list(val["value"]) == pytest.approx(list(trainer.val_history.column("val_bpc")))


def test_traces_stay_bounded_on_a_long_history(trainer):
    view = read_train_view(trainer)
    n = 5000
    long = {k: np.linspace(1, 2, n) for k in view.history}
    long["step"] = np.arange(1, n + 1, dtype=float)
    big = type(view)(**{**view.__dict__, "history": long, "step": n})
    frame = loss_frame(big)
    assert (frame.groupby("series").size() <= MAX_POINTS).all()
    assert (grad_norm_frame(big).groupby(["parameter", "stage"]).size() <= MAX_GRAD_POINTS).all()
    assert len(clipped_frame(big)) <= MAX_GRAD_POINTS


def test_grad_norm_frame_has_every_parameter_both_stages_and_no_zeros(view):
    frame = grad_norm_frame(view)
    assert set(frame["parameter"]) == {"U", "W", "V", "b", "c"}
    assert set(frame["stage"]) == {"before clipping", "after clipping"}
    assert (frame["norm"] > 0).all()  # drawable on a log scale


def fields(spec: dict) -> set[str]:
    """Every data field a Vega-Lite spec encodes (layers included)."""
    out = set()
    for layer in spec.get("layer", [spec]):
        for channel in layer["encoding"].values():
            for item in channel if isinstance(channel, list) else [channel]:
                out.add(item["field"])
    return out


def test_empty_history_makes_empty_but_valid_tables(trainer):
    view = read_train_view(Trainer(trainer.corpus, trainer.config))
    assert set(loss_frame(view)["series"]) == {"uniform guess"}
    assert grad_norm_frame(view).empty and clipped_frame(view).empty
    assert compute_rate(view) is None


@pytest.mark.parametrize(("spec", "frame"), [
    (lambda: loss_spec("loss"), loss_frame),
    (grad_norm_spec, grad_norm_frame),
    (clipped_spec, clipped_frame),
])
def test_specs_encode_only_columns_of_their_tables(view, spec, frame):
    s = spec()
    assert fields(s) <= set(frame(view).columns)
    json.dumps(s)  # plain JSON: no objects for Streamlit to convert
    layers = s.get("layer", [s])
    assert any(p["bind"] == "scales" for layer in layers for p in layer.get("params", []))  # zoomable


def test_specs_as_vega_lite_are_valid():
    """The dicts skip Altair's per-refresh validation; validate them once here instead."""
    import altair as alt

    for spec in (loss_spec("loss"), grad_norm_spec(), clipped_spec()):
        cls = alt.LayerChart if "layer" in spec else alt.Chart
        cls.from_dict({**spec, "data": {"values": []}})  # raises SchemaValidationError if invalid


def test_spec_details(view):
    text = json.dumps(loss_spec("bits per character"))
    assert "bits per character" in text and "uniform guess" in text
    assert grad_norm_spec()["encoding"]["y"]["scale"]["type"] == "log"
    assert clipped_spec()["encoding"]["y"]["scale"]["domain"] == [0, 1]


def test_char_frequency_figure_is_a_plotly_figure_with_visible_labels():
    counts = char_counts("aaab  \n\tc" + "".join(chr(0x100 + i) for i in range(100)), top=10)
    fig = char_frequency_figure(counts)
    assert isinstance(fig, go.Figure)
    assert counts.labels[0] == "a" and counts.counts[0] == 3
    assert "␣" in counts.labels and "⏎" in counts.labels and "⇥" in counts.labels
    assert counts.other_kinds == 106 - 10 and counts.other == 96  # each rare char once
    assert list(fig.layout.xaxis.ticktext) == counts.labels
    assert "rarer" in fig.layout.title.text


def test_metrics_csv_round_trips(view):
    table = pd.read_csv(io.BytesIO(metrics_csv(view)))
    assert len(table) == len(view.history["step"])
    assert table["step"].tolist() == list(range(1, len(table) + 1))
    measured = table.dropna(subset=["val_bpc"])
    assert measured["step"].tolist() == view.val["step"].astype(int).tolist()


def test_corpus_summary():
    s = corpus_summary(corpus_from_text(TEXT, name="fox"), preview_chars=50)
    assert s.chars == len(TEXT) and s.lines == 40 and s.words == 9 * 40
    assert len(s.preview) == 50 and s.truncated


