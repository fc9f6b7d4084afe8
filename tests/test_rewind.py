"""Going back in a session (ui/session/): the event log, cutting the recorders back, a rewind the
user asks for and a divergence going back by itself. No Streamlit."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from rnn_core.corpus import corpus_from_text
from rnn_core.trainer import Trainer
from tests.rnn_support import SMALL_TEXT, Losses, small_corpus, tiny_config
from ui.session.events import EVENTS_CAP, EventLog
from ui.session.grad_flow import GRAD_FLOW_CAP, GradFlowLog
from ui.session.timeline import SampleTimeline
from ui.session.worker import TrainingSession, setting_change


@pytest.fixture
def session() -> Iterator[TrainingSession]:
    """Snapshots every 5 steps (the app's are 100 apart) and a validation every 5."""
    corpus = corpus_from_text(SMALL_TEXT * 4, name="small", seq_len=10)
    s = TrainingSession(corpus, tiny_config(val_fraction=0.25, val_every=5))
    s.trainer = Trainer(corpus, s.trainer.config, val_share=None, snapshot_every=5)
    yield s
    s.close()


def steps_of(session: TrainingSession) -> int:
    return session.read(lambda t: t.step_count)


def train(session: TrainingSession, n: int) -> None:
    """n steps as the worker takes them (recorders fed after each)."""
    for _ in range(n):
        with session.lock:
            session._guarded(session.trainer.step)
            session._record_slice()
            session.grad_flow.record(session.trainer, force=True)


# --- the event log ------------------------------------------------------------------------------


def test_event_log_is_bounded_cut_back_and_restarted_by_a_new_model() -> None:
    log = EventLog()
    for step in range(EVENTS_CAP + 5):
        log.add(step, "setting", f"lr {step}")
    assert len(log) == EVENTS_CAP and log.items()[0].step == 5  # the newest are kept
    log.cut_back(20)
    assert [e.step for e in log.items()] == list(range(5, 21))
    log.new_model(0, "corpus", "new text")
    assert [(e.step, e.kind) for e in log.items()] == [(0, "corpus")]
    with pytest.raises(ValueError):
        log.add(3, "nonsense", "?")
    with pytest.raises(ValueError):
        log.new_model(0, "setting", "not a new model")


def test_a_setting_change_reads_in_a_few_words() -> None:
    config = tiny_config(lr=0.002, clip_mode="norm", clip=20.0)
    assert setting_change(config, config) is None
    assert setting_change(config, config.replace(lr=0.05)) == "lr 0.002 → 0.05"
    assert (setting_change(config, config.replace(clip_mode="off", clip=5.0))
            == "clipping norm → off, clip 20 → 5")


def test_live_changes_and_new_models_go_into_the_session_event_log(session: TrainingSession) -> None:
    train(session, 3)
    session.apply_live(lr=0.05)
    session.apply_live(lr=0.05)  # no change: no event
    assert [(e.step, e.kind, e.label) for e in session.event_items()] == [(3, "setting", "lr 0.1 → 0.05")]
    serial = session.model_serial
    session.reset()
    assert [(e.step, e.kind) for e in session.event_items()] == [(0, "reset")]
    session.reset(corpus=small_corpus())
    assert [(e.step, e.kind, e.label) for e in session.event_items()] == [(0, "corpus", "new text")]
    assert session.model_serial == serial + 2


# --- cutting the recorders back -----------------------------------------------------------------


def test_grad_flow_cut_back_keeps_the_rows_up_to_the_step_and_stays_evenly_spaced() -> None:
    trainer = Trainer(small_corpus(), tiny_config())
    log = GradFlowLog(10)
    for _ in range(3 * GRAD_FLOW_CAP):  # thinned: stride 2
        trainer.step()
        log.record(trainer, force=True)
    log.cut_back(150)
    steps = log.flow().steps
    assert steps[-1] <= 150 and 150 - steps[-1] < 2 and (np.diff(steps) == 2).all()
    trainer.step()
    log.record(trainer, force=True)  # a row at once after cutting back
    assert log.flow().steps[-1] == trainer.step_count
    log.cut_back(0)
    assert len(log) == 0


def test_timeline_cut_back_forgets_later_samples_and_samples_again_at_once() -> None:
    trainer = Trainer(small_corpus(), tiny_config())
    timeline = SampleTimeline()
    for _ in range(4):
        trainer.run(5)
        timeline.take(trainer)
    timeline.cut_back(12)
    assert [s.step for s in timeline.items()] == [5, 10]
    timeline.maybe_take(trainer)  # due at once
    assert len(timeline) == 3


# --- rewinding ----------------------------------------------------------------------------------


def test_rewind_goes_back_to_a_kept_snapshot_and_cuts_every_recorder(session: TrainingSession) -> None:
    train(session, 10)
    session.apply_live(lr=0.05)
    train(session, 8)
    kept = session.read(lambda t: [s.step for s in t.snapshots.items()])
    assert kept == [0, 5, 10, 15]
    target = 5  # before the change of settings
    assert session.rewind(target)
    assert steps_of(session) == target and not session.playing
    assert session.read(lambda t: t.history.column("step")[-1]) == target
    assert session.grad_flow_history().steps[-1] == target
    assert [s.step for s in session.timeline_items()][-1] == target  # a sample of the weights gone back to
    assert all(s.step <= target for s in session.timeline_items())
    events = session.event_items()
    assert [(e.step, e.kind, e.label) for e in events] == [(target, "rewind", "rewound from 18")]
    # the setting changed at step 10 was undone with its event; the setting itself stays in force
    assert session.read(lambda t: t.config.lr) == 0.05


def test_rewind_refuses_a_step_it_does_not_keep_and_changes_nothing(session: TrainingSession) -> None:
    train(session, 12)
    assert not session.rewind(7)  # snapshots are 5 apart: 0, 5, 10
    assert not session.rewind(12, best=True)  # the best is kept at a validation step (5 or 10)
    assert steps_of(session) == 12


def test_restoring_the_best_weights(session: TrainingSession) -> None:
    train(session, 40)
    best = session.read(lambda t: (t.best.step, t.best_val_bpc))
    assert session.rewind(best[0], best=True)
    assert steps_of(session) == best[0]
    assert session.read(lambda t: t.validation_bpc()) == pytest.approx(best[1], rel=1e-12)
    assert session.event_items()[-1].label == "best weights"
    assert not session.rewind(best[0] + 5, best=True)  # only the step it was kept at


def test_a_divergence_cuts_the_recorders_back_and_is_marked(session: TrainingSession,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    losses = Losses(monkeypatch)
    train(session, 23)
    losses.factor = 1000.0  # the next step's loss explodes
    train(session, 1)
    losses.factor = 1.0
    assert not session.playing and "loss exploded" in session.message
    assert "it was" not in session.message  # the learning rate did not change
    assert steps_of(session) == 20  # the newest snapshot
    assert session.grad_flow_history().steps[-1] == 20
    assert all(s.step <= 20 for s in session.timeline_items())
    events = [(e.step, e.kind, e.label) for e in session.event_items()]
    assert events == [(20, "divergence", "diverged at 24")]


def test_a_divergence_after_raising_the_learning_rate_suggests_the_earlier_one(
        session: TrainingSession, monkeypatch: pytest.MonkeyPatch) -> None:
    losses = Losses(monkeypatch)
    train(session, 20)
    session.apply_live(lr=1.0)
    losses.factor = 1000.0
    train(session, 1)
    assert "lower the learning rate (now 1; it was 0.1 at step 20)" in session.message
