"""Showing user text safely and readably: characters as visible labels, markdown made inert,
counts. Every page, view and figure uses these, so a character looks the same everywhere. No
Streamlit here."""

from __future__ import annotations

import string
import unicodedata

_VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍", "\u00a0": "⍽", "\x7f": "␡"}
_MARKDOWN_SPECIAL = frozenset(string.punctuation)  # ASCII punctuation: CommonMark escapes all of it


def visible_char(ch: str) -> str:
    """A character as a visible label, so no axis tick, cell or message is empty or invisible:
    common whitespace as a symbol (␣ ⏎ ⇥ ␍ ⍽), the C0 control characters as their control pictures
    (␀ … ␟), combining marks on a dotted circle, and whatever else does not print (format
    characters, other spaces, C1 controls, unassigned code points) as its code point."""
    if ch in _VISIBLE:
        return _VISIBLE[ch]
    if ord(ch) < 0x20:
        return chr(0x2400 + ord(ch))  # the Unicode block "Control Pictures"
    if unicodedata.category(ch).startswith("M"):
        return "◌" + ch
    if not ch.isprintable():
        return f"U+{ord(ch):04X}"
    return ch


def visible_text(text: str) -> str:
    return "".join(visible_char(ch) for ch in text)


def one_line(text: str) -> str:
    """Line breaks and tabs made visible (spaces kept), so a text reads on one table row."""
    return "".join(_VISIBLE[ch] if ch in "\n\r\t" else ch for ch in text)


def escape_markdown(text: str, limit: int | None = None) -> str:
    """User text (a file name, a message that quotes a file or a typed text) made inert inside
    Streamlit markdown (st.markdown, st.caption, st.error): every ASCII punctuation character
    backslash-escaped, so no link, image, emphasis, HTML, :directive: or $math$ can form; runs of
    whitespace, newlines included, become one space; at most `limit` characters (ending in …)."""
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


def char_name(ch: str) -> str:
    """'LATIN SMALL LETTER E' style name, or the code point when unnamed."""
    return unicodedata.name(ch, f"U+{ord(ch):04X}")


def format_count(n: float) -> str:
    """1234 -> '1,234'; 1234567 -> '1.23 M'."""
    if n >= 1e6:
        return f"{n / 1e6:.2f} M"
    return f"{n:,.0f}"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "%": r"\%", "#": r"\#",
                  "&": r"\&", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}


def latex_text(text: str) -> str:
    """Text made literal inside LaTeX's \\text{} or \\texttt{} (st.latex, KaTeX): every character
    that LaTeX would read as a command, group, math or comment written as the character itself."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
