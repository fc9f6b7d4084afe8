"""The training worker's lifecycle under stress, without a browser: closed tabs, reconnects, many
sessions taking turns, and sessions being freed."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable

import pytest

from rnn_core.config import TrainConfig
from rnn_core.corpus import load_builtin
from ui.session import lock, server, worker
from ui.session.server import SERVER, server_threads
from ui.session.worker import TrainingSession

TINY = TrainConfig(hidden=8, seq_len=8, batch=2)


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def steps(s: TrainingSession) -> int:
    return s.read(lambda t: t.step_count)


@pytest.fixture
def sessions() -> list[TrainingSession]:
    made: list[TrainingSession] = []
    yield made
    for s in made:
        s.close()


def new(sessions: list[TrainingSession]) -> TrainingSession:
    s = TrainingSession(load_builtin("zen"), TINY)
    sessions.append(s)
    return s


def test_a_closed_session_stops_its_thread(sessions: list[TrainingSession]) -> None:
    before = SERVER.live_threads()
    s = new(sessions)
    assert s.play()
    wait_until(lambda: steps(s) > 0)
    assert SERVER.live_threads() == before + 1
    s.close()  # what on_release does when the tab's websocket closes
    wait_until(lambda: SERVER.live_threads() == before, timeout=10)  # "within seconds" (0.2 s here)
    frozen = steps(s)
    time.sleep(0.3)
    assert steps(s) == frozen and not s.playing


def test_reconnect_resumes_only_what_was_training(sessions: list[TrainingSession]) -> None:
    playing, paused = new(sessions), new(sessions)
    assert playing.play()
    wait_until(lambda: steps(playing) > 0)
    playing.close()
    paused.close()
    assert not playing.playing
    playing.resume_after_reconnect()  # the same session's websocket is back
    paused.resume_after_reconnect()
    assert playing.playing and not paused.playing
    at = steps(playing)
    wait_until(lambda: steps(playing) > at)  # a new thread trains on from where it was
    playing.pause()
    playing.resume_after_reconnect()  # only once per disconnect
    assert not playing.playing


def test_workers_take_turns_and_all_progress(sessions: list[TrainingSession],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "SLICE_S", 0.01)
    active, most = 0, 0
    guard = threading.Lock()
    group = [new(sessions) for _ in range(4)]
    for s in group:
        run_for = s.trainer.run_for

        def counted(seconds: float, run_for=run_for, **options: object) -> list:
            nonlocal active, most
            with guard:
                active += 1
                most = max(most, active)
            try:
                time.sleep(0.002)  # widen the window in which an overlap would show
                return run_for(seconds, **options)
            finally:
                with guard:
                    active -= 1

        s.trainer.run_for = counted  # type: ignore[method-assign]
    for s in group:
        assert s.play()
    wait_until(lambda: all(steps(s) >= 20 for s in group))
    for s in group:
        s.pause()
    assert most == server.TRAIN_PARALLEL == 1


def test_pause_is_honoured_while_waiting_for_a_turn(sessions: list[TrainingSession],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    hog, waiter = new(sessions), new(sessions)
    monkeypatch.setattr(worker, "SLICE_S", 0.3)
    assert hog.play()
    wait_until(lambda: steps(hog) > 0)
    assert waiter.play()
    waiter.pause()  # before its first turn comes
    time.sleep(0.8)
    assert steps(waiter) == 0


def test_sessions_are_freed_once_nothing_refers_to_them() -> None:
    holder = [TrainingSession(load_builtin("zen"), TINY)]
    ref = weakref.ref(holder[0])
    assert holder[0].play()
    wait_until(lambda: steps(holder[0]) > 0)
    with_it = SERVER.live_sessions()
    holder[0].close()  # its thread ends, and drops its reference
    wait_until(lambda: SERVER.live_threads() == 0 or not holder[0]._thread.is_alive())
    holder.clear()  # what Streamlit does when the session expires
    gc.collect()
    assert ref() is None
    assert SERVER.live_sessions() <= with_it - 1


def test_server_threads_tells_pooled_threads_from_the_rest() -> None:
    # The closed-tab browser test checks that the unpooled ones go back to baseline.
    release = threading.Event()
    total, pooled = server_threads()
    started = [threading.Thread(target=release.wait, name=name, daemon=True)
               for name in ("AnyIO worker thread", "ThreadPoolExecutor-0_7", "ScriptRunner.scriptThread")]
    for t in started:
        t.start()
    try:
        assert server_threads() == (total + 3, pooled + 2)
    finally:
        release.set()
        for t in started:
            t.join()
    assert server_threads() == (total, pooled)


def test_a_collector_frees_cyclic_garbage_without_streamlits_per_run_gc() -> None:
    # .streamlit/config.toml turns runner.postScriptGC off; dropped sessions are cyclic garbage.
    TrainingSession(load_builtin("zen"), TINY)
    assert any(t.name == "unrolled-gc" and t.daemon for t in threading.enumerate())
    assert 1 <= server.GC_EVERY_S <= 300


def test_an_unexpected_error_in_a_slice_pauses_with_a_message(sessions: list[TrainingSession],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    s = new(sessions)

    def broken(*args: object) -> None:
        raise IndexError("a bug")

    monkeypatch.setattr(s, "_record_slice", broken)
    assert s.play()
    wait_until(lambda: not s.playing)
    assert s.message and "internal error" in s.message
    monkeypatch.undo()
    at = steps(s)
    assert s.play()  # and Play works again
    wait_until(lambda: steps(s) > at)


def test_the_worker_rests_longer_only_while_others_want_the_lock(sessions: list[TrainingSession],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lock, "BUSY_S", 3600.0)  # "recently" = within the hour: no timing here
    s = new(sessions)
    assert not s.lock.wanted()
    assert s.play()
    wait_until(lambda: s.trainer.step_count > 0)  # no read under the lock: only the worker used it
    s.pause()
    assert not s.lock.wanted()  # the worker's own slices do not count
    s.read(lambda t: t.step_count)  # a page read
    assert s.lock.wanted()
    monkeypatch.setattr(lock, "BUSY_S", 0.0)
    assert not s.lock.wanted()


def test_workers_step_aside_while_a_script_run_is_in_progress(sessions: list[TrainingSession]) -> None:
    """A click's full script run (app.py runs inside SERVER.interactive) gets the GIL: training
    stops within a step and waits, then goes on when the run ends (or after STEP_ASIDE_S)."""
    s = new(sessions)
    assert s.play()
    wait_until(lambda: steps(s) > 0)
    with SERVER.interactive():
        time.sleep(0.1)  # the slice under way ends after its current step
        frozen = steps(s)
        time.sleep(0.3)
        assert steps(s) == frozen
    wait_until(lambda: steps(s) > frozen, timeout=5)


def test_a_stuck_script_run_does_not_stop_training(sessions: list[TrainingSession],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "STEP_ASIDE_S", 0.05)
    s = new(sessions)
    assert s.play()
    with SERVER.interactive():
        at = steps(s)
        wait_until(lambda: steps(s) > at + 10, timeout=10)
