"""Links that reproduce a setup (ui/views/setup.py): what a link writes reads back as the same setup,
and anything else (malformed, out of range, unknown, an upload, a path) is left out and named."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from rnn_core.config import BOUNDS, DEFAULT_PRESET, PRESETS
from rnn_core.corpus import BUILTINS, DEFAULT_CORPUS, load_builtin
from ui.views.setup import (
    LINK_KEYS,
    SETTING_KEYS,
    UPLOAD_LABEL,
    Setup,
    corpus_label,
    link_query,
    link_url,
    read_link,
)

VOCAB = {name: len(load_builtin(name).vocab) for name in BUILTINS}


def read(params: dict[str, str | list[str]]):
    return read_link(params, VOCAB.__getitem__)


def params_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


SETUPS = [
    Setup(),
    Setup("zen", "fast", PRESETS["fast"].replace(batch=4, lr=5e-3, seed=12345)),
    Setup("brackets", "min-char-rnn", PRESETS["min-char-rnn"].replace(
        hidden=64, seq_len=40, lr=1e-7, clip=1e6, clip_mode="off", optimizer="rmsprop", batch=3,
        dtype="float32", init="randn", seed=2**32 - 1), presentation=True),
    Setup("python-source", "fast", PRESETS["min-char-rnn"]),  # every setting differs from its preset
    Setup("zen", "fast", PRESETS["fast"].replace(cell="lstm", hidden=32)),  # a loaded model's cell
]


@pytest.mark.parametrize("setup", SETUPS)
def test_a_link_reads_back_as_the_same_setup(setup):
    url = link_url("http://host:8501", "sample", setup)
    assert url.startswith("http://host:8501/sample")
    got = read(params_of(url))
    assert got.ignored == ()
    assert got.setup == setup


def test_a_link_names_only_what_differs_from_the_defaults():
    assert link_query(Setup()) == {}
    assert link_url("http://host:8501/", "", Setup()) == "http://host:8501/"
    q = link_query(Setup("zen", DEFAULT_PRESET, PRESETS[DEFAULT_PRESET].replace(seed=3)))
    assert q == {"corpus_choice": corpus_label("zen"), "seed": "3"}
    # A preset's own values are left out: the widgets' defaults are their preset's values.
    mcr = Setup(preset="min-char-rnn", config=PRESETS["min-char-rnn"])
    assert link_query(mcr) == {"preset": "min-char-rnn"}
    same = {"seq_len", "init", "seed", "cell"}  # the two presets agree on these
    assert set(link_query(SETUPS[3])) == {"corpus_choice", *SETTING_KEYS} - same


def test_a_missing_setting_is_its_presets_value():
    got = read({"preset": "min-char-rnn", "hidden": "64"})
    assert got.ignored == () and got.setup.config == PRESETS["min-char-rnn"].replace(hidden=64)


def test_the_built_in_text_by_its_label_or_its_name():
    assert read({"corpus_choice": corpus_label("zen")}).setup.corpus == "zen"
    assert read({"corpus_choice": "zen"}).setup.corpus == "zen"


BAD = {
    "lr": ["abc", "nan", "inf", "-1", "11", "0x10", "1_0", "", " 0.1"],
    "clip": ["0", "1e7", "five"],
    "hidden": ["0", "1025", "64.0", "-5", "1e2", "٣"],  # ٣: an Arabic-Indic 3, which int() would take
    "seq_len": ["401", "a"],
    "batch": ["0", "257"],
    "seed": ["-1", str(2**32)],
    "clip_mode": ["Value", "none"],
    "optimizer": ["lbfgs", "ADAM"],
    "dtype": ["float16"],
    "init": ["zeros"],
    "cell": ["LSTM", "transformer"],
    "preset": ["slow", "../fast"],
    "corpus_choice": ["/etc/passwd", "../README.md", "file:///etc/passwd", "http://example.com/t.txt",
                      "zen.txt"],
    "presentation": ["yes", "1"],
}


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in BAD.items() for v in vs])
def test_a_bad_value_is_ignored_and_named(key, value):
    got = read({key: value, "seed": "7"} if key != "seed" else {key: value})
    assert got.setup == read({"seed": "7"} if key != "seed" else {}).setup  # the default instead
    assert len(got.ignored) == 1
    assert ("text" if key == "corpus_choice" else key) in got.ignored[0]
    note = got.note()
    assert note is not None and note.startswith("This link had values that cannot be used")


def test_an_upload_cannot_travel_and_a_path_is_never_a_text():
    got = read({"corpus_choice": UPLOAD_LABEL})
    assert got.setup.corpus == DEFAULT_CORPUS
    assert "uploaded text cannot travel" in got.ignored[0]
    # Whatever the value, the text is a built-in's name: nothing else reaches load_builtin.
    for value in BAD["corpus_choice"]:
        assert read({"corpus_choice": value}).setup.corpus in BUILTINS


def test_unknown_and_repeated_parameters():
    got = read({"lr": ["0.5", "0.25"], "utm_source": "mail", "hidden": "64"})
    assert got.setup.config.lr == 0.25 and got.setup.config.hidden == 64  # the last, as Streamlit reads it
    assert any("utm\\_source" in note for note in got.ignored)  # quoted, markdown made inert
    assert any("all but the last of 2 values for lr" in note for note in got.ignored)


def test_a_hostile_value_is_quoted_inert_and_short():
    got = read({"lr": "[x](javascript:alert(1))" + "A" * 500, "**bold**": "1"})
    note = got.note()
    assert "](" not in note and "**" not in note.replace("\\*", "")
    assert len(note) < 400


def test_settings_valid_alone_but_too_big_together_fall_back_to_the_presets_sizes():
    hi = {k: str(int(BOUNDS[k][1])) for k in ("hidden", "seq_len", "batch")}
    got = read({**hi, "seed": "9"})
    base = PRESETS[DEFAULT_PRESET]
    assert (got.setup.config.hidden, got.setup.config.seq_len, got.setup.config.batch) == (
        base.hidden, base.seq_len, base.batch)
    assert got.setup.config.seed == 9
    assert any("size" in note for note in got.ignored)


def test_many_bad_values_make_one_short_note():
    got = read({f"junk{i}": "x" for i in range(50)})
    assert len(got.ignored) == 50
    assert "and 45 more" in got.note()


def test_every_link_key_is_a_widget_key_the_app_binds():
    # The parameters are the widgets' keys: the Train page's settings, the preset, the Data page's
    # text, and the presentation toggle's.
    assert set(LINK_KEYS) == {"corpus_choice", "preset", "presentation", "cell", *SETTING_KEYS}
