"""The trainer: min-char-rnn equivalence, batched streams, records, inspection, live settings,
bounded history, validation and non-finite safety.

The reference below is Karpathy's min-char-rnn written out again, independently of rnn_core:
column vectors, one-hot x, np.dot, dhnext, np.clip(..., out=...), Adagrad, the pointer that
wraps (resetting hprev) and hprev = hs[last]. Weights use the gist's names (Wxh, Whh, Why, bh,
by) = the article's (U, W, V, b, c).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import rnn_core.trainer as trainer_module
from rnn_core.config import NEEDS_RESET, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import CorpusError, corpus_from_text, load_builtin
from rnn_core.model import PARAM_NAMES
from rnn_core.trainer import STEP_COLUMNS, DivergenceError, Trainer
from tests.rnn_support import SMALL_TEXT, small_corpus, tiny_config

GIST = {"U": "Wxh", "W": "Whh", "V": "Why", "b": "bh", "c": "by"}


# --- the independent reference ---------------------------------------------------------------


def to_gist(params):
    H, K = params["U"].shape
    return {"Wxh": params["U"].astype(np.float64).copy(), "Whh": params["W"].astype(np.float64).copy(),
            "Why": params["V"].astype(np.float64).copy(),
            "bh": params["b"].astype(np.float64).reshape(H, 1).copy(),
            "by": params["c"].astype(np.float64).reshape(K, 1).copy()}


def from_gist(P):
    return {"U": P["Wxh"], "W": P["Whh"], "V": P["Why"], "b": P["bh"][:, 0], "c": P["by"][:, 0]}


def lossFun(P, inputs, targets, hprev):
    """min-char-rnn's lossFun (without its clipping), plus ||dh|| per step and the ps."""
    Wxh, Whh, Why, bh, by = P["Wxh"], P["Whh"], P["Why"], P["bh"], P["by"]
    vocab_size = Why.shape[0]
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    step_losses = []
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        step_losses.append(-np.log(ps[t][targets[t], 0]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    dh_norms = np.zeros(len(inputs))
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dh_norms[t] = np.sqrt(np.sum(dh * dh))
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    grads = {"Wxh": dWxh, "Whh": dWhh, "Why": dWhy, "bh": dbh, "by": dby}
    extra = {"hs": np.hstack([hs[t] for t in range(len(inputs))]).T,
             "ps": np.hstack([ps[t] for t in range(len(inputs))]).T,
             "losses": np.array(step_losses), "dh_norms": dh_norms}
    return loss, grads, hs[len(inputs) - 1], extra


def min_char_rnn(data, chars, P, seq_length, lrs, clip=5.0):
    """The gist's training loop for len(lrs) iterations, learning rate lrs[n] at iteration n.
    Updates P in place; returns per-iteration losses, smooth losses, pre-clip norms, wraps."""
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    vocab_size, hidden_size = len(chars), P["Whh"].shape[0]
    mem = {k: np.zeros_like(v) for k, v in P.items()}
    n, p = 0, 0
    smooth_loss = -np.log(1.0 / vocab_size) * seq_length
    out = {"loss": [], "smooth": [], "norms": [], "wraps": 0}
    while n < len(lrs):
        if p + seq_length + 1 >= len(data) or n == 0:
            hprev = np.zeros((hidden_size, 1))
            p = 0
            out["wraps"] += 1
        inputs = [char_to_ix[ch] for ch in data[p : p + seq_length]]
        targets = [char_to_ix[ch] for ch in data[p + 1 : p + seq_length + 1]]
        loss, d, hprev, _ = lossFun(P, inputs, targets, hprev)
        smooth_loss = smooth_loss * 0.999 + loss * 0.001
        out["norms"].append({k: np.sqrt(np.sum(d[k] ** 2)) for k in d})
        for dparam in d.values():
            np.clip(dparam, -clip, clip, out=dparam)
        for k in ("Wxh", "Whh", "Why", "bh", "by"):
            mem[k] += d[k] * d[k]
            P[k] += -lrs[n] * d[k] / np.sqrt(mem[k] + 1e-8)
        out["loss"].append(loss)
        out["smooth"].append(smooth_loss)
        p += seq_length
        n += 1
    return out


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
    P = to_gist(trainer.params)
    ref = min_char_rnn(corpus.text, corpus.vocab.chars, P, 10, [0.1] * 50, clip=clip)
    assert ref["wraps"] >= 3  # the pointer wrapped (and hprev was reset) within the 50 steps

    records = trainer.run(50)

    np.testing.assert_allclose([r.loss for r in records], ref["loss"], rtol=0, atol=1e-10)
    np.testing.assert_allclose([r.smooth_loss for r in records], ref["smooth"], rtol=0, atol=1e-10)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(trainer.params[k], from_gist(P)[k], rtol=0, atol=1e-10)
        pre = [r.clip.norm_pre[k] for r in records]
        np.testing.assert_allclose(pre, [n[GIST[k]] for n in ref["norms"]], rtol=1e-9)
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
    P = to_gist(trainer.params)
    ref = min_char_rnn(corpus.text, corpus.vocab.chars, P, 10, [0.1])
    record = trainer.step()
    assert record.loss == pytest.approx(ref["loss"][0], rel=1e-13)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(trainer.params[k], from_gist(P)[k], rtol=0, atol=1e-12)


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
                           trace.h_prev.reshape(H, 1))
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
                               trace.h_prev.reshape(-1, 1))
        np.testing.assert_allclose(trace.dh_norms, ref["dh_norms"], rtol=1e-10)
    with pytest.raises(ValueError, match="stream"):
        trainer.chunk_trace(B)


def test_optimizer_inspection():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(3)
    before = {k: a.copy() for k, a in trainer.params.items()}
    trainer.step()
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(trainer.last_update()[k], trainer.params[k] - before[k])
        np.testing.assert_allclose(trainer.effective_lr()[k],
                                   0.1 / np.sqrt(trainer.optimizer.state["mem"][k] + 1e-8))
    assert Trainer(small_corpus(), tiny_config(optimizer="sgd")).effective_lr() is None


# --- live settings -----------------------------------------------------------------------------


def test_learning_rate_changes_between_steps_without_reset():
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config())
    P = to_gist(trainer.params)
    min_char_rnn(corpus.text, corpus.vocab.chars, P, 10, [0.1] * 8 + [0.02] * 4 + [0.3] * 4)
    trainer.run(8)
    trainer.set_lr(0.02)
    assert [r.lr for r in trainer.run(4)] == [0.02] * 4
    trainer.apply_live(lr=0.3)
    records = trainer.run(4)
    assert records[-1].step == 16 and records[-1].lr == 0.3
    for k in PARAM_NAMES:
        np.testing.assert_allclose(trainer.params[k], from_gist(P)[k], rtol=0, atol=1e-10)


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
           "optimizer": "adam", "val_fraction": 0.2}[key]
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
    trainer = Trainer(corpus, tiny_config(val_fraction=0.25, val_every=5))
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


# --- non-finite safety -------------------------------------------------------------------------


def _state(trainer: Trainer) -> dict:
    return {
        "params": trainer.snapshot_params(),
        "opt": {s: {k: a.copy() for k, a in d.items()} for s, d in trainer.optimizer.state.items()},
        "t": trainer.optimizer.t, "step": trainer.step_count, "p": trainer.p, "h": trainer.h.copy(),
        "chars": trainer.chars_seen, "smooth": trainer.smooth_loss,
    }


def _assert_state(trainer: Trainer, state: dict) -> None:
    now = _state(trainer)
    for k in PARAM_NAMES:
        assert np.array_equal(now["params"][k], state["params"][k])
    for slot, d in state["opt"].items():
        for k, a in d.items():
            assert np.array_equal(now["opt"][slot][k], a)
    assert np.array_equal(now["h"], state["h"])
    assert [now[k] for k in ("t", "step", "p", "chars", "smooth")] == \
           [state[k] for k in ("t", "step", "p", "chars", "smooth")]


def test_real_divergence_rolls_back_to_the_last_good_state_and_training_continues():
    # SGD at lr 10 without clipping blows the logits up until the loss is many times a uniform
    # guess's. The update that made the weights unusable is undone, so the trainer is exactly as
    # it was before that step, and with a lower lr it trains on.
    corpus = load_builtin("zen", seq_len=10)
    trainer = Trainer(corpus, TrainConfig(hidden=16, seq_len=10, lr=5.0, clip_mode="off",
                                          optimizer="sgd", val_fraction=0.0))
    states = [_state(trainer)]
    with pytest.raises(DivergenceError) as info:
        for _ in range(100):
            trainer.step()
            states.append(_state(trainer))
    failed_at = len(states)  # the step that found the loss non-finite
    assert failed_at >= 3  # so that a committed step and its history row are kept
    message = str(info.value)
    assert "loss exploded" in message and "learning rate" in message and message == trainer.error
    _assert_state(trainer, states[-2])  # before the update that produced the unusable weights
    assert trainer.last_record.step == trainer.step_count == failed_at - 2
    assert trainer.history.column("step")[-1] == trainer.step_count
    assert all(np.isfinite(a).all() for a in trainer.params.values())
    trainer.set_lr(0.01)
    records = trainer.run(30)
    assert records[0].step == failed_at - 1 and all(math.isfinite(r.loss) for r in records)
    assert trainer.error is None


def test_after_a_blow_up_and_the_fix_training_recovers_without_diverging_again():
    # The app's default preset at lr 1 without clipping: within a few steps the float32 logits
    # are so far apart that a target's probability underflows to 0. The loss, computed from the
    # logits, stays finite and the blow-up is caught as an explosion before the weights are
    # beyond repair (a loss of -log 0 = inf used to roll back to weights that diverged again at
    # once): after lowering the learning rate and turning clipping on, training recovers.
    config = PRESETS["fast"].replace(lr=1.0, clip_mode="off", val_every=0)
    trainer = Trainer(load_builtin("python-docs"), config)
    with pytest.raises(DivergenceError, match="loss exploded"):
        trainer.run(50)
    rolled_back_to = trainer.step_count
    trainer.apply_live(lr=1e-3, clip_mode="value", clip=1.0)
    records = trainer.run(300)
    assert records[-1].step == rolled_back_to + 300 and trainer.error is None
    assert np.mean([r.loss for r in records[-20:]]) < trainer.initial_loss


def test_an_exploding_loss_from_finite_weights_is_a_divergence_too():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(3)
    before_step_3 = _state(trainer)
    trainer.run(1)
    # The first bias makes one character certain: every other target's probability underflows to
    # 0 in exp, yet the loss (log-sum-exp minus the target's logit) is a finite, huge number.
    trainer.params["c"][:] = 0.0
    trainer.params["c"][0] = 1e4
    with pytest.raises(DivergenceError, match="loss exploded at step 5") as info:
        trainer.step()
    assert "learning rate" in str(info.value) and "inf" not in str(info.value)
    _assert_state(trainer, before_step_3)  # the update before it (step 4) undone
    assert trainer.explosion_loss == pytest.approx(max(5 * math.log(trainer.vocab_size), 20.0) * 10)


def test_non_finite_weights_after_an_update_are_rolled_back():
    trainer = Trainer(small_corpus(), tiny_config(optimizer="momentum", lr=0.01))
    trainer.run(4)
    # a velocity at the edge of float64: the next update overflows b to -inf
    trainer.optimizer.state["velocity"]["b"][:] = 1e308
    trainer.set_lr(10.0)
    before = _state(trainer)
    with pytest.raises(DivergenceError, match="weights became NaN or infinite at step 5"):
        trainer.step()
    _assert_state(trainer, before)  # weights, velocity, t, pointer, hidden state, counters
    assert trainer.last_record.step == 4 and len(trainer.history) == 4
    trainer.optimizer.state["velocity"]["b"][:] = 0.0
    trainer.set_lr(0.01)
    assert [r.step for r in trainer.run(3)] == [5, 6, 7]
    assert trainer.error is None


def test_non_finite_gradient_undoes_the_step_that_led_there(monkeypatch):
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(2)
    before_step_3 = trainer.snapshot_params()
    trainer.step()
    real_gradients = trainer_module.gradients

    def inf_gradients(params, fw, out=None):
        grads, dh = real_gradients(params, fw, out)
        grads["V"][0, 0] = np.inf
        return grads, dh

    monkeypatch.setattr(trainer_module, "gradients", inf_gradients)
    with pytest.raises(DivergenceError, match="gradients became NaN or infinite at step 4"):
        trainer.step()
    assert trainer.step_count == 2 and trainer.p == 20
    for k in PARAM_NAMES:
        assert np.array_equal(trainer.params[k], before_step_3[k])
    monkeypatch.setattr(trainer_module, "gradients", real_gradients)
    assert trainer.step().step == 3


def test_non_finite_weights_from_outside_are_replaced_by_the_last_finite_ones():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(2)
    finite = trainer.snapshot_params()  # the weights before step 3
    trainer.step()
    trainer.params["V"][0, 0] = np.inf
    with pytest.raises(DivergenceError, match="became NaN or infinite at step 4"):
        trainer.step()
    assert trainer.step_count == 2
    assert all(np.array_equal(trainer.params[k], finite[k]) for k in PARAM_NAMES)
    # a second failure in a row has nothing further to undo: it changes nothing
    trainer.params["V"][0, 0] = np.nan
    state = _state(trainer)
    with pytest.raises(DivergenceError, match="no earlier finite state"):
        trainer.step()
    assert trainer.step_count == state["step"] and np.isnan(trainer.params["V"][0, 0])


def test_weights_made_infinite_from_outside_are_reported_not_hidden():
    # An infinite U saturates tanh, so loss and gradients stay finite and only the update shows it.
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.run(2)
    trainer.params["U"][:] = np.inf
    with pytest.raises(DivergenceError, match="weights were NaN or infinite before step 3"):
        trainer.step()
    assert trainer.step_count == 2 and np.isinf(trainer.params["U"]).all()


def test_non_finite_loss_on_the_first_step_changes_nothing():
    trainer = Trainer(small_corpus(), tiny_config())
    trainer.params["c"][0] = np.nan
    state = _state(trainer)
    with pytest.raises(DivergenceError, match="step 1"):
        trainer.step()
    assert trainer.step_count == 0 and trainer.last_record is None
    for k in ("U", "W", "V", "b"):
        assert np.array_equal(trainer.params[k], state["params"][k])
