"""The Train and Data pages' figure builders (ui/figures/train.py, corpus.py) and the views behind
them (ui/views/train.py, corpus.py): no Streamlit needed."""

import dataclasses
import io
import json
import math
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from rnn_core import PRESETS, Trainer
from rnn_core.corpus import corpus_from_text
from ui.figures.corpus import char_frequency_figure
from ui.figures.style import NORMAL, PRESENTATION, ChartStyle
from ui.figures.train import NAV_PARAM, clipped_spec, grad_norm_spec, loss_spec, navigator_spec
from ui.session.events import Event
from ui.views.corpus import char_counts, corpus_summary
from ui.views.train import (
    BEST_SERIES,
    CLIP_WINDOW,
    GLOBAL,
    LOSS_SERIES,
    MAX_GRAD_POINTS,
    MAX_GRAD_ROWS,
    MAX_NAV_POINTS,
    MAX_POINTS,
    clamp_zoom,
    clip_threshold,
    clipped_frame,
    clipped_title,
    compute_rate,
    downsample_index,
    events_frame,
    grad_norm_frame,
    in_range,
    loss_frame,
    metrics_csv,
    navigator_frame,
    read_train_view,
    selected_range,
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
    assert set(frame["series"]) == {*LOSS_SERIES, BEST_SERIES}
    base = frame[frame["series"] == "uniform guess"]["value"]
    K, T = trainer.vocab_size, trainer.config.seq_len
    assert base.iloc[0] == pytest.approx(-math.log(1 / K) * T)
    raw = frame[frame["series"] == "chunk loss"]
    assert list(raw["value"]) == pytest.approx(list(trainer.history.column("loss")))


def test_loss_frame_in_bits_converts_every_series(view, trainer):
    nats, bits = loss_frame(view), loss_frame(view, bits=True)
    T = trainer.config.seq_len
    for series in (*LOSS_SERIES, BEST_SERIES):
        a = nats[nats["series"] == series]["value"].to_numpy()
        b = bits[bits["series"] == series]["value"].to_numpy()
        assert b == pytest.approx(a / T / math.log(2)), series
    val = bits[bits["series"] == "validation"]
    assert list(val["value"]) == pytest.approx(list(trainer.val_history.column("val_bpc")))


def test_the_best_validation_is_the_kept_weights_point(view, trainer):
    best = loss_frame(view, bits=True)
    best = best[best["series"] == BEST_SERIES]
    assert best["step"].tolist() == [trainer.best.step]
    assert best["value"].tolist() == [pytest.approx(trainer.best_val_bpc)]
    assert best["value"].iloc[0] == pytest.approx(min(trainer.val_history.column("val_bpc")))


def test_a_zoom_keeps_only_its_steps_and_draws_the_baseline_across_it(view):
    frame = loss_frame(view, zoom=(3, 8))
    lines = frame[frame["series"].isin(["chunk loss", "smooth loss", "validation"])]
    assert lines["step"].between(3, 8).all() and set(lines["step"]) >= {3.0, 8.0}
    assert frame[frame["series"] == "uniform guess"]["step"].tolist() == [3, 8]
    assert BEST_SERIES not in set(loss_frame(view, zoom=(1, 2))["series"])  # the best is at 5 or 10
    for table in (grad_norm_frame(view, zoom=(3, 8)), clipped_frame(view, zoom=(3, 8))):
        assert set(table["step"]) == {3.0, 4.0, 5.0, 6.0, 7.0, 8.0}
    assert in_range(np.array([1.0, 5.0, 9.0]), (2, 9)).tolist() == [1, 2]


def test_a_zoom_rescales_y_to_what_it_shows(view):
    """The chart's y axis fits its data: zoomed on late steps, the first big losses are gone."""
    everything, late = loss_frame(view), loss_frame(view, zoom=(8, 12))
    raw = "chunk loss"
    assert late[late["series"] == raw]["value"].max() < everything[everything["series"] == raw]["value"].max()


def test_traces_stay_bounded_on_a_long_history(trainer):
    view = read_train_view(trainer)
    n = 5000
    long = {k: np.linspace(1, 2, n) for k in view.history}
    long["step"] = np.arange(1, n + 1, dtype=float)
    big = type(view)(**{**view.__dict__, "history": long, "step": n})
    frame = loss_frame(big)
    assert (frame.groupby("series").size() <= MAX_POINTS).all()
    assert (grad_norm_frame(big).groupby(["parameter", "stage"]).size() <= MAX_GRAD_POINTS).all()
    # A cell with 14 weights (an LSTM's): fewer points per trace, the same rows in all.
    names = tuple(f"w{i}" for i in range(14))
    gated = {**long, **{f"{stage}_{k}": np.linspace(1, 2, n) for k in names for stage in ("pre", "post")}}
    wide = type(view)(**{**big.__dict__, "history": gated, "param_names": names})
    frame = grad_norm_frame(wide)
    assert len(frame) <= MAX_GRAD_ROWS and frame.groupby(["parameter", "stage"]).ngroups == 30
    assert len(clipped_frame(big)) <= MAX_GRAD_POINTS
    assert len(navigator_frame(big)) <= MAX_NAV_POINTS
    zoomed = loss_frame(big, zoom=(1000, 1100))  # a zoom shows every kept step within it
    assert len(zoomed[zoomed["series"] == "chunk loss"]) == 101


def test_grad_norm_frame_has_every_parameter_the_global_norm_both_stages_and_no_zeros(view, trainer):
    frame = grad_norm_frame(view)
    assert set(frame["parameter"]) == {"U", "W", "V", "b", "c", GLOBAL}
    assert set(frame["stage"]) == {"before clipping", "after clipping"}
    assert (frame["norm"] > 0).all()  # drawable on a log scale
    before = frame[(frame["parameter"] == GLOBAL) & (frame["stage"] == "before clipping")]["norm"]
    assert before.tolist() == pytest.approx(trainer.history.column("global_pre").tolist())


def history_view(view, clip_mode: str, pre: list[float], post: list[float], fraction: list[float]):
    """`view` with a made-up history of len(pre) steps and the given clipping mode."""
    n = len(pre)
    h = {k: np.zeros(n) for k in view.history}
    h.update(step=np.arange(1.0, n + 1), global_pre=np.array(pre), global_post=np.array(post),
             clipped_fraction=np.array(fraction))
    return dataclasses.replace(view, history=h, step=n, config=view.config.replace(clip_mode=clip_mode))


def test_clipped_share_by_value_is_the_share_of_entries(view):
    v = history_view(view, "value", [3, 9, 2], [3, 5, 2], [0.0, 0.25, 0.0])
    assert clipped_frame(v)["fraction"].tolist() == [0.0, 0.25, 0.0]
    assert "entries" in clipped_title(v) and clip_threshold(v) is None


def test_clipped_share_by_norm_is_the_share_of_recent_steps_scaled_down(view):
    # By norm every entry of a clipped step is scaled (clipped_fraction ~ 1): the chart shows how
    # often clipping acts instead, over the last CLIP_WINDOW steps.
    n = CLIP_WINDOW + 10
    pre = [30.0 if i % 2 == 0 else 10.0 for i in range(n)]  # every other step over the threshold
    post = [min(p, 20.0) for p in pre]
    v = history_view(view, "norm", pre, post, [1.0 if p > 20 else 0.0 for p in pre])
    share = clipped_frame(v)["fraction"].to_numpy()
    assert share[:4].tolist() == [1.0, 0.5, pytest.approx(2 / 3), 0.5]  # a shorter window at first
    assert share[-1] == pytest.approx(0.5)
    assert "recent steps" in clipped_title(v) and clip_threshold(v) == v.config.clip
    v_off = history_view(view, "off", pre, pre, [0.0] * n)
    assert not clipped_frame(v_off)["fraction"].any() and "off" in clipped_title(v_off)


def test_events_frame_keeps_the_events_in_range():
    events = [Event(0, "reset", "Reset"), Event(40, "setting", "lr 0.002 → 0.05"),
              Event(90, "divergence", "diverged at 97")]
    assert events_frame(events)["label"].tolist() == ["Reset", "lr 0.002 → 0.05", "diverged at 97"]
    assert events_frame(events, (10, 90))["kind"].tolist() == ["setting", "divergence"]
    assert events_frame([]).empty


def test_navigator_shows_the_whole_run_whatever_the_zoom(view, trainer):
    frame = navigator_frame(view)
    assert frame["step"].tolist() == trainer.history.column("step").tolist()
    assert frame["value"].tolist() == pytest.approx(trainer.history.column("bpc").tolist())


@pytest.mark.parametrize(("selection", "expected"), [
    ({"selection": {"steps": {"step": [120.4, 37.8]}}}, (37, 121)),  # either direction, whole steps
    ({"selection": {"steps": {"step": [-5, 3.2]}}}, (0, 4)),
    ({"selection": {"steps": {}}}, None),  # cleared (a double-click)
    ({"selection": {"steps": {"step": [5, 5]}}}, None),
    ({"selection": {"steps": {"step": ["x", 5]}}}, None),
    ({"selection": {"steps": {"step": [float("nan"), 5]}}}, None),
    (None, None),
])
def test_selected_range(selection, expected):
    assert selected_range(selection) == expected


def test_clamp_zoom_keeps_it_within_the_steps_trained():
    assert clamp_zoom((100, 200), 500) == (100, 200)
    assert clamp_zoom((100, 200), 150) == (100, 150)  # training went back to 150
    assert clamp_zoom((100, 200), 100) is None and clamp_zoom(None, 10) is None


def test_empty_history_makes_empty_but_valid_tables(trainer):
    view = read_train_view(Trainer(trainer.corpus, trainer.config))
    assert set(loss_frame(view)["series"]) == {"uniform guess"}
    assert grad_norm_frame(view).empty and clipped_frame(view).empty and navigator_frame(view).empty
    assert compute_rate(view) is None


# --- the specs --------------------------------------------------------------------------------------


def specs(view, zoom=None, style: ChartStyle = NORMAL) -> dict[str, dict]:
    """Every Train chart's spec for `view`, with an event on it."""
    events = events_frame([Event(4, "setting", "lr 0.002 → 0.05")])
    return {
        "loss": loss_spec(loss_frame(view, zoom=zoom), events, "loss", zoom, style=style),
        "grad": grad_norm_spec(grad_norm_frame(view, zoom), events, 20.0, zoom, style=style),
        "clipped": clipped_spec(clipped_frame(view, zoom), events, zoom, style=style),
        "navigator": navigator_spec(navigator_frame(view)),
    }


def layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def fields(layer: dict) -> set[str]:
    """Every data field a Vega-Lite layer encodes."""
    out = set()
    for channel in layer["encoding"].values():
        for item in channel if isinstance(channel, list) else [channel]:
            if "field" in item:
                out.add(item["field"])
    return out


def test_specs_encode_only_columns_of_their_datasets(view):
    for name, spec in specs(view).items():
        for layer in layers(spec):
            data = layer.get("data", spec["data"])
            columns = ({k for row in data["values"] for k in row} if "values" in data
                       else set(spec["datasets"][data["name"]].columns))
            made = {t["as"] for t in layer.get("transform", []) if "as" in t}
            made |= {w["as"] for t in layer.get("transform", []) for w in t.get("window", [])}
            assert fields(layer) <= columns | made, (name, layer)


def as_json(spec: dict) -> dict:
    """The spec as Streamlit sends it: the datasets as records."""
    records = {k: json.loads(v.to_json(orient="records")) for k, v in spec["datasets"].items()}
    return {**spec, "datasets": records}


def test_specs_as_vega_lite_are_valid(view):
    """The dicts skip Altair's per-refresh validation; validate them once here instead."""
    import altair as alt

    for zoom, style in ((None, NORMAL), ((3, 8), NORMAL), (None, PRESENTATION)):
        for spec in specs(view, zoom, style).values():
            cls = alt.LayerChart if "layer" in spec else alt.Chart
            cls.from_dict(as_json(spec))  # raises SchemaValidationError if invalid


def legends(spec: dict) -> list[dict]:
    return [layer["encoding"]["color"]["legend"] for layer in layers(spec)
            if "legend" in layer["encoding"].get("color", {})]


def legend_columns(spec: dict, width: int) -> int:
    """The number of columns a presentation-mode legend's expression picks for a plot `width` wide."""
    (expr,) = {legend["columns"]["expr"] for legend in legends(spec)}
    for least, columns in re.findall(r"width >= (\d+) \? (\d+)", expr):
        if width >= int(least):
            return int(columns)
    return 1


def test_presentation_legends_take_as_many_columns_as_fit(view):
    """Measured in Chromium (tests/e2e/test_presentation.py checks the drawing): a half-screen
    plot is about 600 px wide at 1920 and 340 at 1366."""
    s = specs(view, style=PRESENTATION)
    assert legend_columns(s["loss"], 600) == 4 and legend_columns(s["grad"], 600) == 7  # one row
    assert legend_columns(s["loss"], 340) == 2 and legend_columns(s["grad"], 340) == 4  # two rows
    assert legend_columns(s["grad"], 100) == 1
    assert [legend["columns"] for legend in legends(specs(view)["loss"])] == [2, 2]  # normal: fixed


def test_specs_stay_the_same_while_only_the_data_changes(trainer):
    """Streamlit updates a Vega chart in place only when its spec is unchanged: refresh after
    refresh, only the datasets change (until the user zooms, or changes unit or clipping)."""
    def bare(view, zoom=None):
        return {k: json.dumps({**s, "datasets": None}) for k, s in specs(view, zoom).items()}

    early = read_train_view(trainer)
    later = Trainer(trainer.corpus, trainer.config)
    later.run(20)
    assert bare(early) == bare(read_train_view(later))
    assert bare(early, (3, 8)) == bare(read_train_view(later), (3, 8))
    assert bare(early) != bare(early, (3, 8))


def test_step_axes_show_whole_steps_and_a_zoom_fixes_the_x_domain(view):
    for spec in specs(view).values():
        for layer in layers(spec):
            x = layer["encoding"].get("x", {})
            if x.get("field") == "step" and "axis" in x:  # the event layers share the x scale
                assert x["axis"]["format"] == ",d" and x["axis"]["tickMinStep"] == 1
                assert "domain" not in x.get("scale", {})
    for name, spec in specs(view, (3, 8)).items():
        xs = [layer["encoding"]["x"] for layer in layers(spec) if "axis" in layer["encoding"].get("x", {})]
        if name == "navigator":  # the navigator always spans the whole run
            assert all("scale" not in x for x in xs)
        else:
            assert xs and all(x["scale"]["domain"] == [3, 8] for x in xs)


def test_spec_details(view):
    s = specs(view)
    text = json.dumps(as_json(loss_spec(loss_frame(view), events_frame([]), "bits per character")))
    assert "bits per character" in text and "uniform guess" in text and BEST_SERIES in text
    assert layers(s["grad"])[0]["encoding"]["y"]["scale"]["type"] == "log"
    assert "clip at 20" in json.dumps(as_json(s["grad"]))  # the threshold, labelled ...
    drawn_once = [layer for layer in layers(s["grad"]) if layer.get("data") == {"values": [{"clip": 20.0}]}]
    assert [layer["mark"]["type"] for layer in drawn_once] == ["rule", "text"]  # once, not per row
    no_threshold = grad_norm_spec(grad_norm_frame(view), events_frame([]), None)
    assert "clip at" not in json.dumps(as_json(no_threshold))  # ... or none
    assert layers(s["clipped"])[0]["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert s["navigator"]["params"][0]["name"] == NAV_PARAM
    select = s["navigator"]["params"][0]["select"]
    assert (select["type"], select["encodings"]) == ("interval", ["x"])
    for name in ("loss", "grad", "clipped"):  # the events: rules, and labels on the loss chart
        marks = [layer["mark"]["type"] for layer in layers(s[name])
                 if layer.get("data") == {"name": "events"}]
        assert marks == (["rule", "text"] if name == "loss" else ["rule"])


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


