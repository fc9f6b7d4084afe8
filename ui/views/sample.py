"""The Sample page's views: a sample from a copy of the current weights, the top-k distribution
behind each generated character, and the timeline table."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.sampling import sample
from ui.session.timeline import SampleSettings, TimelineSample
from ui.session.worker import TrainingSession
from ui.text import one_line, visible_char
from ui.views.weights import read_params

DISPLAY_TOP = 10            # candidates shown per generated character
MAX_LENGTH = 1000           # characters per sample on the page
TIMELINE_MAX_LENGTH = 300   # characters per timeline sample (200 of them are kept)
REVEAL_FRAMES = 24          # updates of the "as it is produced" view


@dataclass(frozen=True)
class SampleRequest:
    seed_text: str = ""
    length: int = 200
    temperature: float = 1.0
    top_k: int = 0            # 0: all characters
    greedy: bool = False
    rng_seed: int = 0

    def timeline_settings(self, every_steps: int) -> SampleSettings:
        """The same settings for the periodic samples of the timeline (length capped)."""
        return SampleSettings(seed_text=self.seed_text, length=min(self.length, TIMELINE_MAX_LENGTH),
                              temperature=self.temperature, rng_seed=self.rng_seed,
                              top_k=self.top_k, greedy=self.greedy, every_steps=every_steps)


@dataclass(frozen=True)
class SampleResult:
    request: SampleRequest
    step: int                   # the training step whose weights produced it
    text: str                   # generated characters (the seed not included)
    top_chars: list[list[str]]  # (n, k) visible candidates per position, most likely first
    top_p: np.ndarray           # (n, k) their probabilities
    chosen_p: np.ndarray        # (n,) probability of the character that was drawn
    seconds: float

    @property
    def visible(self) -> list[str]:
        return [visible_char(c) for c in self.text]


def generate(session: TrainingSession, req: SampleRequest) -> SampleResult:
    """Sample from a copy of the current weights; the lock is held only for the copy, so training
    goes on meanwhile. Raises ValueError (a message for the user) for unusable settings."""
    if not 1 <= req.length <= MAX_LENGTH:
        raise ValueError(f"Length must be between 1 and {MAX_LENGTH}, got {req.length}.")
    params, vocab, step = session.read(read_params)
    t0 = time.perf_counter()
    s = sample(params, vocab, req.length, seed_text=req.seed_text, temperature=req.temperature,
               top_k=req.top_k, greedy=req.greedy, rng=req.rng_seed, return_probs=True)
    assert s.probs is not None
    k = min(DISPLAY_TOP, s.probs.shape[1])
    top = np.argsort(-s.probs, axis=1, kind="stable")[:, :k]                  # (n, k)
    return SampleResult(
        request=req, step=step, text=s.text,
        top_chars=[[visible_char(vocab.chars[i]) for i in row] for row in top],
        top_p=np.take_along_axis(s.probs, top, axis=1),
        chosen_p=s.probs[np.arange(len(s.ids)), s.ids],
        seconds=time.perf_counter() - t0,
    )


def describe_settings(s: SampleSettings) -> str:
    """The timeline's settings in words (without the seed text, which is user text)."""
    when = f"About every {s.every_steps} steps" if s.every_steps else "Every few seconds"
    how = "greedy" if s.greedy else f"temperature {s.temperature:g}, top-k {s.top_k or 'all'}"
    return f"{when} · {s.length} characters · {how} · random seed {s.rng_seed}"


def reveal_prefixes(text: str, frames: int = REVEAL_FRAMES) -> list[str]:
    """Growing prefixes of `text` ending with the whole text: the frames of the typewriter view."""
    if not text:
        return [""]
    n = max(1, min(frames, len(text)))
    return [text[: math.ceil(len(text) * (i + 1) / n)] for i in range(n)]


def position_table(result: SampleResult, position: int) -> pd.DataFrame:
    """The distribution the character at `position` was drawn from, as a small table."""
    chosen = visible_char(result.text[position])
    return pd.DataFrame({"rank": range(1, len(result.top_chars[position]) + 1),
                         "character": result.top_chars[position],
                         "probability": result.top_p[position],
                         "drawn": [c == chosen for c in result.top_chars[position]]})


def timeline_table(items: list[TimelineSample]) -> pd.DataFrame:
    """Newest first, one sample per row."""
    items = items[::-1]
    return pd.DataFrame({
        "step": [s.step for s in items],
        "chars seen": [s.chars_seen for s in items],
        "bits/char": [s.smooth_bpc for s in items],
        "sample": [one_line(s.text) for s in items],
    })
