""""Your own text": the Inspect views on anything the user types, under the current weights."""

from __future__ import annotations

from rnn_core.corpus import Vocab
from rnn_core.model import Params
from rnn_core.trace import ChunkTrace, trace_text
from ui.text import visible_char

MAX_OWN_TEXT = 300  # characters of "your own text"
OWN_TEXT_EXAMPLE = "Beautiful is better than ugly."


def default_own_text(vocab: Vocab, corpus_text: str) -> str:
    """A starting text the model can read: the example if the vocabulary covers it, else the
    corpus's first characters."""
    return OWN_TEXT_EXAMPLE if not vocab.unknown(OWN_TEXT_EXAMPLE) else corpus_text[:60]


def own_text_trace(params: Params, vocab: Vocab, text: str, step: int = 0) -> ChunkTrace:
    """The hidden states, softmax and loss terms of `text` under `params`, read from a zero state
    (rnn_core.trace.trace_text): the same views as for a training chunk. Raises ValueError, with
    a message for the user, when the text is too short or too long, or has characters outside
    the vocabulary."""
    unknown = vocab.unknown(text)
    if unknown:
        shown = ", ".join(f"'{visible_char(c)}'" for c in unknown[:20])
        raise ValueError(f"These characters are not in the training text's vocabulary, so the model "
                         f"has no input for them: {shown}. Remove or replace them.")
    if len(text) < 2:
        raise ValueError("Type at least two characters: each one is the input for predicting the next.")
    if len(text) > MAX_OWN_TEXT + 1:
        raise ValueError(f"At most {MAX_OWN_TEXT + 1} characters, please (got {len(text)}).")
    return trace_text(params, vocab, vocab.encode(text), step)
