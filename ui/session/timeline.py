"""The sample timeline: a sample from the current weights every few seconds (or about every N
steps), always with the same settings, so that the samples differ only in what the weights have
learnt. The worker keeps one per session and calls it with the session's lock held."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from rnn_core.corpus import Vocab
from rnn_core.sampling import sample
from rnn_core.trainer import Trainer
from rnn_core.units import bits_per_char

SAMPLE_EVERY_S = 2.0  # the periodic sample (min-char-rnn prints one every 100 steps) ...
# ... but every second in the first seconds of training, when it changes fastest: the first words
# show up to a second sooner (a talk cannot wait), for about 10 ms per sample under the lock.
EARLY_SAMPLE_EVERY_S, EARLY_S = 1.0, 30.0
SAMPLE_LENGTH = 200
# Samples are drawn from softmax(o / 0.7) unless the user picks another temperature: below 1 the
# likelier characters gain, so the first words show at about half the steps (fast preset,
# python-docs, seeds 0-2: at 900-1,050 steps, against 1,800-2,200 at temperature 1; 650-1,000 at
# 0.6 but repetitive later on). min-char-rnn itself samples at 1.
DEFAULT_TEMPERATURE = 0.7
SAMPLE_TIMELINE_CAP = 200  # samples kept per session
MIN_SAMPLE_GAP_S = 0.5  # a timeline set to "every N steps" still samples at most this often


@dataclass(frozen=True)
class TimelineSample:
    step: int
    chars_seen: int
    smooth_bpc: float
    text: str


@dataclass(frozen=True)
class SampleSettings:
    """The periodic sample's settings: fixed, so the timeline shows only the weights changing."""

    seed_text: str = ""
    length: int = SAMPLE_LENGTH
    temperature: float = DEFAULT_TEMPERATURE
    rng_seed: int = 0
    top_k: int = 0           # 0: all characters
    greedy: bool = False
    every_steps: int = 0     # 0: every SAMPLE_EVERY_S seconds; else about every N steps


class SampleTimeline:
    """Samples taken with one SampleSettings, oldest first: the newest SAMPLE_TIMELINE_CAP."""

    def __init__(self) -> None:
        self.settings = SampleSettings()
        self._samples: deque[TimelineSample] = deque(maxlen=SAMPLE_TIMELINE_CAP)
        self._last_time = 0.0  # monotonic time of the last sample (0: the next one is due at once)
        self._last_step = 0

    def __len__(self) -> int:
        return len(self._samples)

    def items(self) -> list[TimelineSample]:
        return list(self._samples)

    def new_model(self, vocab: Vocab) -> None:
        """Start over for a new model; a seed text that `vocab` cannot read resets the settings."""
        self._samples.clear()
        self._last_time, self._last_step = 0.0, 0
        if vocab.unknown(self.settings.seed_text):
            self.settings = SampleSettings()

    def cut_back(self, step: int) -> None:
        """Forget the samples taken after `step` (training went back to it); the next sample is
        due at once, from the weights gone back to."""
        kept = [s for s in self._samples if s.step <= step]
        self._samples.clear()
        self._samples.extend(kept)
        self._last_time, self._last_step = 0.0, step

    def restart(self, trainer: Trainer, settings: SampleSettings) -> None:
        """Start over with new settings, from a sample of the current weights. ValueError, with
        nothing changed, when the settings cannot sample from this model."""
        sample(trainer.params, trainer.corpus.vocab, 0, seed_text=settings.seed_text,  # checks only
               temperature=settings.temperature, top_k=settings.top_k, greedy=settings.greedy)
        self.settings = settings
        self._samples.clear()
        self._last_time, self._last_step = time.monotonic(), trainer.step_count
        self.take(trainer)

    def maybe_take(self, trainer: Trainer) -> None:
        """A sample if one is due: SAMPLE_EVERY_S after the last one (EARLY_SAMPLE_EVERY_S in the
        first EARLY_S seconds of training), or `every_steps` steps after it (but not within
        MIN_SAMPLE_GAP_S)."""
        now = time.monotonic()
        every = self.settings.every_steps
        if every:
            due = (trainer.step_count - self._last_step >= every
                   and now - self._last_time >= MIN_SAMPLE_GAP_S)
        else:
            gap = EARLY_SAMPLE_EVERY_S if trainer.train_time < EARLY_S else SAMPLE_EVERY_S
            due = now - self._last_time >= gap
        if due:
            self._last_time, self._last_step = now, trainer.step_count
            self.take(trainer)

    def take(self, trainer: Trainer) -> TimelineSample | None:
        """Append a sample from the current weights (at step 0, only the first)."""
        if trainer.step_count == 0 and self._samples:
            return None
        s = self.settings
        text = sample(trainer.params, trainer.corpus.vocab, s.length, seed_text=s.seed_text,
                      temperature=s.temperature, top_k=s.top_k, greedy=s.greedy, rng=s.rng_seed).text
        item = TimelineSample(trainer.step_count, trainer.chars_seen,
                              bits_per_char(trainer.smooth_loss, trainer.config.seq_len), text)
        self._samples.append(item)
        return item
