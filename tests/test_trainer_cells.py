"""The trainer with the LSTM and the GRU: the same step, records, state, divergence and inspection
as with the RNN (tests/test_trainer.py), checked against the cells written out again
(tests/cell_references.py); the history's columns follow the cell's weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core import model
from rnn_core.cells import get
from rnn_core.corpus import corpus_from_text
from rnn_core.optim import OPTIMIZERS
from rnn_core.trace import trace_text
from rnn_core.trainer import STEP_COLUMNS, DivergenceError, Trainer, step_columns
from tests import cell_references as ref
from tests.rnn_support import SMALL_TEXT, small_corpus, tiny_config

GATED = ["lstm", "gru"]


def reference(name: str, params, inputs, targets, carry) -> dict:
    """One stream (inputs, targets (T,), carry (C,)) by the equations."""
    H = params["V"].shape[1]
    if name == "lstm":
        return ref.lstm(params, list(inputs), list(targets), carry[:H], carry[H:])
    return ref.gru(params, list(inputs), list(targets), carry)


def test_the_rnn_keeps_its_history_columns():
    assert STEP_COLUMNS == (
        "step", "chars_seen", "loss", "smooth_loss", "bpc", "smooth_bpc", "lr", "time", "step_time",
        "global_pre", "global_post", "clipped_fraction", "pre_U", "pre_W", "pre_V", "pre_b", "pre_c",
        "post_U", "post_W", "post_V", "post_b", "post_c")
    trainer = Trainer(small_corpus(), tiny_config())
    assert trainer.param_names == model.PARAM_NAMES and trainer.history.columns == STEP_COLUMNS
    assert tuple(trainer.step().as_row()) == STEP_COLUMNS
    assert trainer.config.exact and trainer.carry_size == 12


@pytest.mark.parametrize("name", GATED)
def test_a_gated_cell_trains_and_records_its_own_columns(name):
    trainer = Trainer(small_corpus(), tiny_config(cell=name, batch=2, hidden=16))
    cell = get(name)
    assert not trainer.config.exact
    assert trainer.param_names == cell.PARAM_NAMES
    assert trainer.history.columns == step_columns(cell.PARAM_NAMES)
    assert trainer.h.shape == (2, cell.carry_size(16)) == (2, trainer.carry_size)
    records = trainer.run(200)
    last = records[-1]
    row = last.as_row()
    assert tuple(row) == trainer.history.columns
    assert row["pre_W_f" if name == "lstm" else "pre_W_z"] > 0
    assert tuple(last.clip.norm_pre) == cell.PARAM_NAMES == tuple(last.clip.norm_post)
    hist = trainer.history.as_dict()
    for k in cell.PARAM_NAMES:
        assert list(hist[f"pre_{k}"]) == [r.clip.norm_pre[k] for r in records]
    assert np.mean([r.loss for r in records[-6:]]) < 0.5 * trainer.initial_loss  # the last pass
    assert trainer.smooth_loss < trainer.initial_loss


@pytest.mark.parametrize("name", GATED)
def test_two_steps_are_the_equations_with_the_state_carried_between_them(name):
    # Two streams, Adagrad with min-char-rnn's clipping: the gradient is the mean of the streams'
    # (each by the equations), the state each stream ends the first chunk with starts the second.
    corpus = small_corpus()
    trainer = Trainer(corpus, tiny_config(cell=name, batch=2, clip=0.05))
    params = {k: a.copy() for k, a in trainer.params.items()}
    mem = {k: np.zeros_like(a) for k, a in params.items()}
    carry = np.zeros((2, trainer.carry_size))
    L = trainer.segment_len
    for step in range(2):
        refs = []
        for s in range(2):
            chunk = corpus.data[s * L + 10 * step : s * L + 10 * step + 11]
            refs.append(reference(name, params, chunk[:-1], chunk[1:], carry[s]))
        record = trainer.step()
        assert record.loss == pytest.approx(np.mean([r["loss"] for r in refs]), rel=1e-12)
        for k in params:
            g = np.clip(np.mean([r["grads"][k] for r in refs], axis=0), -0.05, 0.05)
            mem[k] += g * g
            params[k] += -0.1 * g / np.sqrt(mem[k] + 1e-8)
            np.testing.assert_allclose(trainer.params[k], params[k], rtol=0, atol=1e-12, err_msg=k)
        carry = np.array([np.concatenate((r["h"][-1], r["s"][-1])) if name == "lstm" else r["h"][-1]
                          for r in refs])
        np.testing.assert_allclose(trainer.h, carry, rtol=0, atol=1e-12)
    assert record.clip.clipped_fraction > 0.05  # clipping is really exercised


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("name", GATED)
def test_every_optimizer_and_clipping_mode(name, optimizer):
    lr = {"sgd": 0.1, "momentum": 0.02, "adagrad": 0.1, "rmsprop": 3e-3, "adam": 3e-3}[optimizer]
    trainer = Trainer(small_corpus(), tiny_config(cell=name, optimizer=optimizer, lr=lr,
                                                  clip_mode="norm", clip=1.0))
    records = trainer.run(40)
    assert all(r.clip.global_post <= 1.0 + 1e-9 for r in records)
    assert any(r.clip.global_pre > 1.0 for r in records)
    assert np.mean([r.loss for r in records[-13:]]) < np.mean([r.loss for r in records[:13]])
    update = trainer.last_update()
    assert tuple(update) == trainer.param_names and all(np.abs(u).max() > 0 for u in update.values())
    effective = trainer.effective_lr()
    assert (effective is None) == (optimizer in ("sgd", "momentum"))
    if effective is not None:
        assert tuple(effective) == trainer.param_names


@pytest.mark.parametrize("name", GATED)
def test_peek_is_the_next_step_exactly(name):
    trainer = Trainer(small_corpus(), tiny_config(cell=name, batch=3, optimizer="adam", lr=0.01))
    trainer.run(7)
    before = trainer.state()
    preview = trainer.peek()
    assert preview.h0.shape == (3, trainer.carry_size)
    for k in trainer.param_names:
        np.testing.assert_array_equal(trainer.params[k], before.params[k])
    record = trainer.step()
    assert preview.loss == record.loss and preview.clip == record.clip and not preview.diverges
    for k in trainer.param_names:
        np.testing.assert_array_equal(trainer.params[k], preview.params_after[k])
    np.testing.assert_array_equal(trainer.h, preview.forward.carry)


@pytest.mark.parametrize("name", GATED)
def test_state_round_trip_continues_exactly(name):
    config = tiny_config(cell=name, batch=3, optimizer="adam", lr=0.01)
    straight, other = Trainer(small_corpus(), config), Trainer(small_corpus(), config)
    straight.run(9)
    other.load_state(straight.state())
    assert [r.loss for r in other.run(6)] == [r.loss for r in straight.run(6)]
    with pytest.raises(ValueError, match="do not fit"):  # an RNN's state does not
        rnn_state = Trainer(small_corpus(), tiny_config(batch=3, optimizer="adam", lr=0.01)).state()
        other.load_state(rnn_state)


@pytest.mark.parametrize("name", GATED)
def test_a_divergence_goes_back_to_the_newest_snapshot(name, monkeypatch):
    cell = get(name)
    trainer = Trainer(small_corpus(), tiny_config(cell=name, batch=2), snapshot_every=5)
    trainer.run(12)
    at_10 = trainer.snapshots.newest
    real = cell.forward

    def exploded(*args):
        fw = real(*args)
        fw.losses *= 1000.0
        return fw

    monkeypatch.setattr(cell, "forward", exploded)
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    assert (info.value.kind, info.value.back_to, info.value.undone) == ("loss_exploded", 10, 2)
    for k in trainer.param_names:
        np.testing.assert_array_equal(trainer.params[k], at_10.state.params[k])
    np.testing.assert_array_equal(trainer.h, at_10.state.h)
    monkeypatch.setattr(cell, "forward", real)
    assert [r.step for r in trainer.run(3)] == [11, 12, 13]


@pytest.mark.parametrize("name", GATED)
def test_chunk_trace_shows_the_gates_and_the_cell_state(name):
    trainer = Trainer(small_corpus(), tiny_config(cell=name, batch=2))
    trainer.run(3)
    before = {k: a.copy() for k, a in trainer.params.items()}
    record = trainer.step()
    trace = trainer.chunk_trace(1)
    cell = get(name)
    assert trace.cell == name and tuple(trace.gates) == cell.GATES
    assert all(a.shape == (10, 12) and a.dtype == np.float64 for a in trace.gates.values())
    assert trace.carry_prev.shape == (cell.carry_size(12),)
    r = reference(name, before, trace.inputs, trace.targets, trace.carry_prev)
    for g, a in trace.gates.items():
        np.testing.assert_allclose(a, r["gates"][g], rtol=0, atol=1e-12, err_msg=g)
    np.testing.assert_allclose(trace.hs, r["h"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.dh_norms, np.linalg.norm(r["dh"], axis=1), rtol=1e-10)
    assert trace.loss == pytest.approx(r["loss"], rel=1e-12) and trace.mean_loss == record.loss
    if name == "lstm":
        np.testing.assert_allclose(trace.ss, r["s"], rtol=0, atol=1e-12)
        assert trace.s_prev.shape == (12,) and np.abs(trace.s_prev).max() > 0  # carried in
        gates = trace.gates
        assert all(((gates[g] > 0) & (gates[g] < 1)).all() for g in "ifo") and (np.abs(gates["g"]) < 1).all()
    else:
        assert trace.ss is None and trace.s_prev is None
        assert all(((trace.gates[g] > 0) & (trace.gates[g] < 1)).all() for g in "rz")


@pytest.mark.parametrize("name", GATED)
def test_a_users_text_is_traced_from_a_zero_state(name):
    trainer = Trainer(small_corpus(), tiny_config(cell=name))
    trainer.run(5)
    ids = trainer.corpus.vocab.encode("the dog sat on the cat.")
    trace = trace_text(trainer.params, trainer.corpus.vocab, ids, step=5)
    assert trace.cell == name and trace.step == 5 and not trace.carry_prev.any()
    r = reference(name, trainer.params, ids[:-1], ids[1:], np.zeros(trainer.carry_size))
    assert trace.loss == pytest.approx(r["loss"], rel=1e-12)
    for g, a in trace.gates.items():
        np.testing.assert_allclose(a, r["gates"][g], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", GATED)
def test_validation_reads_the_held_out_tail_from_a_zero_state(name):
    corpus = corpus_from_text(SMALL_TEXT * 4, seq_len=10)
    trainer = Trainer(corpus, tiny_config(cell=name, val_fraction=0.25, val_every=5), val_share=None)
    records = trainer.run(5)
    assert records[-1].val_bpc is not None
    val = trainer.val_data
    S = min(10, len(val) - 1)
    L = (len(val) - 1) // S
    zero = np.zeros(trainer.carry_size)
    total = sum(reference(name, trainer.params, val[i * L : (i + 1) * L], val[i * L + 1 : (i + 1) * L + 1],
                          zero)["loss"] for i in range(S))
    assert trainer.validation_bpc() == pytest.approx(total / (S * L) / math.log(2), rel=1e-12)
