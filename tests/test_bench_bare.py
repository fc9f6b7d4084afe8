"""bench/bare.py's lean trainer trains exactly like rnn_core's Trainer, so the benchmark's floor
(what NumPy alone does here, without the product's per-step measurements) is an honest one.
No timing here: speed is measured in bench/ only."""

from __future__ import annotations

import numpy as np
import pytest

from bench.bare import BareTrainer
from rnn_core.model import PARAM_NAMES
from rnn_core.trainer import Trainer
from tests.rnn_support import small_corpus, tiny_config


@pytest.mark.parametrize("batch", [1, 3])
def test_the_bare_trainer_takes_the_trainers_steps(batch):
    corpus = small_corpus()
    config = tiny_config(batch=batch)
    trainer = Trainer(corpus, config)
    bare = BareTrainer(trainer.train_data, len(corpus.vocab), config.hidden, config.seq_len, batch,
                       np.float64, config.seed, config.lr, config.clip)
    for _ in range(40):  # several wraps of the short text
        record = trainer.step()
        assert bare.step() == config.seq_len * trainer.streams
        assert bare.loss == pytest.approx(record.loss, rel=0, abs=1e-10)
    assert bare.p == trainer.p
    for k in PARAM_NAMES:
        np.testing.assert_allclose(bare.params[k], trainer.params[k], rtol=0, atol=1e-10)
