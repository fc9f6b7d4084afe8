"""The first words: the periodic sample's default temperature (ui/session/timeline.py) shows real
words at about half the training steps that temperature 1 needs. Deterministic (a fixed seed and
number of steps); nothing is timed. The app-level figure, seconds after Play in a browser, is
`python -m tests.e2e.measure --words 5` (README, "The first seconds")."""

from __future__ import annotations

from dataclasses import replace

from rnn_core.config import PRESETS
from rnn_core.corpus import DEFAULT_CORPUS, load_builtin
from rnn_core.trainer import Trainer
from tests.e2e.measure import dictionary, recognisable
from ui.session.timeline import DEFAULT_TEMPERATURE, SampleTimeline

STEPS = 1200  # seed 1 of the default preset: words at about 900 steps at 0.7, 2,050 at 1


def test_the_default_sample_shows_words_where_temperature_one_shows_none():
    trainer = Trainer(load_builtin(DEFAULT_CORPUS), PRESETS["fast"].replace(seed=1, val_every=0))
    trainer.run(STEPS)
    words = dictionary()
    timeline = SampleTimeline()
    assert timeline.settings.temperature == DEFAULT_TEMPERATURE < 1
    default = timeline.take(trainer)
    assert default is not None
    timeline.restart(trainer, replace(timeline.settings, temperature=1.0))
    at_one = timeline.items()[-1]
    distinct, share = recognisable(default.text, words)
    assert distinct >= 5 and share >= 0.3, (distinct, share, default.text)  # the measure's words
    distinct, share = recognisable(at_one.text, words)
    assert not (distinct >= 5 and share >= 0.3), (distinct, share, at_one.text)
