"""Small corpora and configurations shared by the rnn_core tests (kept tiny so the suite is fast)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rnn_core import cells
from rnn_core.cells import Forward
from rnn_core.config import TrainConfig
from rnn_core.corpus import Corpus, corpus_from_text

# 139 characters, 21 distinct: a 10-character chunk wraps every 13 steps.
SMALL_TEXT = (
    "the cat sat on the mat.\nthe dog sat on the log.\n"
    "a cat and a dog met on a mat by a log.\nthe cat ran, the dog ran.\n"
    "then both sat down again.\n"
)


def small_corpus(seq_len: int = 10) -> Corpus:
    return corpus_from_text(SMALL_TEXT, name="small", seq_len=seq_len)


def tiny_config(**changes) -> TrainConfig:
    """Small and exact (B=1, float64), no held-out text: every character is training data."""
    return TrainConfig(hidden=12, seq_len=10, val_fraction=0.0, seed=3).replace(**changes)


class Losses:
    """Scales the chunk losses the trainer sees (the gradients stay real): factor 1000 is a loss
    that exploded, 3 a run doing worse than a uniform guess. The trainer calls its cell's forward
    (rnn_core.model.forward for the RNN, lstm.forward, gru.forward): every cell's is scaled."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.factor = 1.0
        for cell in cells.CELLS.values():
            monkeypatch.setattr(cell, "forward", self._scaled(cell.forward))

    def _scaled(self, real: Callable[..., Forward]) -> Callable[..., Forward]:
        def scaled(*args, **kwargs) -> Forward:
            fw = real(*args, **kwargs)
            fw.losses *= self.factor
            return fw

        return scaled
