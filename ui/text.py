"""Showing user text safely and readably. No Streamlit here."""

from __future__ import annotations

import re
import unicodedata

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&])")
_VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍", "\u00a0": "⍽", "\x7f": "␡"}


def escape_markdown(text: str, limit: int = 80) -> str:
    """User text (a file name) safe inside st.markdown/caption: every markdown and HTML character
    escaped, newlines flattened, shortened to `limit` characters."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def visible_char(ch: str) -> str:
    """A character as a visible label: whitespace and control characters get a symbol, combining
    marks sit on a dotted circle, so no axis label is empty or invisible."""
    if ch in _VISIBLE:
        return _VISIBLE[ch]
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"U+{ord(ch):04X}"
    if category.startswith("M"):
        return "◌" + ch
    if category in ("Zs", "Zl", "Zp", "Cf"):
        return f"U+{ord(ch):04X}"
    return ch


def char_name(ch: str) -> str:
    """'LATIN SMALL LETTER E' style name, or the code point when unnamed."""
    return unicodedata.name(ch, f"U+{ord(ch):04X}")


def format_count(n: float) -> str:
    """1234 -> '1,234'; 1234567 -> '1.23 M'."""
    if n >= 1e6:
        return f"{n / 1e6:.2f} M"
    return f"{n:,.0f}"
