"""Corpus and vocabulary: decoding, normalisation, validation, built-in corpora."""

from __future__ import annotations

import codecs
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnn_core.corpus import (
    BUILTINS,
    DEFAULT_CORPUS,
    MAX_VOCAB,
    CorpusError,
    Vocab,
    corpus_from_bytes,
    corpus_from_text,
    load_builtin,
)

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Hello, world.\nThe quick brown fox jumps over the lazy dog.\n"


# --- vocabulary --------------------------------------------------------------------------------


def test_vocabulary_is_sorted_and_stable():
    a = corpus_from_text("hello world, hello!", seq_len=5)
    b = corpus_from_text("!olleh ,dlrow olleh", seq_len=5)  # same characters, another order
    assert a.vocab.chars == b.vocab.chars == " !,dehlorw"
    assert a.vocab == b.vocab and len(a.vocab) == 10
    assert a.data.dtype == np.int64 and a.data.shape == (len(a.text),)
    assert a.vocab.decode(a.data) == a.text
    assert list(a.data[:2]) == [a.vocab.stoi["h"], a.vocab.stoi["e"]]


def test_vocab_rejects_unsorted_or_repeated_characters_and_reports_unknown_ones():
    for chars in ("ba", "aab"):
        with pytest.raises(ValueError, match="sorted"):
            Vocab(chars)
    v = Vocab("abc")
    assert v.unknown("abcxax") == "x" and v.unknown("") == ""
    with pytest.raises(KeyError):
        v.encode("abz")


# --- decoding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    TEXT.encode("utf-8"),
    codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    TEXT.encode("utf-16"),  # Python's own, with its BOM
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16-native"])
def test_accepted_encodings_decode_to_the_same_text(raw):
    corpus = corpus_from_bytes(raw, name="f.txt")
    assert corpus.text == TEXT and corpus.name == "f.txt"
    assert "\ufeff" not in corpus.vocab.chars  # the BOM is not a character of the text


@pytest.mark.parametrize("raw", [
    b"line one\r\nline two\r\nline three\r\n",
    b"line one\rline two\rline three\r",
    b"line one\r\nline two\rline three\n",
])
def test_line_endings_become_newlines(raw):
    corpus = corpus_from_bytes(raw, seq_len=5)
    assert corpus.text == "line one\nline two\nline three\n"
    assert "\r" not in corpus.vocab.chars


def test_utf16_crlf_is_normalised_too():
    raw = "one\r\ntwo\r\nthree and more\r\n".encode("utf-16")
    assert corpus_from_bytes(raw, seq_len=5).text == "one\ntwo\nthree and more\n"


@pytest.mark.parametrize("text", [
    "emoji: 🙂🚀🎉 and flags 🇫🇷 in a line of text\n",
    "combining marks: e\u0301 a\u0308 n\u0303 kept as they are\n",
    "right to left: שלום עולם, مرحبا بالعالم\n",
    "mixed: Καλημέρα, 日本語のテキスト, Привет\n",
])
def test_any_script_is_accepted_unchanged(text):
    corpus = corpus_from_bytes(text.encode("utf-8"), seq_len=10)
    assert corpus.text == text  # no normalisation beyond line endings (combining marks stay)
    assert corpus.vocab.decode(corpus.data) == text
    assert "".join(sorted(set(text))) == corpus.vocab.chars


# --- what is not text --------------------------------------------------------------------------


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello " * 50)
    return buf.getvalue()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"IDAT" * 10
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x90" * 40


@pytest.mark.parametrize("raw, words", [
    (b"", "empty"),
    (b"   \n\t  \r\n   ", "only whitespace"),
    (codecs.BOM_UTF8, "empty"),
    (codecs.BOM_UTF16_LE + "  \n ".encode("utf-16-le"), "only whitespace"),
    (PNG, "binary"),
    (_zip_bytes(), "binary"),
    (ELF, "binary"),
    (b"hello\x00world, some text with a NUL byte in it", "NUL"),
    ("plain text saved as UTF-16 without a BOM".encode("utf-16-le"), "UTF-16 without a byte-order mark"),
    ("plain text saved as UTF-16 without a BOM".encode("utf-16-be"), "UTF-16 without a byte-order mark"),
    ("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, in Latin-1".encode("latin-1"), "not valid UTF-8"),
    (b"\xff\xfe" + b"abc", "not valid UTF-16"),  # a BOM, then an odd number of bytes
    ("text saved as UTF-32 with a BOM".encode("utf-32"), "binary"),
    (bytes(range(1, 32)) * 10 + b"some text", "control characters"),
], ids=["empty", "whitespace", "bom-only", "utf16-whitespace", "png", "zip", "elf", "nul", "utf16le-no-bom",
        "utf16be-no-bom", "latin1", "odd-utf16", "utf32", "control-chars"])
def test_unusable_bytes_give_a_human_message(raw, words):
    with pytest.raises(CorpusError) as info:
        corpus_from_bytes(raw, name="upload.bin")
    message = str(info.value)
    assert words in message
    assert message[0].isupper() and message.endswith(".") and "\n" not in message
    assert "Traceback" not in message and "codec" not in message
    assert isinstance(info.value, ValueError)


def test_too_short_for_the_sequence_length():
    corpus_from_text("x" * 26, seq_len=25)  # seq_len + 1 characters are enough
    with pytest.raises(CorpusError, match=r"too short: 25 characters.*at least 26"):
        corpus_from_text("x" * 25, seq_len=25)
    with pytest.raises(CorpusError, match="too short"):
        corpus_from_bytes(b"\r\n" * 10 + b"ab", seq_len=12)  # 12 characters after normalisation


def test_vocabulary_cap():
    chars = [chr(0x4E00 + i) for i in range(MAX_VOCAB)]
    corpus = corpus_from_text("".join(chars) * 2)
    assert len(corpus.vocab) == MAX_VOCAB
    with pytest.raises(CorpusError, match=f"{MAX_VOCAB + 1} different characters; the limit is {MAX_VOCAB}"):
        corpus_from_text("".join(chars) + "\u9fff")


# --- built-in corpora --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtin_corpora_load_with_a_description(name):
    corpus = load_builtin(name)
    entry = BUILTINS[name]
    assert corpus.name == name and corpus.description == entry.description
    assert len(entry.description) > 30 and entry.title
    assert len(corpus) > 500 and 10 < len(corpus.vocab) <= MAX_VOCAB
    assert corpus.vocab.decode(corpus.data[:200]) == corpus.text[:200]
    assert load_builtin(name).text == corpus.text  # the same text every time


def test_builtin_contents():
    assert DEFAULT_CORPUS in BUILTINS and set(BUILTINS) >= {"zen", "python-docs", "python-source", "brackets",
                                                         "recall"}
    assert "Beautiful is better than ugly." in load_builtin("zen").text
    assert "def " in load_builtin("python-source").text
    assert " the " in load_builtin("python-docs").text
    text = load_builtin("brackets").text
    pairs = {")": "(", "]": "[", "}": "{", ">": "<"}
    for line in text.splitlines():  # every line is balanced: closing needs memory of the opening
        stack = []
        for ch in line:
            if ch in "([{<":
                stack.append(ch)
            elif ch in pairs:
                assert stack.pop() == pairs[ch]
        assert not stack
    assert max(len(line) for line in text.splitlines()) > 30


def test_the_recall_corpus_needs_memory_of_a_letter_20_odd_steps_back():
    text = load_builtin("recall").text
    lines = text.splitlines()
    assert len(lines) == 4000 and text.endswith("=" + lines[-1][-1] + "\n")
    gaps = set()
    for line in lines:
        letter, rest = line[0], line[1:]
        digits, recalled = rest.split("=")
        assert letter in "abcd" and digits.isdigit() and recalled == letter.upper()
        gaps.add(len(digits))
    assert gaps == set(range(20, 25))  # the capital comes 22 to 26 characters after its letter
    assert {line[0] for line in lines} == set("abcd")


def test_unknown_builtin():
    with pytest.raises(CorpusError, match="Unknown built-in corpus 'shakespeare'"):
        load_builtin("shakespeare")


def test_builtins_need_no_network_and_print_nothing():
    code = (
        "import json, socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from rnn_core.corpus import BUILTINS, load_builtin\n"
        "sizes = {name: len(load_builtin(name)) for name in BUILTINS}\n"
        "print(json.dumps(sizes))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True)
    sizes = json.loads(out.stdout)  # only our line: importing `this` printed nothing
    assert set(sizes) == set(BUILTINS) and min(sizes.values()) > 500
    assert out.stderr == ""
