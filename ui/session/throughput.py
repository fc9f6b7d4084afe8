"""The training rate a user sees: (time, step, characters read) after every slice, and the rate
over the last RATE_WINDOW_S of wall-clock time, the worker's rests included. The worker keeps one
per session and calls it with the session's lock held."""

from __future__ import annotations

import time
from collections import deque

from rnn_core.trainer import Trainer

RATE_WINDOW_S = 5.0  # the readout averages over this many seconds
RATE_SAMPLES = 200   # marks kept


class Throughput:
    def __init__(self) -> None:
        self._marks: deque[tuple[float, int, int]] = deque(maxlen=RATE_SAMPLES)

    def __len__(self) -> int:
        return len(self._marks)

    def clear(self) -> None:
        """Forget the marks (on Play: a rate across a pause would read low; on a new model)."""
        self._marks.clear()

    def note(self, trainer: Trainer) -> None:
        self._marks.append((time.monotonic(), trainer.step_count, trainer.chars_seen))

    def rate(self) -> tuple[float, float] | None:
        """(steps/s, chars/s) over the last RATE_WINDOW_S; None before two marks fall in it."""
        now = time.monotonic()
        recent = [m for m in self._marks if now - m[0] <= RATE_WINDOW_S]
        if len(recent) < 2 or recent[-1][0] <= recent[0][0]:
            return None
        (t0, s0, c0), (t1, s1, c1) = recent[0], recent[-1]
        return (s1 - s0) / (t1 - t0), (c1 - c0) / (t1 - t0)
