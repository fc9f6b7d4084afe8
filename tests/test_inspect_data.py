"""The Inspect and Sample pages' views (ui/views/): what they compute from a trainer or a session."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.corpus import Corpus, corpus_from_text
from rnn_core.model import forward
from rnn_core.reach import itemized_gradients, reach_by_distance
from rnn_core.trainer import Trainer
from ui.session.timeline import SampleSettings, TimelineSample
from ui.session.worker import TrainingSession
from ui.text import visible_char
from ui.views import grad_flow, gradcheck, hidden, own_text, softmax, text_grid, weights
from ui.views import sample as sd

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("the cat sat on the mat.\nthe dog sat on the log.\n\ta cat and a dog met on a mat by a log.\n"
        "the cat ran, the dog ran.\nthen both sat down again.\n") * 3


def corpus(text: str = TEXT) -> Corpus:
    return corpus_from_text(text, name="small", seq_len=10)


def config(**changes: object) -> TrainConfig:
    return TrainConfig(hidden=12, seq_len=10, val_fraction=0.0, seed=3).replace(**changes)


@pytest.fixture
def trainer() -> Trainer:
    t = Trainer(corpus(), config(batch=3))
    t.run(5)
    return t


# --- hidden states ------------------------------------------------------------------------------


def test_unit_order():
    hs = np.array([[0.0, 0.9, -0.5], [0.0, -0.9, -0.5], [0.1, 0.9, -0.5]])  # (T=3, H=3)
    assert hidden.unit_order(hs, "unit number").tolist() == [0, 1, 2]
    assert hidden.unit_order(hs, "most variable").tolist()[0] == 1
    assert hidden.unit_order(hs, "most saturated").tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="unknown unit order"):
        hidden.unit_order(hs, "nope")


def test_hidden_view_is_units_by_time(trainer: Trainer):
    trace = trainer.chunk_trace(1)
    view = hidden.hidden_view(trace, "most variable", max_units=5)
    assert view.z.shape == (5, 10)
    assert view.total_units == 12
    np.testing.assert_array_equal(view.z, trace.hs[:, view.units].T)
    assert view.labels == [visible_char(c) for c in trace.input_chars]
    assert np.abs(view.z).max() <= 1.0


def test_text_grid_wraps_and_pads():
    grid = text_grid.text_grid(list("ab cd\ne"), np.arange(7.0), width=3)
    assert grid.z.shape == (3, 3)
    assert grid.text == [["a", "b", "␣"], ["c", "d", "⏎"], ["e", "", ""]]
    assert grid.position[2].tolist() == [6, -1, -1]
    assert np.isnan(grid.z[2, 1:]).all() and grid.z[1, 2] == 5.0
    with pytest.raises(ValueError):
        text_grid.text_grid(list("ab"), np.zeros(3))


def test_unit_grid_clamps_the_unit(trainer: Trainer):
    trace = trainer.chunk_trace(0)
    grid, unit = hidden.unit_grid(trace, 99)
    assert unit == 11
    np.testing.assert_allclose(grid.z[0, :10], trace.hs[:, 11])


def planted(T: int = 40, groups: int = 4, per_group: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """hs (T, groups * per_group) whose units follow one of `groups` time courses (plus a little
    noise), shuffled; and each unit's group."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((T, groups))
    group = rng.permutation(np.repeat(np.arange(groups), per_group))
    return np.tanh(base[:, group] + 0.2 * rng.standard_normal((T, len(group)))), group


def test_similarity_order_puts_units_that_move_together_side_by_side():
    hs, group = planted()
    order = hidden.similarity_order(hs)
    assert sorted(order.tolist()) == list(range(len(group)))  # a permutation
    runs = 1 + int(np.count_nonzero(np.diff(group[order])))
    assert runs == 4  # each group one contiguous block
    assert 1 + int(np.count_nonzero(np.diff(group))) > 4  # which the unit numbers were not
    # within a block, neighbours are more alike than units of other blocks
    corr = np.corrcoef(hs.T)
    neighbours = [corr[a, b] for a, b in itertools.pairwise(order) if group[a] == group[b]]
    others = [abs(corr[a, b]) for a in range(24) for b in range(24) if group[a] != group[b]]
    assert min(neighbours) > max(others)


def test_similarity_order_copes_with_constant_units_and_one_unit():
    hs, _ = planted()
    hs[:, 3] = 0.5  # does not change over the chunk
    assert sorted(hidden.similarity_order(hs).tolist()) == list(range(hs.shape[1]))
    assert hidden.similarity_order(np.zeros((5, 1))).tolist() == [0]


def test_unit_order_similar_keeps_the_most_variable_units():
    hs, _ = planted(per_group=10)  # 40 units
    hs[:, :5] *= 0.01  # the 5 least variable
    order = hidden.unit_order(hs, hidden.SIMILAR, max_units=35)
    assert sorted(order.tolist()) == list(range(5, 40))
    assert hidden.unit_order(hs, "unit number", max_units=3).tolist() == [0, 1, 2]
    assert hidden.UNIT_ORDERS[0] == hidden.SIMILAR  # the page's default


def test_notable_units_find_a_planted_space_unit():
    rng = np.random.default_rng(1)
    chars = list("the cat (sat) on 'the' mat\nand ran off\n")
    hs = np.tanh(rng.standard_normal((len(chars), 10)) * 0.5)
    hs[:, 7] = [0.9 if c == " " else -0.3 for c in chars]           # follows spaces
    hs[:, 2] = [-0.8 if c in "()" else 0.1 + 0.01 * i for i, c in enumerate(chars)]  # brackets, negatively
    hs[:, 4] = 0.3                                                    # constant: never picked
    found = {n.feature: n for n in hidden.notable_units(hs, chars, min_r=0.0)}
    assert found["spaces"].unit == 7 and found["spaces"].r == pytest.approx(1.0)
    assert found["spaces"].count == chars.count(" ")
    assert found["brackets"].unit == 2 and found["brackets"].r < -0.9
    assert found["line breaks"].count == 2 and found["quotes"].count == 2
    assert "digits" not in found and "capital letters" not in found  # none in the text
    assert all(n.unit != 4 for n in found.values())
    # one occurrence is not enough (some unit would match by chance), nor a weak correlation
    assert "line breaks" not in {n.feature for n in hidden.notable_units(hs, chars, min_count=3)}
    weak = hidden.notable_units(hs, chars, min_r=1.01)
    assert weak == []
    with pytest.raises(ValueError, match="characters"):
        hidden.notable_units(hs, chars[:-1])


def test_chosen_unit_and_marks():
    spaces = hidden.NotableUnit("spaces", 7, 0.9, 5)
    quotes = hidden.NotableUnit("quotes", 3, -0.95, 2)
    caps = hidden.NotableUnit("capital letters", 7, 0.4, 2)
    notables = [spaces, quotes, caps]
    assert hidden.chosen_unit(notables, "the unit that follows spaces", 0) == (7, spaces, "")
    unit, which, note = hidden.chosen_unit(notables, "the unit that follows brackets", 0)
    assert (unit, which) == (3, quotes) and "No unit follows brackets" in note  # the strongest instead
    assert hidden.chosen_unit(notables, hidden.CHOICES[-1], 11) == (11, None, "")
    unit, which, note = hidden.chosen_unit([], "the unit that follows spaces", 11)
    assert (unit, which) == (11, None) and "the unit on the right" in note
    with pytest.raises(ValueError):
        hidden.chosen_unit(notables, "nope", 0)
    assert hidden.unit_marks(notables) == {7: "spaces, capital letters", 3: "quotes"}
    text = hidden.describe_notables(notables, 800, 32)
    assert "**h7** spaces (r = +0.90)" in text and "**h3** quotes (r = -0.95)" in text
    assert "this step's 32 chunks, 800 characters" in text
    assert "No unit follows" in hidden.describe_notables([], 25, 1)


def test_read_hidden_takes_the_steps_streams(trainer: Trainer):
    seen = hidden.read_hidden(trainer, stream=1)
    assert seen is not None and seen.snap.trace.stream == 1
    assert seen.hs.shape == (3 * 10, 12) and len(seen.chars) == 30 and seen.streams_used == 3
    np.testing.assert_array_equal(seen.hs[10:20], trainer.chunk_trace(1).hs)
    few = hidden.read_hidden(trainer, stream=2, max_streams=1)  # stream 0, and the one shown
    assert few.streams_used == 2 and few.chars[10:] == trainer.chunk_trace(2).input_chars
    assert hidden.read_hidden(Trainer(corpus(), config()), 0) is None


# --- softmax ------------------------------------------------------------------------------------


def test_softmax_view_terms_sum_to_chunk_loss(trainer: Trainer):
    trace = trainer.chunk_trace(2)
    view = softmax.softmax_view(trace, trainer.corpus.vocab, k=4)
    assert view.top_p.shape == (10, 4)
    assert math.isclose(float(view.losses.sum()), trace.loss, rel_tol=1e-9)
    np.testing.assert_allclose(view.losses, -np.log(view.p_target))
    assert (np.diff(view.top_p, axis=1) <= 0).all()  # most likely first
    for t in range(10):  # the true next char is marked exactly where it is among the top k
        assert (view.targets[t] in view.top_chars[t]) == view.top_is_target[t].any()
    # With 3 streams, the recorded step loss is the mean of the streams' chunk losses.
    losses = [trainer.chunk_trace(s).loss for s in range(3)]
    assert math.isclose(view.mean_loss, float(np.mean(losses)), rel_tol=1e-9)


def test_softmax_table_total_row(trainer: Trainer):
    view = softmax.softmax_view(trainer.chunk_trace(0), trainer.corpus.vocab)
    table = softmax.softmax_table(view)
    assert len(table) == 11
    assert table["t"].iloc[-1] == "Σ"
    assert math.isclose(table["loss term -ln p"].iloc[-1], view.loss, rel_tol=1e-9)
    assert math.isclose(table["loss term -ln p"].iloc[:-1].sum(), view.loss, rel_tol=1e-9)


# --- your own text ------------------------------------------------------------------------------


def test_own_text_trace_matches_forward(trainer: Trainer):
    vocab = trainer.corpus.vocab
    text = "the dog ran on the mat."
    trace = own_text.own_text_trace(trainer.params, vocab, text, step=5)
    ids = vocab.encode(text)
    fw = forward(trainer.params, ids[:-1, None], ids[1:, None], np.zeros((1, 12)))
    assert trace.hs.shape == (len(text) - 1, 12)
    np.testing.assert_allclose(trace.hs, fw.hs[1:, 0])
    assert math.isclose(trace.loss, fw.loss, rel_tol=1e-12)
    assert trace.input_chars == list(text[:-1]) and trace.target_chars == list(text[1:])
    assert trace.dh_norms.shape == (len(text) - 1,)


def test_default_own_text_is_readable():
    vocab = corpus().vocab
    assert own_text.default_own_text(vocab, TEXT) == TEXT[:60]  # no capital B in the small corpus
    full = corpus(TEXT + own_text.OWN_TEXT_EXAMPLE)
    assert own_text.default_own_text(full.vocab, full.text) == own_text.OWN_TEXT_EXAMPLE


@pytest.mark.parametrize(("text", "message"), [
    ("the ☃ cat é", "not in the training text's vocabulary.*'é', '☃'"),
    ("t", "at least two characters"),
    ("t" * (own_text.MAX_OWN_TEXT + 2), "At most"),
])
def test_own_text_rejections(trainer: Trainer, text: str, message: str):
    with pytest.raises(ValueError, match=message):
        own_text.own_text_trace(trainer.params, trainer.corpus.vocab, text)


def test_own_text_unknown_whitespace_is_named_visibly(trainer: Trainer):
    with pytest.raises(ValueError, match="'⍽'"):
        own_text.own_text_trace(trainer.params, trainer.corpus.vocab, "the\u00a0cat")


# --- gradient flow ------------------------------------------------------------------------------


def test_vanishing_ratio():
    assert grad_flow.vanishing_ratio(np.array([0.1, 0.5, 1.0])) == pytest.approx(0.1)
    assert math.isnan(grad_flow.vanishing_ratio(np.array([1.0, 0.0])))


def test_reach_view_of_a_stream(trainer: Trainer):
    assert grad_flow.read_reach(Trainer(corpus(), config()), 0) is None  # before the first step
    inp = grad_flow.read_reach(trainer, stream=2)
    assert inp is not None and inp.snap.trace.stream == 2
    view = grad_flow.reach_view(inp)
    trace = trainer.chunk_trace(2)
    G = itemized_gradients(trainer.chunk_params(), trace.inputs, trace.targets, trace.h_prev)
    np.testing.assert_array_equal(view.G, G)
    np.testing.assert_array_equal(view.last, G[-1])
    np.testing.assert_array_equal(view.typical, reach_by_distance(G, geometric=True)[1])
    assert len(view.pair_d) == len(view.pair_g) == 10 * 11 // 2
    assert view.pair_g[view.pair_d == 9].tolist() == [G[9, 0]]  # the one pair 9 steps apart
    np.testing.assert_array_equal(view.dh_norms, trace.dh_norms)
    assert view.labels == [visible_char(c) for c in trace.input_chars]
    assert view.targets[-1] == visible_char(trace.target_chars[-1])


def hand_view(last: list[float], typical: list[float]) -> grad_flow.ReachView:
    T = len(last)
    return grad_flow.ReachView(step=1, stream=0, labels=["a"] * T, targets=["b"] * T, G=np.eye(T),
                               last=np.array(last), distances=np.arange(T), typical=np.array(typical),
                               pair_d=np.zeros(0), pair_g=np.zeros(0), dh_norms=np.ones(T))


def test_fading_in_numbers():
    view = hand_view([0.01, 0.1, 1.0], [2.0, 0.5, 0.02])
    assert view.per_step == pytest.approx(0.1)  # 1 -> 0.1 -> 0.01: a tenth per step back
    assert view.kept(2) == pytest.approx(0.01) and math.isnan(view.kept(3))
    words = grad_flow.describe_fading(view)
    assert "**1/100 of** its size at its own step, 2 steps later" in words
    assert "multiplies it by **0.10**" in words
    assert "2 steps back the typical gradient is **1/100 of**" in words
    growing = grad_flow.describe_fading(hand_view([4.0, 2.0, 1.0], [1.0, 1.5, 3.0]))
    assert "**4 ×**" in growing and "**2.00**" in growing and "**3 ×**" in growing
    assert math.isnan(hand_view([0.0, 1.0], [1.0, 0.0]).per_step)
    assert "no step to go back" in grad_flow.describe_fading(hand_view([1.0], [1.0]))


# --- weights ------------------------------------------------------------------------------------


def test_read_weights_shapes_labels_and_update(trainer: Trainer):
    K = len(trainer.corpus.vocab)
    U = weights.read_weights(trainer, "U")
    assert U.weights.shape == (12, K) and U.full_shape == (12, K) and not U.truncated
    assert U.row_labels[:2] == ["h0", "h1"] and U.col_labels[0] == "⇥"  # '\t' sorts first
    np.testing.assert_allclose(U.update, trainer.last_update()["U"])
    assert U.effective_lr is not None and (U.effective_lr > 0).all()
    V = weights.read_weights(trainer, "V")
    assert V.weights.shape == (K, 12) and V.row_labels[1] == "⏎"
    c = weights.read_weights(trainer, "c")
    assert c.weights.shape == (1, K) and c.row_labels == ["c"] and len(c.col_labels) == K
    small = weights.read_weights(trainer, "W", max_size=5)
    assert small.weights.shape == (5, 5) and small.truncated and small.full_shape == (12, 12)
    with pytest.raises(ValueError):
        weights.read_weights(trainer, "X")


def test_read_weights_sgd_has_no_effective_lr():
    t = Trainer(corpus(), config(optimizer="sgd"))
    t.run(2)
    assert weights.read_weights(t, "W").effective_lr is None
    summary = weights.read_weight_summary(t)
    assert summary["median step size"].tolist() == [t.config.lr] * 5


def test_weight_summary(trainer: Trainer):
    summary = weights.read_weight_summary(trainer)
    assert summary["parameter"].tolist() == ["U", "W", "V", "b", "c"]
    w = summary.set_index("parameter").loc["W"]
    assert w["‖θ‖"] == pytest.approx(float(np.linalg.norm(trainer.params["W"])))
    assert 0 < w["‖Δθ‖ / ‖θ‖"] < 1


# --- gradient check -----------------------------------------------------------------------------


def test_gradcheck_on_the_current_chunk_is_small(trainer: Trainer):
    args = gradcheck.read_gradcheck_input(trainer)
    assert args is not None
    result = gradcheck.run_gradcheck(*args)
    assert set(result.errors) == {"U", "W", "V", "b", "c"}
    assert max(result.errors.values()) < 1e-5
    assert result.step == 5 and result.steps_checked == 10 and 1 <= result.entries <= 10
    table = gradcheck.gradcheck_table(result)
    assert set(table["verdict"]) == {"correct"}


def test_gradcheck_before_training_and_budget():
    assert gradcheck.read_gradcheck_input(Trainer(corpus(), config())) is None
    assert gradcheck.gradcheck_entries(25, 128, 100) == 10
    assert gradcheck.gradcheck_entries(50, 1024, 1000) == 1


# --- sampling -----------------------------------------------------------------------------------


def test_generate_uses_only_the_vocabulary_and_is_reproducible(session: TrainingSession):
    session.step_once()
    req = sd.SampleRequest(seed_text="the ", length=80, temperature=0.9, top_k=0, rng_seed=7)
    a, b = sd.generate(session, req), sd.generate(session, req)
    vocab = set(session.trainer.corpus.vocab.chars)
    assert len(a.text) == 80 and set(a.text) <= vocab
    assert a.text == b.text and a.step == 1
    assert a.top_p.shape == (80, sd.DISPLAY_TOP)
    assert (a.chosen_p > 0).all()


def test_generate_top_k_and_greedy(session: TrainingSession):
    session.step_once()
    top2 = sd.generate(session, sd.SampleRequest(length=50, top_k=2, rng_seed=1))
    assert (top2.top_p[:, 2:] == 0).all()
    assert all(c in row[:2] for c, row in zip(top2.visible, top2.top_chars, strict=True))
    greedy = sd.generate(session, sd.SampleRequest(seed_text="the", length=30, greedy=True, rng_seed=1))
    assert all(row[0] == c for c, row in zip(greedy.visible, greedy.top_chars, strict=True))


@pytest.mark.parametrize(("req", "message"), [
    (sd.SampleRequest(seed_text="☃"), "never seen"),
    (sd.SampleRequest(temperature=0.0), "temperature"),
    (sd.SampleRequest(length=0), "Length"),
    (sd.SampleRequest(length=sd.MAX_LENGTH + 1), "Length"),
])
def test_generate_rejects_bad_requests(session: TrainingSession, req: sd.SampleRequest, message: str):
    with pytest.raises(ValueError, match=message):
        sd.generate(session, req)


def test_reveal_prefixes():
    frames = sd.reveal_prefixes("abcdefghij", frames=4)
    assert frames[-1] == "abcdefghij" and len(frames) == 4
    assert all(frames[i + 1].startswith(frames[i]) for i in range(3))
    assert sd.reveal_prefixes("ab", frames=10) == ["a", "ab"]
    assert sd.reveal_prefixes("") == [""]


def test_position_table_marks_the_drawn_character(session: TrainingSession):
    result = sd.generate(session, sd.SampleRequest(length=20, greedy=True))
    table = sd.position_table(result, 3)
    assert table["drawn"].tolist()[0] is True and table["rank"].tolist()[0] == 1


def test_fresh_seeds_differ_and_fit_the_seed_box():
    seeds = {sd.fresh_seed() for _ in range(20)}
    assert len(seeds) == 20 and all(0 <= s <= sd.MAX_SEED for s in seeds)


def test_describe_draw_names_the_seed_whenever_chance_played_a_part():
    assert sd.describe_draw(sd.SampleRequest(rng_seed=42)) == "random seed 42"
    assert sd.describe_draw(sd.SampleRequest(seed_text="a", greedy=True, rng_seed=42)) == "greedy"
    assert "random seed 42" in sd.describe_draw(sd.SampleRequest(greedy=True, rng_seed=42))


def test_sample_html_shows_the_seed_inline_and_escapes_everything():
    body = sd.sample_html("<b>Dear & 'you'", "</span><script>x()</script>\nline two")
    assert '<span class="seed"' in body and "&lt;b&gt;Dear &amp; &#x27;you&#x27;</span>" in body
    assert body.index('class="seed"') < body.index('class="generated"')  # the seed first
    assert "<script>" not in body and "&lt;/span&gt;&lt;script&gt;x()&lt;/script&gt;\nline two" in body
    assert "white-space: pre-wrap" in body  # line breaks kept
    assert "seed text" in body  # the legend
    bare = sd.sample_html("", "abc")
    assert 'class="seed"' not in bare and "random character" in bare
    assert "then what the network wrote" not in sd.sample_html("x", "abc", legend=False)


@pytest.mark.parametrize(("n", "position", "width", "window"), [
    (200, 0, 40, (0, 40)), (200, 100, 40, (80, 120)), (200, 199, 40, (160, 200)),
    (200, 30, 40, (10, 50)), (25, 12, 40, (0, 25)), (1, 0, 40, (0, 1)), (200, 500, 40, (160, 200)),
])
def test_distribution_window(n: int, position: int, width: int, window: tuple[int, int]):
    assert sd.distribution_window(n, position, width) == window
    start, stop = window
    assert start <= min(position, n - 1) < stop


def timeline_item(step: int, text: str = "abc") -> TimelineSample:
    return TimelineSample(step=step, chars_seen=step * 800, smooth_bpc=2.5, text=text)


def test_timeline_shown_is_evenly_spaced_from_first_to_newest():
    items = [timeline_item(i) for i in range(200)]
    shown = sd.timeline_shown(items, most=40)
    steps = [s.step for s in shown]
    assert len(shown) == 40 and steps[0] == 0 and steps[-1] == 199 and steps == sorted(steps)
    assert max(np.diff(steps)) - min(np.diff(steps)) <= 1
    assert sd.timeline_shown(items[:5], most=40) == items[:5]


def test_timeline_html_oldest_first_whole_and_with_thousands_separators():
    items = [timeline_item(12_345, "first\nsample <i>"), timeline_item(67_890, "x" * 300)]
    body = sd.timeline_html(items, "Th&")
    assert body.index("step 12,345") < body.index("step 67,890")  # oldest first
    assert "9,876,000 characters trained on" in body and "2.50 bits/char" in body
    assert "first\nsample &lt;i&gt;" in body and "x" * 300 in body  # whole, escaped
    assert body.count('class="seed"') == 2 and "Th&amp;" in body


def test_timeline_settings(session: TrainingSession):
    session.step_once()
    req = sd.SampleRequest(seed_text="the", length=1000, temperature=0.5, top_k=3, rng_seed=2)
    session.set_sample_settings(req.timeline_settings(every_steps=5000))
    s = session.sample_settings
    assert (s.seed_text, s.length, s.temperature, s.top_k, s.every_steps) == ("the", sd.TIMELINE_MAX_LENGTH,
                                                                              0.5, 3, 5000)
    items = session.timeline_items()
    assert len(items) == 1 and items[0].step == 1 and len(items[0].text) == sd.TIMELINE_MAX_LENGTH
    assert sd.describe_settings(s) == ("About every 5,000 steps · 300 characters · temperature 0.5, "
                                       "top-k 3 · random seed 2")
    assert sd.describe_settings(SampleSettings()).startswith("Every few seconds")
