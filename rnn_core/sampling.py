"""Sampling text from the current weights, one character at a time, for any cell."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.cells import cell_of, hidden_size
from rnn_core.corpus import Vocab
from rnn_core.model import Params, softmax

MAX_SAMPLE_LENGTH = 5000


@dataclass(frozen=True)
class Sample:
    seed_text: str
    text: str                   # the generated characters (without the seed)
    ids: np.ndarray             # (n,) int
    probs: np.ndarray | None    # (n, K): the distribution each character was drawn from


def _distribution(o: np.ndarray, temperature: float, top_k: int) -> np.ndarray:
    """softmax(o / temperature) restricted to the top_k largest logits (0: all)."""
    # Shift the largest logit to 0 before dividing: as temperature -> 0 the others then go to -inf
    # (probability 0) instead of overflowing to inf and giving inf - inf = NaN in the softmax.
    with np.errstate(over="ignore"):
        z = (o - o.max()) / temperature
    if 0 < top_k < len(z):
        cutoff = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= cutoff, z, -np.inf)
    return softmax(z)


def sample(params: Params, vocab: Vocab, length: int = 200, seed_text: str = "",
           temperature: float = 1.0, top_k: int = 0, greedy: bool = False,
           rng: np.random.Generator | int | None = None, return_probs: bool = False) -> Sample:
    """Generate `length` characters.

    The seed text is fed through first to warm up the hidden state; with no seed the first input
    character is drawn uniformly. `greedy` takes the argmax (as does temperature -> 0); otherwise
    each character is drawn from softmax(o / temperature) over the top_k most likely characters.
    The cell is known by the weights' names (rnn_core.cells.cell_of): its `step` reads one
    character, e.g. the RNN's h = tanh(U x + W h + b).
    """
    if not 0 <= length <= MAX_SAMPLE_LENGTH:
        raise ValueError(f"length must be between 0 and {MAX_SAMPLE_LENGTH}, got {length}")
    if not greedy and not temperature > 0:
        raise ValueError(f"temperature must be above 0 (or use greedy), got {temperature}")
    if top_k < 0:
        raise ValueError(f"top_k must be 0 (all characters) or more, got {top_k}")
    unknown = vocab.unknown(seed_text)
    if unknown:
        raise ValueError(f"the seed text has characters the model has never seen: {unknown!r}")
    rng = np.random.default_rng(rng)
    cell = cell_of(params)
    V, c = params["V"], params["c"]
    K, H = len(vocab), hidden_size(params)
    carry = np.zeros(cell.carry_size(H), dtype=V.dtype)  # (C,) h, and the LSTM's s after it
    seed_ids = vocab.encode(seed_text) if seed_text else np.array([rng.integers(K)])
    for x in seed_ids:
        carry = cell.step(params, x, carry)
    ids = np.empty(length, dtype=np.int64)
    probs = np.empty((length, K)) if return_probs else None
    for i in range(length):
        o = (V @ carry[:H] + c).astype(np.float64)  # (K,) V h + c
        if greedy:
            p = softmax(o)
            x = int(np.argmax(o))
        else:
            p = _distribution(o, temperature, top_k)
            x = int(rng.choice(K, p=p))
        ids[i] = x
        if probs is not None:
            probs[i] = p
        carry = cell.step(params, x, carry)
    return Sample(seed_text, vocab.decode(ids), ids, probs)
