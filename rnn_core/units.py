"""Units of the loss, in one place: nats per chunk, bits per character, and a uniform guess.

The trainer's loss is min-char-rnn's: the sum over the T characters of a chunk of -ln p(target),
in nats (mean over streams). Bits per character divide by T and by ln 2, and so compare across
sequence lengths. A uniform guess over K characters scores ln K nats (log2 K bits) per character:
min-char-rnn starts its smooth loss at -ln(1/K) * T.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

LN2 = math.log(2.0)

Num = TypeVar("Num", float, np.ndarray)


def bits_per_char(nats: Num, chars: int) -> Num:
    """A loss of `nats` over `chars` characters, in bits per character."""
    return nats / chars / LN2


def nats_per_chunk(bpc: Num, seq_len: int) -> Num:
    """Bits per character back to a chunk loss in nats (the inverse of bits_per_char)."""
    return bpc * seq_len * LN2


def uniform_loss(vocab_size: int, seq_len: int) -> float:
    """The chunk loss of a uniform guess over the vocabulary: -ln(1/K) * T nats."""
    return -math.log(1.0 / vocab_size) * seq_len


def uniform_bpc(vocab_size: int) -> float:
    """A uniform guess in bits per character: log2 K."""
    return math.log2(vocab_size)
