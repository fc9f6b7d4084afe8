"""What a session records while it trains (ui/session/): the gradient-flow log, the sample
timeline and the throughput, on their own and through the worker."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from rnn_core.corpus import corpus_from_text
from rnn_core.trainer import Trainer
from tests.rnn_support import small_corpus, tiny_config
from ui.session import timeline as timeline_module
from ui.session.grad_flow import GRAD_FLOW_CAP, GRAD_FLOW_EVERY, GradFlowLog
from ui.session.throughput import Throughput
from ui.session.timeline import SampleSettings
from ui.session.worker import TrainingSession


@pytest.fixture
def trainer() -> Trainer:
    t = Trainer(small_corpus(), tiny_config(batch=3))
    t.run(5)
    return t


# --- gradient flow ------------------------------------------------------------------------------


def test_grad_flow_log_records_stream_0_and_stays_bounded(trainer: Trainer) -> None:
    log = GradFlowLog(10)
    for _ in range(3 * GRAD_FLOW_CAP):
        trainer.step()
        log.record(trainer, force=True)
    flow = log.flow()
    assert flow.norms.shape[1] == 10
    assert len(flow.steps) <= 2 * GRAD_FLOW_CAP
    assert (np.diff(flow.steps) > 0).all()
    assert trainer.step_count - flow.steps[-1] < 2  # the newest row is within one stride (2)


def test_grad_flow_row_is_the_last_chunks_dh_norms(trainer: Trainer) -> None:
    log = GradFlowLog(10)
    log.record(trainer)
    log.record(trainer, force=True)  # the same step again: no second row
    flow = log.flow()
    assert flow.steps.tolist() == [5]
    np.testing.assert_allclose(flow.norms[0], trainer.chunk_trace(0).dh_norms)


def test_grad_flow_log_keeps_its_stride_unless_forced(trainer: Trainer) -> None:
    log = GradFlowLog(10)
    for _ in range(2 * GRAD_FLOW_EVERY):
        log.record(trainer)
        trainer.step()
    assert np.diff(log.flow().steps).tolist() == [GRAD_FLOW_EVERY]


def test_grad_flow_log_ignores_a_different_seq_len(trainer: Trainer) -> None:
    log = GradFlowLog(7)
    log.record(trainer)
    assert len(log) == 0


def test_session_records_grad_flow_and_reset_clears_it(session: TrainingSession) -> None:
    for _ in range(3):
        session.step_once()  # a manual step is always recorded
    assert session.grad_flow_history().steps.tolist() == [1, 2, 3]
    session.reset(config=tiny_config(seq_len=8))
    assert len(session.grad_flow_history().steps) == 0
    session.step_once()
    assert session.grad_flow_history().norms.shape == (1, 8)


def test_session_thread_records_grad_flow_every_few_steps(session: TrainingSession) -> None:
    session.play()
    deadline = time.monotonic() + 20
    while len(session.grad_flow_history().steps) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    session.pause()
    steps = session.grad_flow_history().steps
    assert len(steps) >= 3  # at most one row per training slice, at least GRAD_FLOW_EVERY apart
    assert (np.diff(steps) >= GRAD_FLOW_EVERY).all()


# --- the sample timeline ------------------------------------------------------------------------


def test_bad_timeline_settings_keep_the_old_ones(session: TrainingSession) -> None:
    before = session.sample_settings
    with pytest.raises(ValueError):
        session.set_sample_settings(SampleSettings(seed_text="☃"))
    assert session.sample_settings == before


def test_timeline_every_n_steps(session: TrainingSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline_module, "MIN_SAMPLE_GAP_S", 0.0)
    session.set_sample_settings(SampleSettings(every_steps=3))
    for _ in range(7):
        with session.lock:
            session.trainer.step()
            session.timeline.maybe_take(session.trainer)
    assert [s.step for s in session.timeline_items()] == [0, 3, 6]


def test_timeline_samples_carry_the_smooth_loss(session: TrainingSession) -> None:
    session.set_sample_settings(SampleSettings(length=5))
    session.step_once()
    with session.lock:
        item = session.timeline.take(session.trainer)
    assert item is not None and len(item.text) == 5
    assert item.smooth_bpc == pytest.approx(session.read(lambda t: t.last_record.smooth_bpc))


def test_reset_with_a_new_corpus_drops_a_seed_it_cannot_read(session: TrainingSession) -> None:
    session.set_sample_settings(SampleSettings(seed_text="the cat"))
    session.reset(corpus=corpus_from_text("xyz " * 40, name="xyz", seq_len=10))
    assert session.sample_settings == SampleSettings()


# --- throughput ---------------------------------------------------------------------------------


def test_throughput_needs_two_marks_and_measures_the_rate(trainer: Trainer) -> None:
    rate = Throughput()
    rate.note(trainer)
    assert rate.rate() is None
    time.sleep(0.05)
    trainer.run(2)
    rate.note(trainer)
    steps_per_s, chars_per_s = rate.rate()
    assert 0 < steps_per_s <= 2 / 0.05
    assert chars_per_s == pytest.approx(steps_per_s * trainer.streams * trainer.config.seq_len)
    rate.clear()
    assert rate.rate() is None and len(rate) == 0


def test_the_timeline_samples_every_second_early_in_training_then_every_two(
        trainer: Trainer, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(timeline_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    line = timeline_module.SampleTimeline()
    line.new_model(trainer.corpus.vocab)
    taken = []
    for now in (100.0, 100.5, 101.0, 101.5, 102.0):  # the first seconds of training
        trainer.step()
        clock[0] = now
        line.maybe_take(trainer)
        taken.append(len(line))
    assert taken == [1, 1, 2, 2, 3]
    monkeypatch.setattr(timeline_module, "EARLY_S", trainer.train_time)  # training is past them now
    for now in (103.0, 104.0):
        trainer.step()
        clock[0] = now
        line.maybe_take(trainer)
        taken.append(len(line))
    assert taken[-2:] == [3, 4]
