"""ui/text.py: one way to show a character, one way to make user text inert in markdown."""

import string

import pytest

from ui.text import escape_markdown, latex_text, one_line, visible_char, visible_text


@pytest.mark.parametrize(("ch", "label"), [
    (" ", "␣"), ("\n", "⏎"), ("\t", "⇥"), ("\r", "␍"), ("\u00a0", "⍽"), ("\x7f", "␡"),
    ("\x00", "␀"), ("\x01", "␁"), ("\x1b", "␛"), ("\x1f", "␟"),       # C0: control pictures
    ("\x85", "U+0085"), ("\x9f", "U+009F"),                            # C1 controls
    ("\u200b", "U+200B"), ("\u200f", "U+200F"), ("\u2003", "U+2003"),  # format chars, other spaces
    ("\u2028", "U+2028"), ("\ue000", "U+E000"),                        # line separator, private use
    ("\u0301", "◌\u0301"),                                             # a combining mark
    ("a", "a"), ("<", "<"), ("é", "é"), ("ש", "ש"), ("☃", "☃"),
])
def test_visible_char(ch: str, label: str) -> None:
    assert visible_char(ch) == label


def test_every_character_below_0x250_gets_a_non_blank_label() -> None:
    for code in range(0x250):
        label = visible_char(chr(code))
        assert label and label.isprintable() and not label.isspace(), hex(code)


def test_visible_text_and_one_line() -> None:
    assert visible_text("a b\n\x01") == "a␣b⏎␁"
    assert one_line("a b\n\tc\r\n") == "a b⏎⇥c␍⏎"


@pytest.mark.parametrize(("raw", "shown"), [
    ("notes.txt", r"notes\.txt"),
    ("**x**", r"\*\*x\*\*"),
    ("<b>hi</b>", r"\<b\>hi\<\/b\>"),
    ("[a](javascript:x)", r"\[a\]\(javascript\:x\)"),
    (":red[hi] $x$", r"\:red\[hi\] \$x\$"),
    ("two\nlines", "two lines"),
    ("é ☃", "é ☃"),
])
def test_escape_markdown(raw: str, shown: str) -> None:
    assert escape_markdown(raw) == shown


def test_escape_markdown_escapes_every_ascii_punctuation_character() -> None:
    assert escape_markdown(string.punctuation) == "".join("\\" + ch for ch in string.punctuation)


def test_escape_markdown_shortens_only_when_asked() -> None:
    assert escape_markdown("a" * 500) == "a" * 500
    assert escape_markdown("a" * 500, limit=40) == "a" * 39 + "…"


def test_latex_text_writes_every_special_character_as_itself() -> None:
    assert latex_text("a{b}") == r"a\{b\}"
    assert latex_text("$%#&_") == r"\$\%\#\&\_"
    assert latex_text("^~\\") == r"\textasciicircum{}\textasciitilde{}\textbackslash{}"
    assert latex_text("␣é<") == "␣é<"  # everything else as it is
