"""Going back with the LSTM and GRU: a divergence going back to a snapshot, a rewind the user asks
for (Trainer.restore, TrainingSession.rewind), the best weights, the weights of the last chunk
(Trainer.chunk_params) and the last update: the in-place engine with every cell's own weights and
carried state (h, and the LSTM's s beside it)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from rnn_core.cells import get
from rnn_core.checkpoint import from_bytes, restore, to_bytes
from rnn_core.corpus import corpus_from_text
from rnn_core.reach import itemized_dh
from rnn_core.trainer import DivergenceError, Trainer
from tests.rnn_support import SMALL_TEXT, Losses, small_corpus, tiny_config
from ui.session.worker import TrainingSession

GATED = ("lstm", "gru")
SEEDS = (0, 1, 2)


def gated_config(name: str, seed: int = 3, **changes):
    return tiny_config(cell=name, batch=2, optimizer="adam", lr=0.01, seed=seed).replace(**changes)


def assert_same_weights(a, b) -> None:
    assert tuple(a) == tuple(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", GATED)
def test_a_divergence_goes_back_and_training_continues_as_if_it_never_happened(name, seed, monkeypatch):
    config = gated_config(name, seed)
    straight = Trainer(small_corpus(), config, snapshot_every=5)
    straight_losses = [r.loss for r in straight.run(15)]
    trainer = Trainer(small_corpus(), config, snapshot_every=5)
    trainer.run(12)
    at_10 = trainer.snapshots.newest
    losses = Losses(monkeypatch)
    losses.factor = 1000.0
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    losses.factor = 1.0
    assert (info.value.kind, info.value.back_to, info.value.undone) == ("loss_exploded", 10, 2)
    assert trainer.step_count == 10 and trainer.h.shape == (2, get(name).carry_size(12))
    assert_same_weights(trainer.params, at_10.state.params)
    np.testing.assert_array_equal(trainer.h, at_10.state.h)
    assert not any(u.any() for u in trainer.last_update().values())  # none known after going back
    assert trainer.chunk_params() is None and trainer.chunk_trace(0) is None
    assert trainer.history.column("step")[-1] == 10
    assert [r.loss for r in trainer.run(5)] == straight_losses[10:]
    assert_same_weights(trainer.params, straight.params)
    np.testing.assert_array_equal(trainer.h, straight.h)


@pytest.mark.parametrize("name", GATED)
def test_gradients_too_large_or_not_finite_are_a_divergence_before_any_update(name, monkeypatch):
    cell = get(name)
    trainer = Trainer(small_corpus(), gated_config(name, clip_mode="off", optimizer="adagrad", lr=0.1),
                      snapshot_every=2)
    trainer.run(3)
    real = cell.gradients
    for value, kind in ((1e160, "gradients_not_finite"), (np.inf, "gradients_not_finite")):
        def bad(params, fw, out=None, value=value):
            grads, dh = real(params, fw, out)
            grads[cell.PARAM_NAMES[1]].flat[0] = value  # finite but too large to square, or inf
            return grads, dh

        monkeypatch.setattr(cell, "gradients", bad)
        with pytest.raises(DivergenceError) as info:
            trainer.step()
        assert (info.value.kind, info.value.back_to) == (kind, 2)
        assert all(np.isfinite(a).all() for a in trainer.params.values())
        assert all(np.isfinite(d).all() for d in trainer.optimizer.state["mem"].values())
        monkeypatch.setattr(cell, "gradients", real)
        trainer.run(1)


@pytest.mark.parametrize("name", GATED)
def test_weights_made_infinite_by_an_update_are_found_at_the_next_snapshot(name):
    # As tests/test_trainer.py's for the RNN: one character's column of a gate's input weights at
    # the edge of float64 and a velocity that pushes it over at step 5. Steps 5 and 6 do not read
    # that character; the weights are checked when the snapshot of step 6 is due.
    config = tiny_config(cell=name, optimizer="momentum", lr=0.01)
    trainer, probe = Trainer(small_corpus(), config, snapshot_every=3), Trainer(small_corpus(), config)
    trainer.run(4)
    probe.run(4)
    read = set()
    for _ in range(2):
        probe.run(1)
        read |= set(probe.chunk_trace(0).inputs)
    unread = sorted(set(range(trainer.vocab_size)) - read)[0]
    gate_u = get(name).PARAM_NAMES[0]  # U_i (LSTM), U_r (GRU)
    state = trainer.state()
    state.params[gate_u][:, unread] = 1.79e308
    state.optimizer.slots["velocity"][gate_u][:, unread] = -1e308
    trainer.load_state(state)
    trainer.step()
    assert np.isinf(trainer.params[gate_u][:, unread]).all()
    with pytest.raises(DivergenceError) as info:
        trainer.step()
    assert (info.value.kind, info.value.step, info.value.back_to) == ("update_not_finite", 6, 4)
    assert all(np.isfinite(a).all() for a in trainer.params.values())
    assert trainer.optimizer.t == 4 and trainer.step_count == 4


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", GATED)
def test_restore_goes_back_to_a_kept_snapshot_and_continues_exactly(name, seed):
    corpus = corpus_from_text(SMALL_TEXT * 4, name="small", seq_len=10)
    config = gated_config(name, seed, val_fraction=0.25, val_every=5)
    straight = Trainer(corpus, config, val_share=None, snapshot_every=5)
    straight_losses = [r.loss for r in straight.run(8)]
    trainer = Trainer(corpus, config, val_share=None, snapshot_every=5)
    trainer.run(17)
    at_5 = next(s for s in trainer.snapshots.items() if s.step == 5)
    trainer.restore(at_5)
    assert trainer.step_count == 5 and [s.step for s in trainer.snapshots.items()] == [0, 5]
    assert trainer.history.column("step")[-1] == 5 and trainer.val_history.column("step")[-1] == 5
    assert trainer.best is None or trainer.best.step <= 5  # a best of the steps undone is forgotten
    assert_same_weights(trainer.params, at_5.state.params)
    assert trainer.chunk_params() is None
    assert [r.loss for r in trainer.run(3)] == straight_losses[5:]


@pytest.mark.parametrize("name", GATED)
def test_restoring_the_best_weights_gives_their_validation_loss(name):
    corpus = corpus_from_text(SMALL_TEXT * 4, name="small", seq_len=10)
    trainer = Trainer(corpus, gated_config(name, val_fraction=0.25, val_every=5), val_share=None)
    trainer.run(40)
    best, best_bpc = trainer.best, trainer.best_val_bpc
    assert best is not None and best.state.h.shape == trainer.h.shape
    trainer.restore(best)
    assert trainer.step_count == best.step
    assert trainer.validation_bpc() == pytest.approx(best_bpc, rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", GATED)
def test_chunk_params_are_the_weights_the_last_chunk_was_computed_with(name, seed):
    trainer = Trainer(small_corpus(), gated_config(name, seed, dtype="float64"))
    assert trainer.chunk_params() is None
    trainer.run(3)
    before = trainer.state().params
    trainer.step()
    params = trainer.chunk_params()
    assert tuple(params) == trainer.param_names
    for k in params:  # the weights now minus the last update: those before it, up to rounding
        np.testing.assert_allclose(params[k], before[k], rtol=0, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(trainer.last_update()[k], trainer.params[k] - before[k], atol=1e-12)
    # With them, one stream's itemized gradients add up to its traced dL/dh(t) (rnn_core.reach).
    trace = trainer.chunk_trace(1)
    dh = itemized_dh(params, trace.inputs, trace.targets, trace.carry_prev)
    np.testing.assert_allclose(np.linalg.norm(dh.sum(axis=0), axis=1), trace.dh_norms, rtol=1e-9)
    params[trainer.param_names[0]][0, 0] += 1.0  # a copy: the trainer's weights are untouched
    assert trainer.params[trainer.param_names[0]][0, 0] != params[trainer.param_names[0]][0, 0]


@pytest.mark.parametrize("name", GATED)
def test_the_last_update_survives_a_checkpoint(name):
    trainer = Trainer(small_corpus(), gated_config(name))
    trainer.run(4)
    restored = restore(from_bytes(to_bytes(trainer)), trainer.corpus).trainer
    assert_same_weights(restored.last_update(), trainer.last_update())
    assert any(u.any() for u in restored.last_update().values())
    assert [r.loss for r in restored.run(3)] == [r.loss for r in trainer.run(3)]


# --- in a session (ui/session/): the recorders cut back with the steps -------------------------


@pytest.fixture(params=GATED)
def session(request) -> Iterator[TrainingSession]:
    """An LSTM's or GRU's session with snapshots every 5 steps and a validation every 5."""
    corpus = corpus_from_text(SMALL_TEXT * 4, name="small", seq_len=10)
    s = TrainingSession(corpus, tiny_config(cell=request.param, val_fraction=0.25, val_every=5))
    s.trainer = Trainer(corpus, s.trainer.config, val_share=None, snapshot_every=5)
    yield s
    s.close()


def train(session: TrainingSession, n: int) -> None:
    """n steps as the worker takes them (recorders fed after each)."""
    for _ in range(n):
        with session.lock:
            session._guarded(session.trainer.step)
            session._record_slice()
            session.grad_flow.record(session.trainer, force=True)


def test_a_session_rewinds_a_gated_cell_and_cuts_every_recorder(session: TrainingSession) -> None:
    train(session, 18)
    assert session.rewind(10)
    assert session.read(lambda t: (t.step_count, t.history.column("step")[-1])) == (10, 10)
    assert session.grad_flow_history().steps[-1] == 10
    assert all(s.step <= 10 for s in session.timeline_items())
    assert [(e.step, e.kind) for e in session.event_items()] == [(10, "rewind")]
    train(session, 12)
    best, bpc = session.read(lambda t: (t.best.step, t.best_val_bpc))
    assert session.rewind(best, best=True)
    assert session.read(lambda t: t.validation_bpc()) == pytest.approx(bpc, rel=1e-12)
    assert session.event_items()[-1].label == "best weights"
    train(session, 2)
    assert session.read(lambda t: t.step_count) == best + 2


def test_a_divergence_of_a_gated_cell_cuts_the_recorders_back(session: TrainingSession,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    losses = Losses(monkeypatch)
    train(session, 23)
    losses.factor = 1000.0
    train(session, 1)
    losses.factor = 1.0
    assert not session.playing and "loss exploded" in session.message
    assert session.read(lambda t: t.step_count) == 20
    assert session.grad_flow_history().steps[-1] == 20
    assert [(e.step, e.kind) for e in session.event_items()] == [(20, "divergence")]
    train(session, 1)
    assert session.read(lambda t: t.step_count) == 21
