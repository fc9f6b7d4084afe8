"""The trainer: min-char-rnn equivalence, batched streams, records, inspection, live settings,
bounded history, validation and non-finite safety.

The reference below is Karpathy's min-char-rnn written out again, independently of rnn_core:
column vectors, one-hot x, np.dot, dhnext, np.clip(..., out=...), Adagrad, the pointer that
wraps (resetting hprev) and hprev = hs[last]. Weights use the gist's names (Wxh, Whh, Why, bh,
by) = the article's (U, W, V, b, c).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import rnn_core.model as rnn_cell
import rnn_core.trainer as trainer_module
from bench.minchar import GIST, MinCharRNN, from_gist, lossFun, to_gist
from rnn_core.config import NEEDS_RESET, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import CorpusError, corpus_from_text, load_builtin
from rnn_core.model import PARAM_NAMES
from rnn_core.trainer import STEP_COLUMNS, DivergenceError, Trainer
from tests.rnn_support import SMALL_TEXT, Losses, small_corpus, tiny_config


def min_char_rnn(corpus, params, seq_length, lrs, clip=5.0) -> MinCharRNN:
    """The reference (bench/minchar.py) from `params`, run for len(lrs) iterations at those
    learning rates, recording its gradient norms before clipping."""
    ref = MinCharRNN(corpus.text, params["W"].shape[0], seq_length, lrs[0], params=params,
                     chars=corpus.vocab.chars, clip=clip, record_norms=True)
    losses, smooth = [], []
    for lr in lrs:
        ref.learning_rate = lr
        ref.step()
        losses.append(ref.loss)
        smooth.append(ref.smooth_loss)
    ref.losses, ref.smooth_losses = losses, smooth
    return ref


def batched_reference(data_ids, B, P, seq_length, steps, lr=0.1, clip=5.0):
    """B independent min-char-rnn streams over B equal segments of the data, one update per step
    from the mean of their losses and gradients (the batching the trainer documents)."""
    L = len(data_ids) // B
    segments = [list(data_ids[i * L : (i + 1) * L]) for i in range(B)]
    mem = {k: np.zeros_like(v) for k, v in P.items()}
    hidden_size = P["Whh"].shape[0]
    p, losses = 0, []
    for n in range(steps):
        if p + seq_length + 1 >= L or n == 0:
            hprevs = [np.zeros((hidden_size, 1)) for _ in range(B)]
            p = 0
        total_loss, total = 0.0, {k: np.zeros_like(v) for k, v in P.items()}
        for i, seg in enumerate(segments):
            loss, d, hprevs[i], _ = lossFun(P, seg[p : p + seq_length], seg[p + 1 : p + seq_length + 1],
                                            hprevs[i])
            total_loss += loss
            for k in total:
                total[k] += d[k]
        for k in total:
            g = np.clip(total[k] / B, -clip, clip)
            mem[k] += g * g
            P[k] += -lr * g / np.sqrt(mem[k] + 1e-8)
        losses.append(total_loss / B)
        p += seq_length
    return losses


# --- exact mode --------------------------------------------------------------------------------


@pytest.mark.parametrize("clip", [5.0, 0.05])
def test_exact_mode_is_min_char_rnn_for_50_adagrad_steps(clip):
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config(clip=clip))
    assert trainer.config.exact and trainer.config.init == "uniform"
    initial = trainer.snapshot_params()
    ref = min_char_rnn(corpus, trainer.params, 10, [0.1] * 50, clip=clip)
    assert ref.wraps >= 3  # the pointer wrapped (and hprev was reset) within the 50 steps

    records = trainer.run(50)

    np.testing.assert_allclose([r.loss for r in records], ref.losses, rtol=0, atol=1e-10)
    np.testing.assert_allclose([r.smooth_loss for r in records], ref.smooth_losses, rtol=0, atol=1e-10)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(trainer.params[k], ref.params()[k], rtol=0, atol=1e-10)
        pre = [r.clip.norm_pre[k] for r in records]
        np.testing.assert_allclose(pre, [n[GIST[k]] for n in ref.norms], rtol=1e-9)
    moved = max(np.abs(trainer.params[k] - initial[k]).max() for k in PARAM_NAMES)
    assert moved > 1e-3  # the weights really move, so agreement is not trivial
    clipped = [r.clip.clipped_fraction for r in records]
    assert (max(clipped) > 0.1) == (clip < 1)  # with clip 0.05 clipping is really exercised


def test_exact_mode_first_step_from_randn_init():
    # From 0.01 * randn some gradients are near zero and Adagrad's first step is +-lr whatever
    # their size, so only one step is compared (multi-step agreement is tested from uniform init).
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config(init="randn"))
    assert np.std(trainer.params["W"]) == pytest.approx(0.01, rel=0.2)
    ref = min_char_rnn(corpus, trainer.params, 10, [0.1])
    record = trainer.step()
    assert record.loss == pytest.approx(ref.loss, rel=1e-13)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(trainer.params[k], ref.params()[k], rtol=0, atol=1e-12)


def test_smooth_loss_starts_at_uniform_guess_and_moves_by_0999_0001():
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config())
    K = len(corpus.vocab)
    assert trainer.smooth_loss == pytest.approx(-math.log(1.0 / K) * 10, rel=1e-15)
    smooth = trainer.smooth_loss
    for record in trainer.run(20):
        smooth = smooth * 0.999 + record.loss * 0.001
        assert record.smooth_loss == pytest.approx(smooth, rel=1e-14)


def test_batched_streams_are_independent_min_char_rnn_streams():
    # Loss = mean of B single-stream chunk losses; gradient = mean of their gradients; each stream
    # reads its own segment with its own carried state; all wrap together.
    corpus = corpus_from_text(SMALL_TEXT * 2, seq_len=10)
    B = 3
    trainer = Trainer(corpus, tiny_config(batch=B))
    assert trainer.streams == B and not trainer.config.exact
    P = to_gist(trainer.params)
    ref_losses = batched_reference(corpus.data, B, P, 10, steps=25)  # segments of 92: wraps at 9
    records = trainer.run(25)
    np.testing.assert_allclose([r.loss for r in records], ref_losses, rtol=0, atol=1e-10)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(trainer.params[k], from_gist(P)[k], rtol=0, atol=1e-10)
    assert records[-1].chars_seen == 25 * B * 10


def test_float32_tracks_float64():
    corpus = small_corpus()
    runs = {dt: Trainer(corpus, tiny_config(batch=2, dtype=dt)).run(20) for dt in ("float64", "float32")}
    assert Trainer(corpus, tiny_config(dtype="float32")).params["W"].dtype == np.float32
    np.testing.assert_allclose([r.loss for r in runs["float32"]], [r.loss for r in runs["float64"]],
                               rtol=1e-3)


def test_batch_larger_than_the_text_allows_uses_the_streams_that_fit():
    trainer = Trainer(small_corpus(), tiny_config(batch=100))
    assert trainer.streams == len(SMALL_TEXT) // 11
    assert trainer.step().chars_seen == trainer.streams * 10


def test_text_too_short_for_the_chunk_is_a_corpus_error():
    corpus = corpus_from_text("abcdefghijkl", seq_len=10)
    with pytest.raises(CorpusError, match="too short"):
        Trainer(corpus, tiny_config(seq_len=20))


# --- learning ----------------------------------------------------------------------------------


@pytest.mark.parametrize("init, tolerance", [("randn", 0.002), ("uniform", 0.06)])
def test_loss_at_init_is_uniform_guess(init, tolerance):
    corpus = small_corpus()
    K = len(corpus.vocab)
    trainer = Trainer(corpus, tiny_config(init=init, hidden=32))
    assert trainer.initial_loss == pytest.approx(-math.log(1.0 / K) * 10)
    assert trainer.step().loss == pytest.approx(-math.log(1.0 / K) * 10, rel=tolerance)


def test_loss_falls_clearly_within_a_few_hundred_steps():
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config(hidden=16))
    losses = [r.loss for r in trainer.run(200)]
    assert np.mean(losses[-13:]) < 0.4 * trainer.initial_loss  # the last pass over the text
    assert trainer.last_record.smooth_loss < trainer.initial_loss


def test_same_seed_same_run_bitwise_and_reset_starts_it_again():
    corpus = small_corpus()
    a, b = Trainer(corpus, tiny_config(batch=2)), Trainer(corpus, tiny_config(batch=2))
    first = a.snapshot_params()
    losses_a = [r.loss for r in a.run(15)]
    losses_b = [r.loss for r in b.run(15)]
    assert losses_a == losses_b
    for k in PARAM_NAMES:
        assert np.array_equal(a.params[k], b.params[k])
        assert not np.array_equal(a.params[k], first[k])  # training moved them
    a.reset()
    assert a.step_count == 0 and a.chars_seen == 0 and len(a.history) == 0
    for k in PARAM_NAMES:
        assert np.array_equal(a.params[k], first[k])
    assert [r.loss for r in a.run(15)] == losses_a


def test_different_seed_different_weights():
    corpus = small_corpus()
    a, b = Trainer(corpus, tiny_config(seed=1)), Trainer(corpus, tiny_config(seed=2))
    for k in ("U", "W", "V"):
        assert not np.allclose(a.params[k], b.params[k])


# --- records and inspection --------------------------------------------------------------------


def test_step_records_and_history_rows():
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config(batch=2, clip=0.1))
    records = trainer.run(5)
    for i, r in enumerate(records, start=1):
        assert r.step == i and r.chars_seen == i * 2 * 10 and r.seq_len == 10 and r.lr == 0.1
        assert r.bpc == pytest.approx(r.loss / 10 / math.log(2))
        assert r.smooth_bpc == pytest.approx(r.smooth_loss / 10 / math.log(2))
        assert set(r.clip.norm_pre) == set(PARAM_NAMES) == set(r.clip.norm_post)
        assert r.clip.global_post <= r.clip.global_pre
        assert r.clip.global_pre == pytest.approx(math.sqrt(sum(v * v for v in r.clip.norm_pre.values())))
        assert 0 < r.clip.clipped_fraction <= 1
        assert r.step_time >= 0 and r.val_bpc is None
        row = r.as_row()
        assert set(STEP_COLUMNS) <= set(row)
        assert row["pre_W"] == r.clip.norm_pre["W"] and row["post_V"] == r.clip.norm_post["V"]
    times = [r.time for r in records]
    assert times == sorted(times) and trainer.train_time == times[-1]
    assert trainer.last_record is records[-1]
    hist = trainer.history.as_dict()
    assert list(hist["step"]) == [1, 2, 3, 4, 5]
    assert list(hist["loss"]) == [r.loss for r in records]
    assert list(hist["global_post"]) == [r.clip.global_post for r in records]


def test_chunk_trace_matches_the_reference_chunk():
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config())
    assert trainer.chunk_trace() is None
    trainer.run(3)
    before = trainer.snapshot_params()
    record = trainer.step()  # the 4th chunk: text[30:40] -> text[31:41]
    trace = trainer.chunk_trace()
    assert trace.step == 4 and trace.stream == 0
    assert "".join(trace.input_chars) == SMALL_TEXT[30:40]
    assert "".join(trace.target_chars) == SMALL_TEXT[31:41]
    T, H, K = 10, 12, len(corpus.vocab)
    assert trace.hs.shape == (T, H) and trace.ps.shape == (T, K) and trace.h_prev.shape == (H,)
    assert trace.losses.shape == (T,) and trace.dh_norms.shape == (T,)
    np.testing.assert_allclose(trace.ps.sum(axis=1), 1.0, rtol=1e-12)
    assert trace.losses.sum() == pytest.approx(trace.loss, rel=1e-12)
    assert trace.loss == pytest.approx(record.loss, rel=1e-12) == trace.mean_loss
    _, _, _, ref = lossFun(to_gist(before), list(trace.inputs), list(trace.targets),
                           trace.h_prev.reshape(H, 1), trace=True)
    np.testing.assert_allclose(trace.losses, ref["losses"], rtol=1e-10)
    np.testing.assert_allclose(trace.ps, ref["ps"], rtol=1e-10)
    np.testing.assert_allclose(trace.hs, ref["hs"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.dh_norms, ref["dh_norms"], rtol=1e-10)
    assert np.abs(trace.h_prev).max() > 0  # the state carried in from chunk 3


def test_chunk_trace_of_each_stream():
    corpus = small_corpus()
    B = 3
    trainer = Trainer(corpus, tiny_config(batch=B))
    trainer.run(2)
    before = trainer.snapshot_params()
    record = trainer.step()
    L = trainer.segment_len
    traces = [trainer.chunk_trace(i) for i in range(B)]
    assert np.mean([t.loss for t in traces]) == pytest.approx(record.loss, rel=1e-12)
    for i, trace in enumerate(traces):
        assert "".join(trace.input_chars) == SMALL_TEXT[i * L + 20 : i * L + 30]
        assert trace.mean_loss == pytest.approx(record.loss)
        # ||dL_i/dh(t)|| of the stream's own chunk loss, as if it were trained alone
        _, _, _, ref = lossFun(to_gist(before), list(trace.inputs), list(trace.targets),
                           trace.h_prev.reshape(-1, 1), trace=True)
        np.testing.assert_allclose(trace.dh_norms, ref["dh_norms"], rtol=1e-10)
    with pytest.raises(ValueError, match="stream"):
        trainer.chunk_trace(B)


def test_optimizer_inspection():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(3)
    before = {k: a.copy() for k, a in trainer.params.items()}
    trainer.step()
    for k in PARAM_NAMES:
        # the change the update made: the weights are the weights before plus it, bit for bit
        np.testing.assert_array_equal(trainer.params[k], before[k] + trainer.last_update()[k])
        np.testing.assert_allclose(trainer.effective_lr()[k],
                                   0.1 / np.sqrt(trainer.optimizer.state["mem"][k] + 1e-8))
    assert Trainer(small_corpus(), tiny_config(optimizer="sgd")).effective_lr() is None


# --- live settings -----------------------------------------------------------------------------


def test_learning_rate_changes_between_steps_without_reset():
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config())
    ref = min_char_rnn(corpus, trainer.params, 10, [0.1] * 8 + [0.02] * 4 + [0.3] * 4)
    trainer.run(8)
    trainer.set_lr(0.02)
    assert [r.lr for r in trainer.run(4)] == [0.02] * 4
    trainer.apply_live(lr=0.3)
    records = trainer.run(4)
    assert records[-1].step == 16 and records[-1].lr == 0.3
    for k in PARAM_NAMES:
        np.testing.assert_allclose(trainer.params[k], ref.params()[k], rtol=0, atol=1e-10)


def test_clip_settings_change_live():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(2)
    trainer.apply_live(clip_mode="norm", clip=0.5)
    record = trainer.step()
    assert record.clip.global_pre > 0.5
    assert record.clip.global_post == pytest.approx(0.5)
    trainer.apply_live(clip_mode="off")
    record = trainer.step()
    assert record.clip.norm_post == record.clip.norm_pre and record.clip.clipped_fraction == 0


@pytest.mark.parametrize("key", NEEDS_RESET)
def test_settings_that_need_a_new_model_are_rejected(key):
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(2)
    config, weights = trainer.config, trainer.snapshot_params()
    new = {"hidden": 20, "seq_len": 5, "batch": 2, "dtype": "float32", "init": "randn", "seed": 9,
           "optimizer": "adam", "val_fraction": 0.2, "cell": "lstm"}[key]
    with pytest.raises(ConfigError, match=key):
        trainer.apply_live(**{key: new})
    assert trainer.config == config and trainer.step_count == 2
    assert all(np.array_equal(trainer.params[k], weights[k]) for k in PARAM_NAMES)


@pytest.mark.parametrize("changes", [{"lr": -1.0}, {"lr": float("nan")}, {"lr": "fast"}, {"clip": 0},
                                     {"clip_mode": "sometimes"}, {"val_every": -1}, {"momentum": 0.5}])
def test_bad_live_values_are_rejected_and_change_nothing(changes):
    trainer = Trainer(small_corpus(), tiny_config())
    config = trainer.config
    with pytest.raises(ConfigError):
        trainer.apply_live(**changes)
    assert trainer.config == config
    trainer.step()


# --- bounded history and validation -----------------------------------------------------------


def test_history_stays_bounded_and_evenly_spaced(monkeypatch):
    monkeypatch.setattr(trainer_module, "HISTORY_CAP", 8)
    trainer = Trainer(small_corpus(), tiny_config(hidden=4))
    records = trainer.run(150)
    steps = trainer.history.column("step")
    assert 8 <= len(steps) <= 16
    assert steps[0] == 1 and len(set(np.diff(steps))) == 1
    assert 150 - steps[-1] < trainer.history.stride
    losses = {r.step: r.loss for r in records}
    assert list(trainer.history.column("loss")) == [losses[s] for s in steps]


def test_validation_bpc_is_the_held_out_tail_read_from_zero_state():
    corpus = corpus_from_text(SMALL_TEXT * 4, seq_len=10)
    trainer = Trainer(corpus, tiny_config(val_fraction=0.25, val_every=5), val_share=None)
    n_val = int(len(corpus.data) * 0.25)
    assert len(trainer.val_data) == n_val and len(trainer.train_data) == len(corpus.data) - n_val
    records = trainer.run(12)
    assert [r.step for r in records if r.val_bpc is not None] == [5, 10]
    assert list(trainer.val_history.column("step")) == [5, 10]
    assert list(trainer.val_history.column("val_bpc")) == [records[4].val_bpc, records[9].val_bpc]
    # independently: up to VAL_STREAMS equal pieces of the held-out text, each read from a zero state
    val = corpus.data[-n_val:]
    S = min(trainer_module.VAL_STREAMS, len(val) - 1)
    assert S > 1 and (len(val) - 1) // S > 1  # several pieces of several characters
    L = (len(val) - 1) // S
    P = to_gist(trainer.params)
    total = sum(lossFun(P, list(val[i * L : (i + 1) * L]), list(val[i * L + 1 : (i + 1) * L + 1]),
                        np.zeros((12, 1)))[0] for i in range(S))
    assert trainer.validation_bpc() == pytest.approx(total / (S * L) / math.log(2), rel=1e-12)
    assert len(trainer.val_history) == 3  # an evaluation on demand is recorded too


def test_no_validation_without_held_out_text_or_with_val_every_zero():
    trainer = Trainer(small_corpus(), tiny_config(val_fraction=0.0, val_every=2))
    assert all(r.val_bpc is None for r in trainer.run(4)) and trainer.validation_bpc() is None
    trainer = Trainer(corpus_from_text(SMALL_TEXT * 4), tiny_config(val_fraction=0.2, val_every=0))
    assert all(r.val_bpc is None for r in trainer.run(4)) and len(trainer.val_history) == 0


def test_validation_keeps_to_its_share_of_the_training_time():
    # Exact mode on python-docs: a validation pass (10,000 characters) costs about as much as
    # dozens of training steps, so at val_every 10 most due evaluations wait for their turn.
    trainer = Trainer(load_builtin("python-docs"), TrainConfig(hidden=32, val_every=10))
    records = trainer.run(600)
    evaluated = [r.step for r in records if r.val_bpc is not None]
    assert evaluated[0] == 10 and all(s % 10 == 0 for s in evaluated)
    assert len(evaluated) < 30  # of 60 due
    # Each evaluation starts only while validation has used at most 5 % of the training time so
    # far, so the share overshoots by at most the last evaluation.
    last_cost = trainer.val_time / len(evaluated) * 3  # generous: evaluations vary in time
    assert trainer.val_time <= trainer_module.VAL_TIME_SHARE * trainer.train_time + last_cost
    unlimited = Trainer(load_builtin("python-docs"), TrainConfig(hidden=32, val_every=10), val_share=None)
    assert sum(r.val_bpc is not None for r in unlimited.run(100)) == 10


# --- state ---------------------------------------------------------------------------------------


def test_state_round_trip_continues_exactly():
    config = tiny_config(batch=3, optimizer="adam", lr=0.01)
    straight, other = Trainer(small_corpus(), config), Trainer(small_corpus(), config)
    straight.run(7)
    state = straight.state()
    other.load_state(state)
    state.params["W"][:] = 0  # a copy: changing it changes neither trainer
    assert straight.params["W"].any() and other.params["W"].any()
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(other.last_update()[k], straight.last_update()[k])
    assert [r.loss for r in other.run(5)] == [r.loss for r in straight.run(5)]
    assert other.step_count == straight.step_count == 12


def test_load_state_refuses_what_does_not_fit_and_changes_nothing():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(3)
    good = trainer.state()
    bad_states = {
        "shapes": Trainer(small_corpus(), tiny_config(hidden=7)).state(),
        "NaN": dataclasses.replace(good, params={**good.params, "V": np.full_like(good.params["V"], np.nan)}),
        "hidden state": dataclasses.replace(good, h=np.zeros((2, 12))),
        "optimizer": Trainer(small_corpus(), tiny_config(optimizer="adam")).state(),
    }
    for what, state in bad_states.items():
        with pytest.raises(ValueError):
            trainer.load_state(state)
        assert trainer.step_count == 3, what
        for k in PARAM_NAMES:
            np.testing.assert_array_equal(trainer.params[k], good.params[k])


@pytest.mark.parametrize("config", [tiny_config(), tiny_config(batch=3, optimizer="adam", lr=0.01),
                                    tiny_config(clip_mode="norm", clip=0.5)])
def test_peek_is_the_next_step_exactly_and_changes_nothing(config):
    trainer = Trainer(small_corpus(), config)
    trainer.run(7)
    before = trainer.state()
    preview = trainer.peek()
    after_peek = trainer.state()
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(after_peek.params[k], before.params[k])
        np.testing.assert_array_equal(after_peek.last_update[k], before.last_update[k])
    for slot, d in before.optimizer.slots.items():
        for k, a in d.items():
            np.testing.assert_array_equal(after_peek.optimizer.slots[slot][k], a)
    assert after_peek.optimizer.t == before.optimizer.t and trainer.step_count == 7
    record = trainer.step()
    assert preview.step == record.step == 8 and not preview.diverges
    assert preview.loss == record.loss and preview.clip == record.clip
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(trainer.params[k], preview.params_after[k])
        np.testing.assert_array_equal(preview.params_after[k],
                                      preview.params[k] + trainer.last_update()[k])
    np.testing.assert_array_equal(trainer.chunk_trace(0).hs, preview.forward.hs[1:, 0])


def test_peek_tells_when_the_step_would_diverge(losses):
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(3)
    losses.factor = 1000.0
    assert trainer.peek().diverges and trainer.step_count == 3


# --- divergence: back to the newest healthy snapshot --------------------------------------------


@pytest.fixture
def losses(monkeypatch) -> Losses:
    return Losses(monkeypatch)


def blown_up(trainer: Trainer, losses: Losses) -> DivergenceError:
    """One step whose loss exploded; the error it raised."""
    losses.factor = 1000.0
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    losses.factor = 1.0
    return info.value


def test_an_exploding_loss_goes_back_to_the_newest_snapshot(losses):
    trainer = Trainer(small_corpus(), tiny_config(), snapshot_every=5)
    trainer.run(12)
    at_10 = trainer.snapshots.newest
    assert at_10.step == 10 and at_10.reason == "periodic" and at_10.healthy(trainer.initial_loss)
    rows = trainer.history.appends
    e = blown_up(trainer, losses)
    assert (e.kind, e.step, e.back_to, e.undone) == ("loss_exploded", 13, 10, 2)
    assert e.loss > trainer.explosion_loss and math.isfinite(e.loss)
    assert e.uniform_loss == trainer.initial_loss
    assert e.snapshot_loss == at_10.loss
    assert trainer.step_count == 10 and trainer.p == at_10.state.p
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(trainer.params[k], at_10.state.params[k])
        assert not trainer.last_update()[k].any()
    assert trainer.history.appends == rows - 2 and trainer.history.column("step")[-1] == 10
    assert [r.step for r in trainer.run(3)] == [11, 12, 13]


def test_the_loss_recorded_with_a_snapshot_decides_whether_it_is_healthy(losses):
    trainer = Trainer(small_corpus(), tiny_config(), snapshot_every=4)
    trainer.run(4)
    losses.factor = 3.0  # worse than a uniform guess, not yet an explosion
    trainer.run(4)
    assert trainer.steps_above_uniform == 4
    losses.factor = 1.0
    assert [s.step for s in trainer.snapshots.items()] == [0, 4, 8]
    assert not trainer.snapshots.newest.healthy(trainer.initial_loss)
    assert blown_up(trainer, losses).back_to == 4
    assert trainer.steps_above_uniform == 0


def test_non_finite_gradients_are_a_divergence(monkeypatch):
    trainer = Trainer(small_corpus(), tiny_config(), snapshot_every=2)
    trainer.run(3)
    real_gradients = rnn_cell.gradients

    def inf_gradients(params, fw, out=None):
        grads, dh = real_gradients(params, fw, out)
        grads["V"][0, 0] = np.inf
        return grads, dh

    monkeypatch.setattr(rnn_cell, "gradients", inf_gradients)
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    assert (info.value.kind, info.value.step, info.value.back_to) == ("gradients_not_finite", 4, 2)
    monkeypatch.setattr(rnn_cell, "gradients", real_gradients)
    assert trainer.step().step == 3


def test_weights_made_infinite_by_an_update_are_found_at_the_next_snapshot():
    # One character's column of U at the edge of float64, and a velocity that pushes it over:
    # the update of step 5 makes it +inf. Steps 5 and 6 do not read that character, so their
    # losses are normal; the weights are checked when the snapshot of step 6 is due, and
    # training goes back to step 4.
    config = tiny_config(optimizer="momentum", lr=0.01)
    trainer, probe = Trainer(small_corpus(), config, snapshot_every=3), Trainer(small_corpus(), config)
    trainer.run(4)
    read = set()
    for _ in range(2):
        probe.run(5 - probe.step_count if probe.step_count < 5 else 1)
        read |= set(probe.chunk_trace(0).inputs)
    unread = sorted(set(range(trainer.vocab_size)) - read)[0]
    state = trainer.state()
    state.params["U"][:, unread] = 1.79e308
    state.optimizer.slots["velocity"]["U"][:, unread] = -1e308
    trainer.load_state(state)  # the loaded state is the newest snapshot
    trainer.step()
    assert np.isinf(trainer.params["U"][:, unread]).all()
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    assert (info.value.kind, info.value.step, info.value.back_to) == ("update_not_finite", 6, 4)
    assert info.value.loss < trainer.initial_loss
    assert all(np.isfinite(a).all() for a in trainer.params.values())
    assert trainer.optimizer.t == 4 and trainer.step_count == 4


def test_gradients_too_large_to_square_are_a_divergence(monkeypatch):
    trainer = Trainer(small_corpus(), tiny_config(clip_mode="off"), snapshot_every=2)
    trainer.run(3)
    real_gradients = rnn_cell.gradients

    def huge(params, fw, out=None):
        grads, dh = real_gradients(params, fw, out)
        grads["W"][0, 0] = 1e160  # finite, but its square overflows float64
        return grads, dh

    monkeypatch.setattr(rnn_cell, "gradients", huge)
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    assert (info.value.kind, info.value.back_to) == ("gradients_not_finite", 2)
    assert all(np.isfinite(d).all() for d in trainer.optimizer.state["mem"].values())


def test_divergence_on_the_first_step_goes_back_to_the_fresh_weights(losses):
    trainer = Trainer(small_corpus(), tiny_config())
    fresh = trainer.state()
    e = blown_up(trainer, losses)
    assert (e.step, e.back_to, e.undone) == (1, 0, 0)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(trainer.params[k], fresh.params[k])
    assert trainer.step().step == 1


def test_a_spoiled_snapshot_is_passed_over_when_it_diverges_again_after_a_change(losses):
    trainer = Trainer(small_corpus(), tiny_config(), snapshot_every=5)
    trainer.run(12)
    # the same settings fail from the same snapshot again; after a change, an older one is used
    for expected_back_to, lr in ((10, 0.1), (10, 0.1), (5, 0.05)):
        trainer.set_lr(lr)
        assert blown_up(trainer, losses).back_to == expected_back_to


def test_the_snapshot_ring_keeps_recent_steps_dense_and_reaches_back():
    trainer = Trainer(small_corpus(), tiny_config(), snapshot_every=10)
    trainer.run(400)
    steps = [s.step for s in trainer.snapshots.items()]
    assert len(steps) == trainer_module.SNAPSHOTS and steps[0] == 0 and steps[-1] == 400
    gaps = np.diff(steps)
    assert gaps[-1] == 10 and gaps[0] > gaps[-1]  # dense at the end, sparse at the start
    trainer.set_lr(0.05)  # the state before a change of settings is kept while others come and go
    trainer.run(400)
    assert 400 in [s.step for s in trainer.snapshots.items()]


def test_the_best_validation_state_is_kept_and_can_be_restored():
    corpus = corpus_from_text(SMALL_TEXT * 4, seq_len=10)
    trainer = Trainer(corpus, tiny_config(val_fraction=0.25, val_every=5), val_share=None)
    records = trainer.run(40)
    vals = {r.step: r.val_bpc for r in records if r.val_bpc is not None}
    best_step = min(vals, key=vals.get)
    assert trainer.best.step == best_step and trainer.best_val_bpc == vals[best_step]
    trainer.restore(trainer.best)
    assert trainer.step_count == best_step
    assert trainer.validation_bpc() == pytest.approx(vals[best_step], rel=1e-12)


def test_going_back_before_the_best_validation_forgets_it():
    corpus = corpus_from_text(SMALL_TEXT * 4, seq_len=10)
    trainer = Trainer(corpus, tiny_config(val_fraction=0.25, val_every=5), val_share=None,
                      snapshot_every=5)
    trainer.run(40)
    best = trainer.best
    later = [s for s in trainer.snapshots.items() if s.step >= best.step]
    earlier = [s for s in trainer.snapshots.items() if s.step < best.step]
    assert later and earlier
    trainer.restore(later[0])  # at or after the best: it is still this run's best
    assert trainer.best is best
    trainer.restore(earlier[-1])  # before it: the best belongs to the steps undone
    assert trainer.best is None and trainer.best_val_bpc == math.inf
    trainer.run(10)  # the next validation is the new best, with its state kept
    assert trainer.best is not None and trainer.best.step > earlier[-1].step
    assert trainer.best_val_bpc == min(trainer.val_history.column("val_bpc")[-2:])


def test_snapshots_cost_little_memory_at_the_default_preset():
    trainer = Trainer(load_builtin("python-docs"), PRESETS["fast"].replace(val_every=0))
    trainer.run(trainer_module.SNAPSHOT_EVERY * 8)
    per_state = trainer.snapshots.newest.state.nbytes
    total = trainer.snapshots.nbytes + per_state  # the best validation's state as well
    assert total <= 4 * 2**20, total


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_after_a_blow_up_a_lower_learning_rate_trains_on_below_a_uniform_guess(optimizer):
    # The app's scenario: training well, the learning rate raised until it blows up; training goes
    # back by itself, and with the learning rate lowered it trains on, better than a uniform guess.
    good_lr = {"sgd": 0.05, "momentum": 0.01, "adagrad": 0.1, "rmsprop": 3e-3, "adam": 3e-3}[optimizer]
    corpus = load_builtin("zen", seq_len=10)
    for seed in range(10):
        config = TrainConfig(hidden=24, seq_len=10, batch=4, optimizer=optimizer, lr=good_lr,
                             clip_mode="off", seed=seed, val_every=0)
        trainer = Trainer(corpus, config, snapshot_every=20)
        trainer.run(200)
        trainer.set_lr(min(good_lr * 1000, 10.0))
        with pytest.raises(DivergenceError):
            trainer.run(500)
        trainer.set_lr(good_lr / 3)
        records = trainer.run(150)
        assert np.mean([r.loss for r in records[-30:]]) < trainer.initial_loss, (seed, optimizer)


def test_run_for_stops_after_the_step_at_which_until_says_so():
    t = Trainer(small_corpus(), tiny_config())
    calls = []
    assert len(t.run_for(60, until=lambda: calls.append(1) or len(calls) >= 3)) == 3  # asked after each step
    assert len(t.run_for(60, until=lambda: True)) == 1  # at least one step
    assert len(t.run_for(60, max_steps=4)) == 4
