"""Corpus and vocabulary: raw bytes in, an encoded character sequence out.

Everything a user uploads passes through `corpus_from_bytes`, so every way a file can be unusable
ends here as a `CorpusError` whose message can be shown to a person as it is.
"""

from __future__ import annotations

import codecs
import contextlib
import inspect
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

MAX_VOCAB = 1000  # distinct characters; the softmax costs O(K) per character, so cap K
MAX_CONTROL_FRACTION = 0.01  # more control characters than this and the "text" is binary


class CorpusError(ValueError):
    """A text that cannot be trained on; the message is meant for the user."""


@dataclass(frozen=True)
class Vocab:
    """The sorted set of characters of a corpus; index i is character chars[i]."""

    chars: str
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if list(self.chars) != sorted(set(self.chars)):
            raise ValueError("vocabulary characters must be unique and sorted")
        object.__setattr__(self, "stoi", {ch: i for i, ch in enumerate(self.chars)})

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Text -> int array of indices, shape (len(text),). Unknown characters raise KeyError."""
        return np.fromiter((self.stoi[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids: np.ndarray | list[int]) -> str:
        return "".join(self.chars[i] for i in ids)

    def unknown(self, text: str) -> str:
        """The characters of `text` that are not in the vocabulary, sorted, each once."""
        return "".join(sorted(set(text) - set(self.chars)))


@dataclass(frozen=True)
class Corpus:
    """A decoded, normalised text with its vocabulary and its encoding (shape (N,))."""

    name: str
    text: str
    vocab: Vocab
    data: np.ndarray
    description: str = ""

    def __len__(self) -> int:
        return len(self.text)


def decode_bytes(raw: bytes) -> str:
    """Bytes -> str. UTF-8 (BOM optional) or UTF-16 with a BOM; anything else is a CorpusError."""
    if raw.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", raw
    else:
        encoding, body = "utf-8", raw
        if b"\x00" in raw:
            raise CorpusError(
                "This file contains NUL bytes, so it looks like binary data (or UTF-16 without a "
                "byte-order mark). Please use a plain-text file saved as UTF-8."
            )
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"This file is not valid {encoding.upper()} text (undecodable bytes at position "
            f"{exc.start}). Please save it as UTF-8 and try again."
        ) from None
    if "\x00" in text:
        raise CorpusError("This text contains NUL characters, so it looks like binary data.")
    return text


def normalise(text: str) -> str:
    """Line endings to \\n (CRLF and lone CR), and a leading BOM character dropped."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _control_fraction(text: str) -> float:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t\f")
    return controls / max(len(text), 1)


def corpus_from_text(text: str, name: str = "text", seq_len: int = 25, description: str = "") -> Corpus:
    """Validate and encode a text. `seq_len` sets the minimum length (seq_len + 1 characters)."""
    text = normalise(text)
    if not text:
        raise CorpusError("The text is empty. Please choose a file with some text in it.")
    if not text.strip():
        raise CorpusError("The text contains only whitespace. Please choose a file with some text in it.")
    if _control_fraction(text) > MAX_CONTROL_FRACTION:
        raise CorpusError(
            "This file is mostly control characters, so it looks like binary data, not text."
        )
    if len(text) < seq_len + 1:
        raise CorpusError(
            f"The text is too short: {len(text)} characters, but training on chunks of {seq_len} "
            f"needs at least {seq_len + 1}. Use a longer text or a shorter sequence length."
        )
    vocab = Vocab.from_text(text)
    if len(vocab) > MAX_VOCAB:
        raise CorpusError(
            f"The text uses {len(vocab)} different characters; the limit is {MAX_VOCAB}. "
            "Use a text in fewer scripts, or a shorter one."
        )
    return Corpus(name=name, text=text, vocab=vocab, data=vocab.encode(text), description=description)


def corpus_from_bytes(raw: bytes, name: str = "upload", seq_len: int = 25) -> Corpus:
    """Decode, normalise, validate and encode uploaded bytes."""
    if not raw:
        raise CorpusError("The file is empty. Please choose a file with some text in it.")
    return corpus_from_text(decode_bytes(raw), name=name, seq_len=seq_len)


# --- Built-in corpora: generated or taken from the standard library, never downloaded ---------


def _zen() -> str:
    # Importing `this` prints the Zen; keep stdout clean and decode the module's rot13 string.
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13") + "\n"


def _python_docs() -> str:
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key] for key in sorted(topics))


_SOURCE_MODULES = ("textwrap", "string", "fractions", "statistics", "heapq", "bisect", "colorsys",
                   "shlex", "calendar", "difflib")


def _python_source() -> str:
    import importlib

    return "\n\n".join(inspect.getsource(importlib.import_module(m)) for m in _SOURCE_MODULES)


def _brackets(n_lines: int = 6000, seed: int = 0) -> str:
    """Lines of nested, balanced brackets with letters between them.

    Closing a bracket correctly means remembering which kind was opened, possibly many characters
    earlier, so this corpus rewards long-range memory (and shows where a plain RNN runs out).
    """
    rng = np.random.default_rng(seed)
    pairs = ["()", "[]", "{}", "<>"]
    lines = []
    for _ in range(n_lines):
        out: list[str] = []
        stack: list[str] = []
        for _ in range(int(rng.integers(8, 40))):
            r = rng.random()
            if stack and (r < 0.35 or len(stack) >= 6):
                out.append(stack.pop())
            elif r < 0.7:
                pair = pairs[int(rng.integers(len(pairs)))]
                out.append(pair[0])
                stack.append(pair[1])
            else:
                out.append("abcdefgh"[int(rng.integers(8))])
        out.extend(reversed(stack))
        lines.append("".join(out))
    return "\n".join(lines) + "\n"


RECALL_GAP = (20, 24)  # random digits between a letter and its recall, inclusive


def _recall(n_lines: int = 4000, seed: int = 0) -> str:
    """Lines of a letter (a-d), 20 to 24 random digits, "=" and the letter again as a capital:
    "c0395571846209386410753=C".

    Only the capital after "=" is predictable beyond chance, and only by remembering the letter 22
    to 26 characters back: a guess among the four costs ln 4 nats there, memory brings it to 0.
    The gradient that would teach a plain RNN to keep the letter has to cross those 20-odd steps,
    and vanishes on the way (where the article ends); an LSTM or a GRU learns it
    (tests/test_long_range.py).
    """
    rng = np.random.default_rng(seed)
    lo, hi = RECALL_GAP
    lines = []
    for _ in range(n_lines):
        letter = "abcd"[int(rng.integers(4))]
        digits = "".join(map(str, rng.integers(0, 10, size=int(rng.integers(lo, hi + 1)))))
        lines.append(f"{letter}{digits}={letter.upper()}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BuiltinCorpus:
    title: str
    description: str
    load: Callable[[], str]


BUILTINS: dict[str, BuiltinCorpus] = {
    "python-docs": BuiltinCorpus(
        "Python documentation",
        "English prose: every help topic of Python's own documentation (pydoc_data.topics), "
        "about 465k characters.",
        _python_docs,
    ),
    "zen": BuiltinCorpus(
        "The Zen of Python",
        "Tim Peters' 19 aphorisms from the standard library's `this` module: under 1k characters, "
        "so a small network memorises it within a minute.",
        _zen,
    ),
    "python-source": BuiltinCorpus(
        "Python source code",
        "The source of ten standard-library modules (textwrap, string, fractions, ...): "
        "indentation, keywords and brackets to learn.",
        _python_source,
    ),
    "brackets": BuiltinCorpus(
        "Nested brackets (synthetic)",
        "Generated lines of balanced (), [], {} and <> with letters between: closing the right "
        "bracket needs memory of what was opened long before.",
        _brackets,
    ),
    "recall": BuiltinCorpus(
        "Recall a letter (synthetic)",
        "Generated lines of a letter, 20 to 24 random digits and the letter again as a capital: "
        "predicting the capital needs memory of a character 22 to 26 steps back, which an LSTM or "
        "GRU learns and the plain RNN hardly does (use a sequence length of 40 or so).",
        _recall,
    ),
}

DEFAULT_CORPUS = "python-docs"


def load_builtin(name: str, seq_len: int = 25) -> Corpus:
    """A built-in corpus by name (see BUILTINS)."""
    try:
        entry = BUILTINS[name]
    except KeyError:
        raise CorpusError(
            f"Unknown built-in corpus {name!r}; choose one of: {', '.join(BUILTINS)}."
        ) from None
    return corpus_from_text(entry.load(), name=name, seq_len=seq_len, description=entry.description)
