"""The Data page: built-in choice, upload (real bytes), the confirm step, and every kind of file
that must be refused without touching the corpus, the weights or the history."""

import codecs
import io
import re
import zipfile

import numpy as np
import pytest

from rnn_core.corpus import MAX_VOCAB
from tests.apptest_support import app_state_of, errors_of, status_of
from ui.widgets.corpus_flow import UPLOAD_LIMIT_MB

TEXT = "It is a truth universally acknowledged, that a single man in possession of a good fortune.\n" * 5


@pytest.fixture
def data(app):
    """The app on the Data page, after two training steps (so there is history to lose)."""
    app.button(key="step").click().run()
    app.button(key="step").click().run()
    app.switch_page("pages/data.py").run()
    assert not app.exception
    return app


def snapshot(at) -> tuple:
    state = app_state_of(at)
    return state.session.read(lambda t: (t.corpus, t.step_count, len(t.history),
                                         {k: v.copy() for k, v in t.params.items()}))


def assert_unchanged(at, before: tuple) -> None:
    corpus, step, rows, params = snapshot(at)
    assert corpus is before[0] and step == before[1] and rows == before[2]
    assert all(np.array_equal(params[k], before[3][k]) for k in params)


def upload(at, name: str, raw: bytes):
    return at.file_uploader(key="corpus_upload").set_value((name, raw, "text/plain")).run()


def test_shows_the_corpus_in_use(data):
    assert data.selectbox(key="corpus_choice").value == "python-docs"
    labels = {m.label: m.value for m in data.metric}
    assert labels["Vocabulary"].endswith("symbols") and labels["Characters"]
    assert data.get("plotly_chart"), "character-frequency chart"
    assert data.code[0].value.startswith("The ")  # the preview, as plain text
    assert any(f"{UPLOAD_LIMIT_MB} MB" in u.label for u in data.get("file_uploader"))


def test_a_builtin_choice_waits_for_confirmation(data):
    before = snapshot(data)
    data.selectbox(key="corpus_choice").set_value("zen").run()
    assert_unchanged(data, before)  # only a proposal so far
    assert data.button(key="confirm_corpus")
    data.button(key="confirm_corpus").click().run()
    state = app_state_of(data)
    assert state.corpus.name == "zen" and state.pending_corpus is None
    assert "step 0" in status_of(data)
    assert data.selectbox(key="corpus_choice").value == "zen"


def test_cancel_keeps_the_corpus_and_the_selectbox_goes_back(data):
    before = snapshot(data)
    data.selectbox(key="corpus_choice").set_value("brackets").run()
    data.button(key="cancel_corpus").click().run()
    assert_unchanged(data, before)
    assert data.selectbox(key="corpus_choice").value == "python-docs"
    assert not data.get("button") or "confirm_corpus" not in [b.key for b in data.button]


def test_upload_a_real_file_then_confirm(data):
    raw = ("Ünïcödé text 🙂 with CRLF\r\n" * 20 + "שלום עולם\r\n").encode()
    before = snapshot(data)
    upload(data, "my notes.txt", raw)
    assert not errors_of(data)
    assert_unchanged(data, before)
    data.button(key="confirm_corpus").click().run()
    state = app_state_of(data)
    assert state.corpus.name == "my notes.txt"
    assert "\r" not in state.corpus.text and "🙂" in state.corpus.text
    assert state.session.read(lambda t: t.step_count) == 0
    assert data.selectbox(key="corpus_choice").value == "upload"
    assert "🙂" in data.main.code[-1].value


def _png() -> bytes:
    return bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(64)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", TEXT)
    return buf.getvalue()


BAD_FILES = {
    "empty": (b"", "empty"),
    "whitespace": (b" \n\t \r\n  " * 20, "whitespace"),
    "png": (_png(), "UTF-8"),
    "zip": (_zip(), "NUL"),
    "elf": (b"\x7fELF\x02\x01\x01\x00" + bytes(200), "NUL"),
    "nul": (TEXT.encode() + b"\x00" + TEXT.encode(), "NUL"),
    "utf16-no-bom": (TEXT.encode("utf-16-le"), "NUL"),
    "undecodable": (TEXT.encode() + b"\xff\xfe\xfa" + TEXT.encode(), "UTF-8"),
    "latin1": (("café crème brûlée déjà vu, " * 10).encode("latin-1"), "UTF-8"),
    "too-short": (b"hello", "too short"),
    "controls": (("ab\x01\x02\x03cd" * 50).encode(), "control"),
    "vocab-over-cap": ("".join(chr(0x4E00 + i) for i in range(MAX_VOCAB + 50)).encode(), "limit"),
    "oversize": (b"a" * (UPLOAD_LIMIT_MB * 2**20 + 1), f"{UPLOAD_LIMIT_MB} MB"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_refused_file_says_why_and_changes_nothing(data, kind):
    raw, expected = BAD_FILES[kind]
    before = snapshot(data)
    upload(data, f"{kind}.txt", raw)
    assert not data.exception
    errors = errors_of(data)
    assert len(errors) == 1 and expected.lower() in errors[0].lower(), errors
    assert_unchanged(data, before)
    state = app_state_of(data)
    assert state.pending_corpus is None
    assert not [b for b in data.button if b.key == "confirm_corpus"]
    # Still usable afterwards: a good file is accepted.
    upload(data, "good.txt", TEXT.encode())
    assert not errors_of(data) and state.pending_corpus is not None


def test_utf16_with_bom_is_accepted(data):
    upload(data, "utf16.txt", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"))
    assert not errors_of(data)
    assert app_state_of(data).pending_corpus.text.startswith("It is")


def test_html_and_markdown_are_shown_as_text(data):
    name = "<img src=x onerror=alert(1)>**bold**[link](http://x).txt"
    content = "<script>alert('x')</script>\n# Heading\n**bold** and [link](javascript:alert(1))\n" * 5
    upload(data, name, content.encode())
    data.button(key="confirm_corpus").click().run()
    assert not data.exception
    assert app_state_of(data).corpus.text == content
    # The preview is a code block: shown, not rendered.
    assert data.main.code[-1].value == content.rstrip("\n")
    rendered = [m.value for m in [*data.markdown, *data.subheader, *data.caption, *data.sidebar.caption]]
    shown = [t for t in rendered if "img" in t]
    assert shown, "the file name is shown"
    for text in shown:  # every markdown/HTML character of the name is backslash-escaped
        bare = re.sub(r"\\.", "", text)  # drop escaped characters
        assert not re.search(r"[<>\[\]()]", bare), text
        assert bare.count("*") in (0, 4), text  # only the page's own **bold** markers


def test_removing_the_upload_drops_its_proposal(data):
    upload(data, "good.txt", TEXT.encode())
    assert app_state_of(data).pending_corpus is not None
    data.file_uploader(key="corpus_upload").clear().run()
    assert app_state_of(data).pending_corpus is None
