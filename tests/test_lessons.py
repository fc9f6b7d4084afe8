"""The lessons (ui/views/lessons.py): every setting in bounds, every lesson a link can carry, and
each lesson's promise kept in a short engine run with its own fixed seed (steps, never seconds)."""

from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from bench.minchar import MinCharRNN
from rnn_core.config import PRESETS
from rnn_core.corpus import BUILTINS, load_builtin
from rnn_core.sampling import sample
from rnn_core.trainer import DivergenceError, Trainer
from rnn_core.units import bits_per_char, uniform_loss
from ui.session.limits import check_config
from ui.views.lessons import BY_KEY, LESSONS
from ui.views.setup import link_url, read_link

SEEDS = (0, 1)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """As the app trains (rnn_core.tuning): one BLAS thread, and the same sums in the same order."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def corpus(name: str):
    return load_builtin(name)


def trainer(key: str, seed: int | None = None, **changes) -> Trainer:
    setup = BY_KEY[key].setup
    config = setup.config.replace(**changes) if seed is None else setup.config.replace(seed=seed, **changes)
    return Trainer(corpus(setup.corpus), config, val_share=None)  # validation when due, whatever the time


def test_there_are_four_to_six_lessons_with_stable_distinct_keys():
    assert 4 <= len(LESSONS) <= 6
    assert len(BY_KEY) == len(LESSONS) == len({lesson.title for lesson in LESSONS})
    for lesson in LESSONS:
        assert re.fullmatch(r"[a-z]+", lesson.key)
        sentences = re.findall(r"[.!?](\s|$)", lesson.watch)
        assert 1 <= len(sentences) <= 2 and len(lesson.watch) < 400, lesson.key  # one or two sentences


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_every_setting_is_in_bounds_and_a_link_carries_it(lesson):
    setup = lesson.setup
    assert setup.corpus in BUILTINS and setup.preset in PRESETS
    assert check_config(setup.config, len(corpus(setup.corpus).vocab)) == setup.config
    query = parse_qs(urlsplit(link_url("http://host", "", setup)).query)
    read = read_link(query, lambda name: len(corpus(name).vocab))
    assert read.ignored == () and read.setup == setup


def _zen_lines(t: Trainer, samples: int = 5) -> tuple[int, int]:
    """(lines that are lines of the Zen, complete lines) in `samples` 300-character samples: one
    sample's few lines swing with the rounding of the machine's BLAS kernels, five together less."""
    zen = set(t.corpus.text.split("\n"))
    known = total = 0
    for rng in range(samples):
        text = sample(t.params, t.corpus.vocab, 300, seed_text="\n", temperature=0.5, rng=rng).text
        lines = [line for line in text.split("\n")[:-1] if line]  # the last one may be cut off
        known, total = known + sum(line in zen for line in lines), total + len(lines)
    return known, total


def _chunk_bpc(t: Trainer, rows: slice) -> np.ndarray:
    return bits_per_char(t.history.column("loss")[rows], t.config.seq_len)


def test_zen_memorised_while_validation_rises():
    t = trainer("zen")
    t.run(200)
    val_early = t.validation_bpc()
    t.run(1800)
    assert np.mean(_chunk_bpc(t, slice(-100, None))) < 0.2  # nearly 0 bits per character: memorised
    known, lines = _zen_lines(t)
    assert lines >= 20 and known / lines >= 0.5  # the samples recite its lines
    assert t.validation_bpc() > val_early + 1  # on lines it never trains on, it gets worse


def test_zen_stays_memorised():
    """No relapse while the audience watches: at lr 5e-3 Adam's chunk loss went back up to 2-10
    bits/char for about a thousand steps every few thousand (from step 5,000 with this seed)."""
    t = trainer("zen")
    t.run(8000)
    steps = t.history.column("step")
    for start in range(2000, 8000, 500):
        stretch = (steps > start) & (steps <= start + 500)
        assert np.median(_chunk_bpc(t, stretch)) < 0.2, start


def test_docs_words_and_under_3_bits_in_1500_steps():
    t = trainer("docs")
    t.run(1500)
    assert t.validation_bpc() < 3.0
    text = corpus("python-docs").text
    counts = Counter(re.findall(r"[a-z]+", text))
    words = {w for w, n in counts.items() if n >= 20 and len(w) >= 3}  # tests/e2e/measure.py's rule
    got = re.findall(r"[a-z]+", sample(t.params, t.corpus.vocab, 300, rng=0).text.lower())
    assert len({w for w in got if w in words}) >= 5


def test_faithful_is_min_char_rnn_to_the_letter():
    setup = BY_KEY["faithful"].setup
    cfg = setup.config
    assert cfg.exact and cfg == PRESETS["min-char-rnn"].replace(init="randn")
    assert (cfg.hidden, cfg.seq_len, cfg.lr, cfg.clip, cfg.clip_mode, cfg.optimizer) == (
        100, 25, 0.1, 5.0, "value", "adagrad")
    t = trainer("faithful")
    p = t.params
    assert np.all(p["b"] == 0) and np.all(p["c"] == 0)  # the gist's init: zero biases,
    for name in ("U", "W", "V"):                          # weights 0.01 * N(0, 1)
        assert abs(float(np.std(p[name])) - 0.01) < 0.001 and abs(float(np.mean(p[name]))) < 0.001
    assert t.smooth_loss == uniform_loss(len(t.corpus.vocab), 25)  # starts at a uniform guess's
    # Step for step the gist's loop, from these weights (as tests/test_bench_minchar.py checks).
    ref = MinCharRNN(t.corpus.text[: len(t.train_data)], cfg.hidden, cfg.seq_len, cfg.lr, params=t.params,
                     chars=t.corpus.vocab.chars)
    # At this size (H 100, K 103) the two loops' different orders of summing round differently,
    # and training amplifies that: ~1e-16 at first, ~1e-10 by step 20, ~1e-6 by step 60.
    for _ in range(10):
        record = t.step()
        ref.step()
        assert record.loss == pytest.approx(ref.loss, rel=1e-11, abs=0)
    for name, weights in ref.params().items():
        np.testing.assert_allclose(t.params[name], weights, rtol=0, atol=1e-10)
    t.run(990)
    assert 4.5 < bits_per_char(t.smooth_loss, 25) < math.log2(len(t.corpus.vocab))  # falls, slowly


@pytest.mark.parametrize("seed", SEEDS)
def test_clip_or_explode(seed):
    t = trainer("clip", seed)
    t.run(1000)  # with clipping: no divergence
    pre, post = t.history.column("global_pre"), t.history.column("global_post")
    clipped = pre > t.config.clip
    assert clipped.mean() > 0.9 and np.allclose(post[clipped], t.config.clip, rtol=1e-6)  # flat at 5
    assert bits_per_char(t.smooth_loss, 25) < math.log2(len(t.corpus.vocab)) - 1
    t.apply_live(clip_mode="off")
    with pytest.raises(DivergenceError) as info:
        t.run(20)  # "within a few steps"
    assert info.value.back_to == 1000 and t.step_count == 1000  # it went back
    t.apply_live(clip_mode="norm")
    t.run(500)  # and goes on
    assert t.step_count == 1500


@pytest.mark.parametrize("seed", SEEDS)
def test_sgd_blows_up_where_adagrad_trains(seed):
    with pytest.raises(DivergenceError) as info:
        trainer("sgd", seed).run(20)
    assert info.value.step <= 20
    t = trainer("sgd", seed, optimizer="adagrad")  # the lesson's one change, then Reset
    t.run(1000)
    assert bits_per_char(t.smooth_loss, 25) < math.log2(len(t.corpus.vocab)) - 1
