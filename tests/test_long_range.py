"""Long-range memory, the article's closing point measured: on the built-in `recall` corpus (a
letter, 20 to 24 digits, then the letter again as a capital), the LSTM and the GRU learn to recall
the letter, 22 to 26 characters back, within a fixed number of steps in which the RNN does not;
and, the reason, the GRU's gradient reaches that far back (rnn_core/reach.py) where the RNN's has
faded. Deterministic (fixed seeds, a fixed number of steps, one BLAS thread); nothing is timed.

How robust, measured 2026-12-02 on seeds 1 to 8 with these settings, one BLAS thread: the RNN
learned the recall on none, the GRU on all 8 (by step 3,000), the LSTM on 7 (not on seed 3); the
GRU's reach at distances 20 and 25 was 27 to 6,000 times the RNN's on every seed. So a change that
only rounds differently (another BLAS thread count, a reordered sum) sends the training along
another path but should not change these outcomes; at 2,000 steps it could (the LSTM learned on 3
of 6 seeds there).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rnn_core.cells import CELL_NAMES
from rnn_core.config import TrainConfig
from rnn_core.corpus import load_builtin
from rnn_core.reach import itemized_gradients, reach_by_distance
from rnn_core.trainer import Trainer
from ui.session.compare import VANISH_BUDGET, VANISH_CONFIG, recall_score

STEPS = 5000
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


def typical_reach(trainer: Trainer, chunks: int = 20) -> np.ndarray:
    """The typical (geometric mean) ||dL(t)/dh(s)|| at each distance t - s (T,), over `chunks`
    held-out chunks read from a zero state, as a share of the one at distance 0."""
    T, data = trainer.config.seq_len, trainer.val_data
    h0 = np.zeros(trainer.carry_size)
    logs = [np.log(reach_by_distance(itemized_gradients(trainer.params, data[k : k + T],
                                                        data[k + 1 : k + T + 1], h0), geometric=True)[1])
            for k in range(0, chunks * T, T)]
    typical = np.exp(np.mean(logs, axis=0))
    return typical / typical[0]


@pytest.fixture(scope="module")
def trained() -> dict[str, Trainer]:
    # One BLAS thread, as the app has (rnn_core.tuning): OpenBLAS splits a product differently
    # with two, so the fixed-seed training would depend on whether this process tuned itself
    # (an AppTest test run before this one in the same pytest worker does).
    corpus = load_builtin("recall", CONFIG.seq_len)
    trainers = {}
    with threadpool_limits(1, user_api="blas"):
        for cell in CELL_NAMES:
            trainers[cell] = Trainer(corpus, CONFIG.replace(cell=cell))
            trainers[cell].run(STEPS)
    return trainers


@pytest.fixture(scope="module")
def recall(trained: dict[str, Trainer]) -> dict[str, float]:
    return {cell: recall_loss(trainer) for cell, trainer in trained.items()}


def test_the_lstm_and_the_gru_learn_to_recall_what_the_rnn_does_not(recall):
    # Measured (seed 1): RNN 1.40 nats (no better than a guess), LSTM 0.004, GRU 0.001.
    assert recall["rnn"] > 0.9 * GUESS, recall
    assert recall["lstm"] < 0.5 * GUESS, recall
    assert recall["gru"] < 0.5 * GUESS, recall


def test_the_grus_gradient_reaches_back_across_the_gap_where_the_rnns_has_faded(trained):
    # The typical ||dL(t)/dh(s)|| at distance d, as a share of d = 0, over 20 held-out chunks.
    # Measured at d = 20 / 25 (seed 1): RNN 5.6e-3 / 1.6e-3, LSTM 1.0e-2 / 7.0e-3, GRU 0.18 / 0.11.
    # The LSTM keeps the letter in its cell state s, which the gradient at h(s) sees only through
    # the gates: its h-reach beat the RNN's on every seed measured, by 1.3 to 150 times at d = 20
    # and 2.5 to 940 times at d = 25, so only d = 25 is asserted for it.
    with threadpool_limits(1, user_api="blas"):
        reach = {cell: typical_reach(trainer) for cell, trainer in trained.items()}
    for d in (20, 25):  # the recall's gap: the letter is 22 to 26 characters back
        assert reach["gru"][d] > 10 * reach["rnn"][d], (d, reach["gru"][d], reach["rnn"][d])
    assert reach["lstm"][25] > reach["rnn"][25], (reach["lstm"][25], reach["rnn"][25])
    assert reach["rnn"][25] < 1e-2  # faded: a hundredth of what each prediction sends its own step


def test_the_compare_pages_recall_score_shows_it(trained):
    # ui.session.compare.recall_score, the "recalls … right" of the Compare page's preset (these
    # settings): the share of held-out capitals after "=" predicted right. Measured (seed 1): RNN
    # 0.23 (a guess among four), LSTM 0.995, GRU 1.0.
    scores = {cell: recall_score(trainer) for cell, trainer in trained.items()}
    assert scores["rnn"] < 0.5, scores
    assert scores["lstm"] > 0.9 and scores["gru"] > 0.9, scores


def test_the_compare_pages_preset_is_these_settings_with_at_least_these_steps():
    assert VANISH_CONFIG.replace(val_every=CONFIG.val_every) == CONFIG
    assert STEPS * CONFIG.batch * CONFIG.seq_len <= VANISH_BUDGET
