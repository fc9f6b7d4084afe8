"""The Data page's views of a text: its character frequencies and a summary with a preview."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rnn_core.corpus import Corpus
from ui.text import char_name, visible_char

TOP_CHARS = 60  # bars in the character-frequency chart
PREVIEW_CHARS = 2000


@dataclass(frozen=True)
class CharCounts:
    labels: list[str]  # visible labels, most frequent first
    counts: list[int]
    names: list[str]   # Unicode names, for hover text
    other: int         # occurrences of the characters not shown
    other_kinds: int   # how many distinct characters are not shown


def char_counts(text: str, top: int = TOP_CHARS) -> CharCounts:
    ranked = Counter(text).most_common()
    shown, rest = ranked[:top], ranked[top:]
    return CharCounts(
        labels=[visible_char(ch) for ch, _ in shown], counts=[n for _, n in shown],
        names=[char_name(ch) for ch, _ in shown],
        other=sum(n for _, n in rest), other_kinds=len(rest),
    )


@dataclass(frozen=True)
class CorpusSummary:
    name: str
    description: str
    chars: int
    vocab: int
    lines: int
    words: int
    preview: str
    truncated: bool


def corpus_summary(corpus: Corpus, preview_chars: int = PREVIEW_CHARS) -> CorpusSummary:
    text = corpus.text
    return CorpusSummary(
        name=corpus.name, description=corpus.description, chars=len(text), vocab=len(corpus.vocab),
        lines=text.count("\n") + (not text.endswith("\n")), words=len(text.split()),
        preview=text[:preview_chars], truncated=len(text) > preview_chars,
    )
