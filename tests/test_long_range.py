"""Long-range memory, the article's closing point measured: on the built-in `recall` corpus (a
letter, 20 to 24 digits, then the letter again as a capital), the LSTM and the GRU learn to recall
the letter, 22 to 26 characters back, within a fixed number of steps in which the RNN does not.
Deterministic (fixed seeds, a fixed number of steps); nothing is timed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.cells import CELL_NAMES
from rnn_core.config import TrainConfig
from rnn_core.corpus import load_builtin
from rnn_core.trainer import Trainer

STEPS = 2000
# The same settings for every cell; chunks of 40 hold a letter and its capital often enough.
CONFIG = TrainConfig(hidden=32, seq_len=40, batch=16, optimizer="adam", lr=0.01, clip=1.0,
                     dtype="float32", val_fraction=0.1, val_every=0, seed=1)
GUESS = math.log(4)  # nats: a guess among the four capitals


def recall_loss(trainer: Trainer) -> float:
    """The mean -log p of the capital after each "=" of the held-out text, read as one stream
    from a zero state: ln 4 for a guess among the four, 0 for perfect recall."""
    data = trainer.val_data
    inputs, targets = data[:-1, None], data[1:, None]
    h0 = np.zeros((1, trainer.carry_size), trainer.dtype)
    fw = trainer.cell.forward(trainer.params, inputs, targets, h0)
    after_equals = np.flatnonzero(inputs[:, 0] == trainer.corpus.vocab.stoi["="])
    return float(fw.losses[after_equals, 0].mean())


@pytest.fixture(scope="module")
def recall() -> dict[str, float]:
    corpus = load_builtin("recall", CONFIG.seq_len)
    losses = {}
    for cell in CELL_NAMES:
        trainer = Trainer(corpus, CONFIG.replace(cell=cell))
        trainer.run(STEPS)
        losses[cell] = recall_loss(trainer)
    return losses


def test_the_lstm_and_the_gru_learn_to_recall_what_the_rnn_does_not(recall):
    # Measured: RNN 1.44 nats (no better than a guess), LSTM 0.010, GRU 0.006; both gated cells
    # went below 0.1 some 500 steps before the end (and with seed 0, 0.44 and 0.009).
    assert recall["rnn"] > 0.9 * GUESS, recall
    assert recall["lstm"] < 0.5 * GUESS, recall
    assert recall["gru"] < 0.5 * GUESS, recall
