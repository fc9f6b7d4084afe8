"""Keyboard control, links that reproduce a run, and lessons, under AppTest (the real browser's
side, keys and the address bar, is tests/e2e/test_controls.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import DEFAULT_PRESET, PRESETS
from rnn_core.corpus import DEFAULT_CORPUS, load_builtin
from rnn_core.trainer import Trainer
from tests.apptest_support import app_state_of, new_app, stop_session, v2_navigation
from ui.views.lessons import LESSONS
from ui.views.setup import SETTING_KEYS, Setup, corpus_label, link_url

PAGES = ("pages/data.py", "pages/train.py", "pages/inspect.py", "pages/unrolled.py", "pages/sample.py")


@pytest.fixture
def opened() -> Iterator:
    """opened(query, page=None): a new session as a link with `query` opens it; all stopped after."""
    apps: list[AppTest] = []

    def make(query: dict[str, str | list[str]] | None = None, page: str | None = None) -> AppTest:
        at = new_app()
        if page:
            at.switch_page(page)
        at.query_params.update(query or {})
        apps.append(at)
        return at.run()

    with v2_navigation():
        yield make
    for at in apps:
        stop_session(at)


def widget(at: AppTest, key: str):
    """The Train page's widget keyed `key`, whatever its kind."""
    for kind in ("number_input", "selectbox", "button_group"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise KeyError(key)


def train_widgets(at: AppTest) -> dict[str, object]:
    return {key: widget(at, key).value for key in ("preset", *SETTING_KEYS)}


def shown(setup: Setup) -> dict[str, object]:
    """What the Train page's widgets show for `setup`."""
    return {"preset": setup.preset, **{k: getattr(setup.config, k) for k in SETTING_KEYS}}


def the_link(at: AppTest) -> str:
    (code,) = [c for c in at.sidebar.code if "?" in c.value or c.value.startswith("/")]
    return code.value


def query_of(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


def step(at: AppTest, n: int) -> None:
    for _ in range(n):
        at.button(key="step").click().run()


# --- keyboard ------------------------------------------------------------------------------------


def shortcuts(at: AppTest) -> dict[str, tuple[str, str, bool]]:
    """{button key: (shortcut, tooltip, disabled)} for every button with a shortcut."""
    return {b.key: (b.proto.shortcut, b.proto.help, b.proto.disabled) for b in at.button if b.proto.shortcut}


def test_play_pause_step_reset_have_keys_named_in_their_tooltips(opened):
    at = opened()
    keys = shortcuts(at)
    assert {k: v[0] for k, v in keys.items() if k in ("play", "pause", "step", "reset")} == {
        "play": "space", "pause": "space", "step": "right", "reset": "n"}
    for key, words in (("play", "key Space"), ("pause", "key Space"), ("step", "key →"), ("reset", "key N")):
        assert words in keys[key][1], key
    assert not keys["play"][2] and keys["pause"][2]  # paused: Space is Play's
    at.button(key="play").click().run()
    keys = shortcuts(at)
    assert keys["play"][2] and not keys["pause"][2]  # playing: Space is Pause's
    at.button(key="pause").click().run()


@pytest.mark.parametrize("page", PAGES)
def test_no_key_does_two_things_on_any_page(opened, page):
    at = opened(page=page)
    live = [(shortcut, key) for key, (shortcut, _, disabled) in shortcuts(at).items() if not disabled]
    assert len({s for s, _ in live}) == len(live), live
    if page == "pages/unrolled.py":  # → walks through the phases here, and Step says so
        keys = shortcuts(at)
        assert keys["unrolled_next"][0] == "right" and keys["unrolled_prev"][0] == "left"
        assert "step" not in keys
        assert "on this page → walks through the step" in at.button(key="step").proto.help


# --- links ---------------------------------------------------------------------------------------


def test_a_link_opens_its_page_with_its_setup(opened):
    setup = Setup("zen", "min-char-rnn", PRESETS["min-char-rnn"].replace(hidden=64, seed=42, lr=0.05,
                                                                         optimizer="rmsprop", init="randn"))
    link = link_url("http://host:8501", "sample", setup)
    at = opened({k: v[-1] for k, v in query_of(link).items()}, page="pages/sample.py")
    assert not at.exception and not at.warning
    state = app_state_of(at)
    assert state.corpus.name == "zen" and state.config == setup.config and state.preset == "min-char-rnn"
    assert the_link(at) == "/" + link.split("/", 3)[3]  # the panel offers the same link (AppTest: no host)
    at.switch_page("pages/train.py").run()
    assert train_widgets(at) == shown(setup)
    assert not state.session.playing and state.draft == state.config  # Play is the only click left
    at.switch_page("pages/data.py").run()
    assert at.selectbox(key="corpus_choice").value == "zen" and state.pending_corpus is None


def test_a_bad_link_opens_with_valid_values_and_a_short_note(opened):
    query = {"lr": "abc", "hidden": "100000", "optimizer": "lbfgs", "corpus_choice": "/etc/passwd",
             "preset": "min-char-rnn", "seed": "5", "evil": "<script>alert(1)</script>"}
    at = opened(query)
    assert not at.exception and not at.error
    (note,) = [w.value for w in at.warning if "cannot be used" in w.value]
    for word in ("lr", "hidden", "optimizer", "text", "evil"):
        assert word in note
    assert "<script>" not in note  # quoted inert
    state = app_state_of(at)
    assert state.corpus.name == DEFAULT_CORPUS
    assert state.config == PRESETS["min-char-rnn"].replace(seed=5)  # what was valid, kept
    assert at.query_params == {"preset": "min-char-rnn", "seed": "5"}  # the URL: what was used
    assert train_widgets(at)["seed"] == 5 and train_widgets(at)["hidden"] == 100
    at.run()
    assert not [w for w in at.warning if "cannot be used" in w.value]  # said once


def test_a_link_reproduces_the_run_it_came_from(opened):
    """A run on zen with changed settings; its link, opened in a new session, stepped as often:
    the same weights, to the bit. And a control: another seed gives other weights."""
    a = opened(page="pages/data.py")
    a.selectbox(key="corpus_choice").set_value("zen").run()
    a.button(key="confirm_corpus").click().run()
    a.switch_page("pages/train.py").run()
    for key, value in (("seed", 7), ("hidden", 48), ("batch", 3), ("lr", 0.01)):
        a.number_input(key=key).set_value(value).run()
    a.selectbox(key="optimizer").set_value("rmsprop").run()
    a.button_group(key="clip_mode").set_value("value").run()
    a.button(key="reset").click().run()
    step(a, 6)
    link = the_link(a)
    assert query_of(link) == {"corpus_choice": [corpus_label("zen")], "seed": ["7"], "hidden": ["48"],
                              "batch": ["3"], "lr": ["0.01"], "optimizer": ["rmsprop"],
                              "clip_mode": ["value"]}
    b = opened({k: v[-1] for k, v in query_of(link).items()})
    step(b, 6)
    sa, sb = app_state_of(a).session, app_state_of(b).session
    assert sa.trainer.config == sb.trainer.config and sa.trainer.step_count == sb.trainer.step_count == 6
    for name, w in sa.trainer.params.items():
        assert np.array_equal(w, sb.trainer.params[name]), name
    # The engine alone, from the same setup: the same weights too.
    engine = Trainer(load_builtin("zen"), sa.trainer.config)
    engine.run(6)
    assert all(np.array_equal(w, engine.params[k]) for k, w in sa.trainer.params.items())
    c = opened({**{k: v[-1] for k, v in query_of(link).items()}, "seed": "8"})
    step(c, 6)
    assert not np.array_equal(app_state_of(c).session.trainer.params["W"], sa.trainer.params["W"])


def test_an_uploaded_text_cannot_travel_and_the_panel_says_so(opened):
    at = opened(page="pages/data.py")
    at.file_uploader(key="corpus_upload").set_value(("notes.txt", b"some words of my own, " * 40,
                                                     "text/plain")).run()
    at.button(key="confirm_corpus").click().run()
    assert app_state_of(at).corpus.name == "notes.txt"
    assert "corpus_choice" not in query_of(the_link(at))
    assert any("uploaded text cannot travel in a link" in w.value for w in at.sidebar.warning)


# --- lessons -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_a_lesson_sets_exactly_its_setup(opened, lesson):
    at = opened({"seed": "99", "hidden": "32"})  # from somewhere else
    at.button(key="play").click().run()
    at.button(key=f"lesson_{lesson.key}").click().run()
    assert not at.exception and not at.error
    state = app_state_of(at)
    setup = lesson.setup
    assert (state.corpus.name, state.preset, state.config, state.draft) == (
        setup.corpus, setup.preset, setup.config, setup.config)
    assert not state.session.playing and state.session.trainer.step_count == 0
    assert train_widgets(at) == shown(setup)
    (note,) = [m.value for m in at.sidebar.markdown if m.value.startswith("**Lesson:")]
    assert lesson.title in note
    assert query_of(the_link(at)) == query_of(link_url("", "", setup))
    at.switch_page("pages/data.py").run()
    assert at.selectbox(key="corpus_choice").value == setup.corpus and state.pending_corpus is None
    at.button(key="play").click().run()  # the only other click
    if lesson.key == "sgd":  # it blows up within a few steps, as the lesson says: training stops
        deadline = time.monotonic() + 20
        while state.session.playing and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not state.session.playing and state.session.message
    else:
        assert state.session.playing
        at.button(key="pause").click().run()


def test_a_lessons_note_stays_until_done_or_another_text(opened):
    at = opened()
    at.button(key="lesson_clip").click().run()
    at.button_group(key="clip_mode").set_value("off").run()  # what the lesson asks for
    assert any(m.value.startswith("**Lesson: Clip or explode") for m in at.sidebar.markdown)
    at.button(key="lesson_done").click().run()
    assert not any(m.value.startswith("**Lesson:") for m in at.sidebar.markdown)
    assert app_state_of(at).config.clip_mode == "off"  # done with the note, not with the settings


def test_default_setup_is_the_docs_lesson_and_an_empty_link(opened):
    at = opened()
    assert the_link(at) == "/"
    docs = next(lesson for lesson in LESSONS if lesson.key == "docs").setup
    assert docs == Setup(DEFAULT_CORPUS, DEFAULT_PRESET, PRESETS[DEFAULT_PRESET])
