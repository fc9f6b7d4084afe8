"""An hour of training, bookkeeping-wise, in seconds: everything a session keeps that grows with
training (metric histories, the sample timeline, the gradient-flow log, the throughput window)
stays bounded, and the session's memory stops growing once they are full.

An hour of the default preset is ~360k steps (History rows), ~1,800 periodic samples and ~36k
gradient-flow rows; the tests below go past each of those.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.corpus import load_builtin
from rnn_core.history import History
from rnn_core.trainer import HISTORY_CAP, STEP_COLUMNS
from ui.session import grad_flow, timeline, worker
from ui.session.grad_flow import GRAD_FLOW_CAP
from ui.session.throughput import RATE_SAMPLES
from ui.session.timeline import SAMPLE_TIMELINE_CAP, SampleSettings
from ui.session.worker import TrainingSession

TINY = TrainConfig(hidden=4, seq_len=4, batch=1, val_every=50)


def test_history_stays_bounded_and_evenly_spaced_over_a_million_steps() -> None:
    h = History(STEP_COLUMNS, HISTORY_CAP)
    nbytes = h.nbytes
    row = dict.fromkeys(STEP_COLUMNS, 1.0)
    n = 1_000_000
    for i in range(n):
        row["step"] = i
        h.append(row)
    assert HISTORY_CAP <= len(h) <= 2 * HISTORY_CAP
    assert h.nbytes == nbytes  # preallocated once, never grown
    steps = h.column("step")
    assert steps[0] == 0 and steps[-1] > n - 1 - h.stride  # the whole run, up to the newest stride
    assert set(np.diff(steps)) == {h.stride}  # evenly thinned


def test_timeline_is_capped_after_ten_thousand_samples() -> None:
    s = TrainingSession(load_builtin("zen"), TINY)
    s.step_once()
    s.set_sample_settings(SampleSettings(length=4))
    with s.lock:
        for _ in range(10_000):
            s.timeline.take(s.trainer)
    items = s.timeline_items()
    assert len(items) == SAMPLE_TIMELINE_CAP


def test_trainer_histories_are_bounded_after_many_steps() -> None:
    s = TrainingSession(load_builtin("zen"), TINY)
    for _ in range(5):
        s.read(lambda t: t.run(1000))
    t = s.trainer
    assert t.step_count == 5000
    assert len(t.history) <= 2 * HISTORY_CAP and t.history.stride > 1  # thinning has kicked in
    assert len(t.val_history) <= 2 * HISTORY_CAP
    assert t.history.column("step")[-1] > 5000 - t.history.stride


def test_worker_memory_stops_growing_once_its_logs_are_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real worker thread, with short slices and a sample after every slice, so one second
    here is many minutes of normal bookkeeping."""
    monkeypatch.setattr(worker, "SLICE_S", 0.002)
    monkeypatch.setattr(worker, "REST_S", 0.0)
    monkeypatch.setattr(timeline, "SAMPLE_EVERY_S", 0.0)
    monkeypatch.setattr(timeline, "EARLY_SAMPLE_EVERY_S", 0.0)
    monkeypatch.setattr(grad_flow, "GRAD_FLOW_EVERY", 1)
    s = TrainingSession(load_builtin("zen"), TINY)
    s.set_sample_settings(SampleSettings(length=4))

    def run_until(done) -> None:
        assert s.play()
        deadline = time.monotonic() + 60
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
        s.pause()
        time.sleep(0.05)  # let the current slice finish
        assert done(), "the worker made too little progress"

    def sizes() -> dict[str, int]:
        with s.lock:
            return {"timeline": len(s.timeline), "history": len(s.trainer.history),
                    "val": len(s.trainer.val_history), "grad_flow": len(s.grad_flow),
                    "progress": len(s._throughput), "step": s.trainer.step_count}

    tracemalloc.start()
    try:
        # Phase 1: fill every log to its cap (the timeline; the histories' 2 * cap rows, after
        # which they thin themselves).
        run_until(lambda: sizes()["timeline"] >= SAMPLE_TIMELINE_CAP
                  and sizes()["step"] > 2 * HISTORY_CAP + 500)
        first = sizes()
        settled, _ = tracemalloc.get_traced_memory()
        # Phase 2: as long again; nothing may keep growing.
        run_until(lambda: sizes()["step"] >= 2 * first["step"])
        grown, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        s.close()
    last = sizes()
    assert last["timeline"] == SAMPLE_TIMELINE_CAP
    assert last["history"] <= 2 * HISTORY_CAP and last["val"] <= 2 * HISTORY_CAP
    assert last["grad_flow"] <= 2 * GRAD_FLOW_CAP
    assert last["progress"] <= RATE_SAMPLES
    # A leak of even one small object per step would be tens of kB over the steps of phase 2.
    steps = last["step"] - first["step"]
    assert grown - settled < 64 * 1024, f"grew {grown - settled} bytes over {steps} steps"
