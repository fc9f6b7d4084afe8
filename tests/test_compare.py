"""The comparison behind the Compare page, without Streamlit: the runs' settings (one thing
differs), the scheduler (the run behind steps next, so every run reads the same characters up to
the budget), a divergence stopping one run only, the session's one worker training a comparison
in place of the model on one slot, and the views and charts of the runs."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator

import numpy as np
import pytest

from rnn_core import checkpoint, gru
from rnn_core.config import BOUNDS, PRESETS, TrainConfig
from rnn_core.corpus import load_builtin
from rnn_core.reach import itemized_gradients, reach_by_distance
from rnn_core.sampling import sample
from tests.rnn_support import small_corpus, tiny_config
from ui.figures import compare as figures
from ui.session import compare as cmp
from ui.session.limits import ModelTooBigError
from ui.session.server import SERVER
from ui.session.worker import TrainingSession
from ui.views import compare as views
from ui.views.train import STAGES

BASE = tiny_config(batch=2, optimizer="adam", lr=0.01, val_fraction=0.2)


def differences(a: TrainConfig, b: TrainConfig) -> set[str]:
    x, y = dataclasses.asdict(a), dataclasses.asdict(b)
    return {k for k in x if x[k] != y[k]}


@pytest.mark.parametrize(("vary", "fields", "labels"), [
    ("cell", {"cell"}, ["RNN", "LSTM", "GRU"]),
    ("optimizer", {"optimizer", "lr"}, ["Adagrad, lr 0.03", "SGD, lr 0.03", "Adam, lr 0.002"]),
    ("clipping", {"clip_mode"}, ["clipping by norm at 20", "no clipping"]),
    ("hidden size", {"hidden"}, ["hidden 64", "hidden 128", "hidden 256"]),
])
def test_the_runs_differ_in_the_one_thing_chosen(vary: str, fields: set[str], labels: list[str]):
    base = PRESETS["fast"]
    runs = cmp.run_configs(base, vary)
    assert [label for label, _ in runs] == labels
    configs = [cfg for _, cfg in runs]
    for a in configs:
        for b in configs:
            assert differences(a, b) <= fields
    assert len({tuple(getattr(c, f) for f in sorted(fields)) for c in configs}) == len(configs)
    assert all(differences(c, base) <= fields for c in configs)  # the rest is the base's


def test_clipping_on_when_the_base_has_it_off_and_hidden_sizes_within_bounds():
    off = PRESETS["fast"].replace(clip_mode="off")
    (_, on), (_, none) = cmp.run_configs(off, "clipping")
    assert (on.clip_mode, on.clip, none.clip_mode) == ("norm", cmp.NORM_CLIP, "off")
    top = int(BOUNDS["hidden"][1])
    assert [c.hidden for _, c in cmp.run_configs(PRESETS["fast"].replace(hidden=top), "hidden size")] == [
        top // 2, top]
    assert [c.hidden for _, c in cmp.run_configs(PRESETS["fast"].replace(hidden=1), "hidden size")] == [1, 2]
    with pytest.raises(ValueError, match="unknown variation"):
        cmp.run_configs(PRESETS["fast"], "seed")


def step_chars(c: cmp.Comparison) -> int:
    t = c.runs[0].trainer
    return t.streams * t.config.seq_len


def test_the_run_behind_steps_next_so_all_read_the_same_characters_up_to_the_budget():
    c = cmp.Comparison(small_corpus(), BASE, "cell", budget=4010)
    chunk = step_chars(c)  # 2 streams x 10 characters
    order = []
    while (run := c.next_run()) is not None:
        order.append(run.label)
        assert c.step()
        seen = [r.trainer.chars_seen for r in c.runs]
        assert max(seen) - min(seen) <= chunk  # never more than one step apart
    assert order[:6] == ["RNN", "LSTM", "GRU"] * 2  # round robin while they keep pace
    assert c.done and not c.step() and c.run_for(0.01) == 0
    assert [r.trainer.chars_seen for r in c.runs] == [math.ceil(4010 / chunk) * chunk] * 3 == [4020] * 3
    assert c.chars_seen == 4020
    # Validation every VAL_EVERY steps whatever its cost: at the same characters for every run.
    vals = [tuple(r.trainer.val_history.column("chars_seen")) for r in c.runs]
    assert vals[0] == vals[1] == vals[2] == tuple(range(0, 4020, cmp.VAL_EVERY * chunk))  # from 0
    c.budget = 8000  # a higher budget: they go on, in turn again
    assert not c.done and c.next_run().label == "RNN"


def test_one_round_steps_each_run_once_and_a_lower_budget_stops_them():
    c = cmp.Comparison(small_corpus(), BASE, "optimizer", budget=10_000)
    c.step_round()
    assert [r.trainer.step_count for r in c.runs] == [1, 1, 1]
    assert c.run_for(0.05) >= 1
    c.budget = 1
    assert c.done and c.next_run() is None


def test_a_divergence_stops_that_run_and_the_others_go_on(monkeypatch: pytest.MonkeyPatch):
    real = gru.forward

    def exploding(params, inputs, *args, **kwargs):  # the GRU's loss explodes at its 4th step
        fw = real(params, inputs, *args, **kwargs)
        if inputs.shape[1] == BASE.batch:  # a training step (validation reads 10 streams)
            if exploding.calls == 3:
                fw.losses *= 1e4
            exploding.calls += 1
        return fw

    exploding.calls = 0
    monkeypatch.setattr(gru, "forward", exploding)
    c = cmp.Comparison(small_corpus(), BASE, "cell", budget=400)
    while c.step():
        pass
    rnn, lstm, g = c.runs
    assert g.stopped is not None and "diverged at step 4" in g.stopped
    assert g.trainer.step_count == 0  # gone back to its last healthy snapshot: the start
    assert rnn.stopped is None and lstm.stopped is None
    assert rnn.trainer.chars_seen == lstm.trainer.chars_seen == 400 and c.done


def test_the_runs_together_must_fit_one_sessions_memory(monkeypatch: pytest.MonkeyPatch):
    from ui.session import limits
    one = limits.model_megabytes(BASE.replace(cell="lstm"), len(small_corpus().vocab))
    monkeypatch.setattr(cmp, "MAX_MODEL_MB", 1.5 * one)  # each fits; the three together do not
    monkeypatch.setattr(limits, "MAX_MODEL_MB", 1.5 * one)
    with pytest.raises(ModelTooBigError, match="3 runs together"):
        cmp.Comparison(small_corpus(), BASE, "cell")


def test_the_preset_is_the_long_range_tests_settings_on_recall():
    c = cmp.Comparison(load_builtin(cmp.VANISH_CORPUS), cmp.VANISH_CONFIG, "cell", preset=True)
    assert c.preset and c.corpus.name == "recall" and [r.label for r in c.runs] == ["RNN", "LSTM", "GRU"]
    for run in c.runs:
        assert differences(run.trainer.config, cmp.VANISH_CONFIG) <= {"cell", "val_every"}
        assert run.trainer.config.val_every == 0  # the comparison validates them itself
    assert "hidden 32" in c.describe_base() and "RNN" not in c.describe_base()


# --- the session's one worker ---------------------------------------------------------------------


@pytest.fixture
def session() -> Iterator[TrainingSession]:
    s = TrainingSession(small_corpus(), BASE)
    yield s
    s.close()


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_worker_trains_the_comparison_in_place_of_the_model_on_one_slot(session: TrainingSession):
    assert not session.play_comparison()  # none yet
    session.set_comparison(cmp.Comparison(session.trainer.corpus, BASE, "cell", budget=10**9))
    before = SERVER.playing_count()
    assert session.play_comparison() and session.comparing and session.busy and not session.playing
    wait_until(lambda: session.read_comparison(lambda c: c.chars_seen) >= 200)
    assert session.read(lambda t: t.step_count) == 0  # the model waits
    assert SERVER.playing_count() == before + 1
    assert session.play() and session.playing and not session.comparing  # Play on another page
    frozen = session.read_comparison(lambda c: [r.trainer.chars_seen for r in c.runs])
    wait_until(lambda: session.read(lambda t: t.step_count) >= 5)
    assert session.read_comparison(lambda c: [r.trainer.chars_seen for r in c.runs]) == frozen
    assert SERVER.playing_count() == before + 1  # still the one slot
    session.pause()
    assert not session.busy and SERVER.playing_count() == before


def test_the_worker_pauses_when_every_run_has_read_its_budget(session: TrainingSession):
    session.set_comparison(cmp.Comparison(session.trainer.corpus, BASE, "clipping", budget=600))
    session.step_comparison()
    assert session.read_comparison(lambda c: [r.trainer.step_count for r in c.runs]) == [1, 1]
    assert session.play_comparison()
    wait_until(lambda: not session.busy)
    assert session.read_comparison(lambda c: (c.done, [r.trainer.chars_seen for r in c.runs])) == (
        True, [600, 600])
    assert not session.play_comparison()  # nothing left to train
    session.set_comparison_budget(1200)
    assert session.play_comparison()
    wait_until(lambda: not session.busy)
    assert session.read_comparison(lambda c: c.chars_seen) == 1200


def test_a_new_text_drops_the_comparison_but_not_the_preset(session: TrainingSession):
    session.set_comparison(cmp.Comparison(session.trainer.corpus, BASE, "cell"))
    session.reset()  # same text: kept
    assert session.comparison is not None
    other = load_builtin("zen")
    session.reset(corpus=other)
    assert session.comparison is None
    session.set_comparison(cmp.Comparison(load_builtin("recall"), cmp.VANISH_CONFIG, "cell", preset=True))
    session.reset(corpus=small_corpus())
    assert session.comparison is not None and session.comparison.preset


# --- views and charts -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained() -> cmp.Comparison:
    c = cmp.Comparison(small_corpus(), BASE.replace(val_fraction=0.2), "cell", budget=1100)
    while c.step():
        pass
    return c


def test_the_view_copies_each_run(trained: cmp.Comparison):
    view = views.read_compare(trained)
    assert views.read_compare(None) is None
    assert view.labels == ["RNN", "LSTM", "GRU"] and view.vary == "cell" and view.budget == 1100
    assert view.corpus_name == "small" and view.done and view.chars_seen == 1100
    for run, r in zip(view.runs, trained.runs, strict=True):
        t = r.trainer
        assert (run.step, run.chars_seen, run.train_time) == (t.step_count, t.chars_seen, t.train_time)
        np.testing.assert_array_equal(run.val["val_bpc"], t.val_history.column("val_bpc"))
        np.testing.assert_array_equal(run.grads["global_pre"], t.history.column("global_pre"))
        for k, a in run.params.items():
            assert a is not t.params[k] and np.array_equal(a, t.params[k])
        assert "1,100 of 1,100 characters" in views.run_caption(run, view.budget)
    frame = views.val_frame(view)
    assert frame["run"].tolist() == [label for label in view.labels for _ in range(2)]
    assert frame["chars_seen"].tolist() == [0, 1000] * 3
    fresh = views.read_compare(cmp.Comparison(small_corpus(), BASE, "cell"))
    fresh.runs[0].val.update(chars_seen=np.zeros(1), time=np.zeros(1), val_bpc=np.ones(1))
    assert views.val_frame(fresh).empty  # the untrained weights' alone: nothing to draw yet


def test_the_reach_of_each_run_is_its_itemized_gradients(trained: cmp.Comparison):
    view = views.read_compare(trained)
    frame = views.reach_frame(view)
    for run in trained.runs:
        t = run.trainer
        trace = t.chunk_trace(0)
        G = itemized_gradients(t.chunk_params(), trace.inputs, trace.targets, trace.carry_prev)
        typical = reach_by_distance(G, geometric=True)[1]
        mine = frame[frame["run"] == run.label]
        np.testing.assert_allclose(mine["share"], (typical / typical[0])[typical > 0])
        assert mine["distance"].tolist() == list(np.flatnonzero(typical > 0))


def test_the_gradient_norms_and_samples_of_each_run(trained: cmp.Comparison):
    view = views.read_compare(trained)
    grads = views.grad_frame(view, max_points=20)
    for run in trained.runs:
        mine = grads[grads["run"] == run.label]
        assert set(mine["stage"]) == set(STAGES) and len(mine) <= 2 * 20
    texts = views.samples(view)
    s = views.SAMPLE
    for text, run in zip(texts, trained.runs, strict=True):
        assert text == sample(run.trainer.params, trained.corpus.vocab, s.length,
                              temperature=s.temperature, rng=s.rng_seed).text
    assert views.norm_clip(view) is None  # they clip by value
    clipped = views.read_compare(cmp.Comparison(small_corpus(), BASE.replace(clip_mode="norm"), "clipping"))
    assert views.norm_clip(clipped) == BASE.clip  # one run clips by norm, the other not at all


def test_the_charts_give_each_run_one_colour_everywhere(trained: cmp.Comparison):
    view = views.read_compare(trained)
    specs = [figures.val_loss_spec(views.val_frame(view), view.labels, "chars_seen"),
             figures.val_loss_spec(views.val_frame(view), view.labels, "time"),
             figures.reach_spec(views.reach_frame(view), view.labels),
             figures.grad_norm_spec(views.grad_frame(view), view.labels, 20.0)]
    for spec in specs:
        color = spec["layer"][0]["encoding"]["color"]["scale"]
        assert color == {"domain": view.labels, "range": list(figures.RUN_COLORS)}
    assert specs[0]["layer"][0]["encoding"]["x"]["field"] == "chars_seen"
    assert specs[1]["layer"][0]["encoding"]["x"]["field"] == "time"
    assert specs[2]["layer"][0]["encoding"]["y"]["scale"] == {"type": "log"}
    assert specs[3]["layer"][2]["data"] == {"values": [{"clip": 20.0}]}  # the threshold's rule
    assert len(figures.grad_norm_spec(views.grad_frame(view), view.labels)["layer"]) == 1


def test_a_runs_checkpoint_loads_back_as_that_run(trained: cmp.Comparison):
    for run in trained.runs:
        restored = checkpoint.restore(checkpoint.from_bytes(checkpoint.to_bytes(run.trainer)), trained.corpus)
        assert restored.trainer.config == run.trainer.config
        assert restored.trainer.step_count == run.trainer.step_count
        for k, a in run.trainer.params.items():
            np.testing.assert_array_equal(restored.trainer.params[k], a)
