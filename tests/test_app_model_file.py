"""Save / load model in the sidebar (ui/model_file.py), under AppTest with real checkpoint bytes.

A good checkpoint resumes training exactly where it was saved; every kind of bad file is refused
with a message in the page while the running model stays exactly as it was.
"""

from __future__ import annotations

import io
import pickle
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core import checkpoint
from rnn_core.corpus import load_builtin
from rnn_core.trainer import Trainer
from ui.session.worker import TrainingSession
from ui.widgets.model_file import checkpoint_bytes

NPZ = "application/octet-stream"


def session(at: AppTest) -> TrainingSession:
    return at.session_state["unrolled"].session


def params(s: TrainingSession) -> dict[str, np.ndarray]:
    return s.read(lambda t: t.snapshot_params())


def step(at: AppTest, n: int) -> None:
    for _ in range(n):
        at.button(key="step").click().run()


def upload(at: AppTest, raw: bytes, name: str = "model.npz") -> None:
    at.file_uploader(key="model_upload").set_value((name, raw, NPZ)).run()


def rewrite(raw: bytes, **changes: np.ndarray | None) -> bytes:
    """The checkpoint with some arrays replaced (None: removed), saved again as .npz."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for k, v in changes.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_download_is_generated_on_click_from_the_current_step(app: AppTest) -> None:
    button = app.download_button(key="model_download")
    # Deferred: the bytes are produced when clicked, so they are never a stale step and cost
    # nothing on the (frequent) reruns in between.
    assert button.proto.deferred_file_id
    step(app, 2)
    ckpt = checkpoint.from_bytes(checkpoint_bytes(session(app)))
    assert ckpt.trainer is not None and ckpt.trainer["step"] == 2
    assert ckpt.vocab.chars == app.session_state["unrolled"].corpus.vocab.chars


def test_round_trip_resumes_exactly(app: AppTest) -> None:
    s = session(app)
    step(app, 3)
    raw = checkpoint_bytes(s)
    step(app, 4)  # the run we must reproduce after loading
    expected_loss = s.read(lambda t: t.history.column("loss")[-4:])
    expected = params(s)
    trainer_before = s.trainer

    upload(app, raw)
    assert not app.exception
    assert "Loaded a model at step 3" in app.success[0].value
    assert s.trainer is not trainer_before
    assert s.read(lambda t: t.step_count) == 3
    step(app, 4)  # reruns must not load the same file again
    assert s.read(lambda t: t.step_count) == 7
    np.testing.assert_array_equal(s.read(lambda t: t.history.column("loss")[-4:]), expected_loss)
    for k, a in params(s).items():
        np.testing.assert_array_equal(a, expected[k], err_msg=k)
    assert any("· step 7 ·" in m.value for m in app.markdown)  # the sidebar status agrees


def test_loading_pauses_training_first(app: AppTest) -> None:
    s = session(app)
    step(app, 1)
    raw = checkpoint_bytes(s)
    app.button(key="play").click().run()
    assert s.playing
    upload(app, raw)
    assert not s.playing
    time.sleep(0.3)  # a worker still training would move on from step 1
    assert s.read(lambda t: t.step_count) == 1
    assert not app.button(key="play").disabled


def test_loaded_settings_become_the_draft(app: AppTest) -> None:
    corpus = load_builtin("python-docs")
    other = Trainer(corpus, app.session_state["unrolled"].draft.replace(hidden=24, optimizer="sgd",
                                                                         lr=0.05))
    other.run(2)
    upload(app, checkpoint.to_bytes(other))
    state = app.session_state["unrolled"]
    assert state.config.hidden == 24 and state.draft == other.config
    assert app.number_input(key="hidden").value == 24
    assert app.number_input(key="lr").value == pytest.approx(0.05)


def _without(raw: bytes, *prefixes: str) -> bytes:
    """The checkpoint without the arrays whose names start with any of `prefixes`."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        names = [k for k in npz.files if k.startswith(prefixes)]
    return rewrite(raw, **dict.fromkeys(names))


@pytest.mark.parametrize(("dropped", "missing"), [
    (("optimizer", "opt."), "not its optimizer state"),
    (("trainer", "h"), "not its place in the text"),
])
def test_a_partial_checkpoint_loads_and_says_what_was_not_resumed(app: AppTest, dropped: tuple[str, ...],
                                                                   missing: str) -> None:
    s = session(app)
    step(app, 3)
    expected = params(s)
    upload(app, _without(checkpoint_bytes(s), *dropped))
    assert not app.exception and not app.success and not app.error
    (warning,) = [w.value for w in app.warning if "Loaded" in w.value]
    assert missing in warning and "starts again at step 0" in warning
    assert s.read(lambda t: t.step_count) == 0
    for k, a in params(s).items():  # the weights did load
        np.testing.assert_array_equal(a, expected[k], err_msg=k)
    step(app, 1)
    assert s.read(lambda t: t.step_count) == 1


def _good(app: AppTest) -> bytes:
    return checkpoint_bytes(session(app))


def _zen_checkpoint(app: AppTest) -> bytes:
    t = Trainer(load_builtin("zen"), app.session_state["unrolled"].config)
    return checkpoint.to_bytes(t)


def _object_array(app: AppTest) -> bytes:
    raw = _good(app)
    with np.load(io.BytesIO(raw)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["W"] = np.array([{"evil": "payload"}], dtype=object)  # np.savez pickles object arrays
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _huge_settings(app: AppTest) -> bytes:
    # Valid settings, each within its bound, but together far beyond one session's memory.
    cfg = app.session_state["unrolled"].config.replace(hidden=8, seq_len=400, batch=256,
                                                          dtype="float64")
    return checkpoint.to_bytes(Trainer(load_builtin("python-docs"), cfg))


BAD_FILES = {
    "empty": lambda app: b"",
    "text": lambda app: b"hello, this is not a model\n" * 10,
    "garbage": lambda app: np.random.default_rng(0).bytes(5000),
    "truncated": lambda app: _good(app)[: len(_good(app)) // 2],
    "pickle": lambda app: pickle.dumps({"W": np.zeros((3, 3))}),
    "object array": _object_array,
    "wrong shape": lambda app: rewrite(_good(app), W=np.zeros((7, 7), np.float32)),
    "missing weights": lambda app: rewrite(_good(app), V=None),
    "nan weights": lambda app: rewrite(_good(app), c=np.full_like(
        np.load(io.BytesIO(_good(app)))["c"], np.nan)),
    "wrong vocabulary": _zen_checkpoint,
    "too big to train": _huge_settings,
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_files_are_refused_and_the_model_kept(app: AppTest, kind: str) -> None:
    s = session(app)
    step(app, 2)
    trainer, before = s.trainer, params(s)
    upload(app, BAD_FILES[kind](app), name=f"{kind}.npz")
    assert not app.exception
    errors = [e.value for e in app.error]
    assert any("This model was not loaded" in e and "unchanged" in e for e in errors), errors
    assert s.trainer is trainer
    assert s.read(lambda t: t.step_count) == 2
    for k, a in params(s).items():
        np.testing.assert_array_equal(a, before[k], err_msg=k)
    step(app, 1)  # and training carries on from it
    assert s.read(lambda t: t.step_count) == 3


def test_refusal_names_the_problem(app: AppTest) -> None:
    upload(app, _zen_checkpoint(app))
    assert "vocabulary" in app.error[0].value
    upload(app, pickle.dumps([1, 2, 3]))
    assert "pickle" in app.error[0].value.lower()
    upload(app, _huge_settings(app))
    assert "MB" in app.error[0].value and "Lower the hidden size" in app.error[0].value


def test_a_good_file_after_a_bad_one_loads(app: AppTest) -> None:
    s = session(app)
    step(app, 2)
    raw = checkpoint_bytes(s)
    step(app, 1)
    upload(app, b"junk")
    assert app.error
    upload(app, raw)
    assert not [e for e in app.error if "not loaded" in e.value]
    assert s.read(lambda t: t.step_count) == 2
    app.file_uploader(key="model_upload").set_value(None).run()
    assert not app.success and not [e for e in app.error if "not loaded" in e.value]


def test_after_a_load_the_status_has_the_loss_and_a_new_model_ends_the_load_message(app: AppTest) -> None:
    s = session(app)
    step(app, 3)
    raw = checkpoint_bytes(s)
    smooth = s.read(lambda t: t.last_record.smooth_bpc)
    upload(app, raw)
    assert "Loaded a model at step 3" in app.success[0].value
    status = next(m.value for m in app.sidebar.markdown if "step 3" in m.value)
    assert f"· {smooth:.2f} bits/char ·" in status  # no step taken since the load, yet a loss shown
    assert [(e.kind, e.label) for e in s.event_items()] == [("load", "model loaded at step 3")]
    app.button(key="reset").click().run()  # a new model: the file is still in the uploader, ...
    assert not [m for m in app.success if "Loaded a model" in m.value]  # ... but no longer running
    assert s.read(lambda t: t.step_count) == 0  # and it was not loaded again
