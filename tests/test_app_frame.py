"""The frame (app.py): navigation, the sidebar's status and training controls, the refresh
control, and the boundaries the app's layout promises."""

import re
import subprocess
import sys
import time

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from tests.apptest_support import ROOT, app_state_of, new_app, status_of, stop_session
from ui.widgets.sidebar import live_interval

PAGES = ["pages/data.py", "pages/train.py", "pages/inspect.py", "pages/unrolled.py", "pages/sample.py"]


def step_in(status: str) -> int:
    m = re.search(r"step ([\d,]+)", status)
    assert m, status
    return int(m.group(1).replace(",", ""))


def wait_for_steps(at: AppTest, n: int, timeout: float = 20.0) -> int:
    """Rerun until the status shows at least n steps (the worker trains in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        step = step_in(status_of(at))
        if step >= n or time.monotonic() > deadline:
            return step
        time.sleep(0.2)


def test_opens_on_train_with_default_corpus_and_preset(app):
    assert not app.exception
    assert app.header[0].value == "Train"
    status = status_of(app)
    assert "Paused" in status and step_in(status) == 0
    state = app_state_of(app)
    assert state.corpus.name == "python-docs"
    assert state.config == state.draft
    assert any("python" in c.value for c in app.sidebar.caption)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_the_sidebar(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert "step" in status_of(app)
    for key in ("play", "pause", "step", "reset"):
        assert app.button(key=key)


def test_play_trains_in_the_background_and_pause_freezes(app):
    app.button(key="play").click().run()
    assert "Training" in status_of(app)
    assert app.button(key="play").disabled and not app.button(key="pause").disabled
    assert live_interval(app_state_of(app)) == 1.0  # fragments poll while training
    assert wait_for_steps(app, 5) >= 5
    app.button(key="pause").click().run()
    assert "Paused" in status_of(app)
    assert live_interval(app_state_of(app)) is None  # and stop polling when paused
    frozen = step_in(status_of(app))
    time.sleep(0.5)
    app.run()
    assert step_in(status_of(app)) == frozen


def test_training_continues_across_page_switches(app):
    app.button(key="play").click().run()
    before = wait_for_steps(app, 3)
    app.switch_page("pages/data.py").run()
    time.sleep(0.5)
    app.switch_page("pages/train.py").run()
    assert app_state_of(app).session.playing
    assert wait_for_steps(app, before + 3) > before


def test_step_does_one_update_and_reset_starts_over(app):
    for n in (1, 2):
        app.button(key="step").click().run()
        assert step_in(status_of(app)) == n
    weights = app_state_of(app).session.read(lambda t: t.params["W"].copy())
    app.button(key="reset").click().run()
    assert step_in(status_of(app)) == 0
    after = app_state_of(app).session.read(lambda t: t.params["W"])
    assert not (weights == after).all()  # the updates are gone: seeded initial weights again


def test_refused_reset_keeps_the_model_and_says_why(app):
    state = app_state_of(app)
    app.button(key="step").click().run()
    # A text shorter than the draft's sequence length cannot make a model: Reset must refuse.
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="corpus_upload").set_value(("short.txt", b"abcdefghij" * 5, "text/plain")).run()
    app.button(key="confirm_corpus").click().run()
    assert state.corpus.name == "short.txt"
    app.switch_page("pages/train.py").run()
    app.number_input(key="seq_len").set_value(100).run()
    app.button(key="reset").click().run()
    assert any("too short" in e.value for e in app.sidebar.error)
    assert state.config.seq_len == 25 and state.corpus.name == "short.txt"


def test_refresh_interval_control(app):
    assert app.select_slider(key="refresh_s").value == 1.0
    app.select_slider(key="refresh_s").set_value(2.0).run()
    state = app_state_of(app)
    assert state.refresh_s == 2.0
    app.button(key="play").click().run()
    assert live_interval(state) == 2.0


def test_server_busy_message_past_the_cap(app, monkeypatch):
    from ui.session import server

    monkeypatch.setattr(server, "MAX_TRAINING", 0)
    app.button(key="play").click().run()
    assert not app_state_of(app).session.playing
    assert any("Server busy" in e.value for e in app.sidebar.error)


def test_the_frame_appears_even_in_streamlit_legacy_pages_mode():
    """A fresh server runs in the pages/-folder mode until st.navigation runs; app_state() leaves
    that mode, so even the first run of a page script alone ends up in the full frame."""
    at = new_app()  # no v2_navigation: AppTest turns the legacy mode on before every run
    try:
        for _ in range(2):
            at.run()
            assert not at.exception
            assert "step" in status_of(at)
            assert at.header[0].value == "Train"
        assert PagesManager.uses_pages_directory is False
    finally:
        stop_session(at)


def test_config_toml_sets_a_theme():
    text = (ROOT / ".streamlit" / "config.toml").read_text()
    assert "[theme]" in text and "baseFontSize" in text


def test_process_tuning_keeps_no_script_thread_and_so_no_session() -> None:
    """threadpoolctl keeps the thread that first limits OpenBLAS (OpenBLASController's controlling
    thread, threadpoolctl 3.8): were it the app's first script thread, its ScriptRunContext, and
    through it the first session's state and model, would outlive the tab (found by the closed-tab
    e2e test). tune_process() lets it go. A fresh interpreter, where the app tunes first."""
    code = ("from tests.apptest_support import new_app, stop_session, v2_navigation\n"
            "with v2_navigation():\n"
            "    at = new_app(); at.run(); stop_session(at)\n"
            "from threadpoolctl import OpenBLASController\n"
            "t = OpenBLASController._SHARED_STATE.controlling_thread\n"
            "from threadpoolctl import threadpool_info\n"
            "print([i['num_threads'] for i in threadpool_info()], t is None)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["[1]", "True"]  # the limit holds, and no thread is kept
