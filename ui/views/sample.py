"""The Sample page's views: a sample from a copy of the current weights, shown after its seed
text, the top-k distribution behind each generated character (a window of them at a time), and the
timeline of samples taken while training."""

from __future__ import annotations

import html
import math
import secrets
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.sampling import sample
from ui.session.timeline import DEFAULT_TEMPERATURE, SampleSettings, TimelineSample
from ui.session.worker import TrainingSession
from ui.text import visible_char
from ui.views.weights import read_params

DISPLAY_TOP = 10            # candidates shown per generated character
MAX_LENGTH = 1000           # characters per sample on the page
TIMELINE_MAX_LENGTH = 300   # characters per timeline sample (200 of them are kept)
REVEAL_FRAMES = 24          # updates of the "as it is produced" view
WINDOW = 40                 # generated characters the distribution heatmap shows at a time
TIMELINE_SHOWN = 40         # timeline samples shown, evenly spaced from the first to the newest
MAX_SEED = 2**31 - 1        # random seeds are 0..MAX_SEED


def fresh_seed() -> int:
    """A new random seed for one draw (shown with it, so the draw can be repeated)."""
    return secrets.randbelow(MAX_SEED + 1)


@dataclass(frozen=True)
class SampleRequest:
    seed_text: str = ""
    length: int = 200
    temperature: float = DEFAULT_TEMPERATURE
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


def sample_how(s: SampleSettings, short: bool = False) -> str:
    """How the timeline's samples pick each character: "temperature 0.7, top-k all" (`short`: no
    top-k when it is all), or "greedy"."""
    if s.greedy:
        return "greedy"
    return f"temperature {s.temperature:g}" + (f", top-k {s.top_k or 'all'}" if s.top_k or not short else "")


def describe_settings(s: SampleSettings) -> str:
    """The timeline's settings in words (without the seed text, which is user text)."""
    when = f"About every {s.every_steps:,} steps" if s.every_steps else "Every few seconds"
    return f"{when} · {s.length:,} characters · {sample_how(s)} · random seed {s.rng_seed}"


def describe_draw(req: SampleRequest) -> str:
    """How a sample was drawn, with the random seed whenever chance played a part."""
    if req.greedy and req.seed_text:
        return "greedy"
    if req.greedy:
        return f"greedy from a random first character, random seed {req.rng_seed}"
    return f"random seed {req.rng_seed}"


def reveal_prefixes(text: str, frames: int = REVEAL_FRAMES) -> list[str]:
    """Growing prefixes of `text` ending with the whole text: the frames of the typewriter view."""
    if not text:
        return [""]
    n = max(1, min(frames, len(text)))
    return [text[: math.ceil(len(text) * (i + 1) / n)] for i in range(n)]


# Inline styles only (st.html sanitizes; no stylesheet): the seed on a yellow marker, the generated
# text in the theme's colour, both monospace with line breaks kept.
_BOX = ("font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 1.05rem; "
        "line-height: 1.6; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; "
        "padding: 0.6rem 0.9rem; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 0.5rem")
_SEED = "background: #fde68a; color: #1f2937; border-radius: 0.2rem; font-weight: 600"
_LEGEND = "font-size: 0.85rem; opacity: 0.8; margin-bottom: 0.25rem"


def sample_html(seed_text: str, text: str, legend: bool = True) -> str:
    """The seed text (highlighted) and the generated text after it, as one block of HTML for
    st.html: every character of both escaped, so user text never becomes markup."""
    seed = (f'<span class="seed" style="{_SEED}" title="seed text">{html.escape(seed_text)}</span>'
            if seed_text else "")
    generated = f'<span class="generated" title="generated">{html.escape(text)}</span>'
    top = ""
    if legend and seed_text:
        top = (f'<div style="{_LEGEND}"><span style="{_SEED}">&nbsp;seed text&nbsp;</span> then '
               "what the network wrote</div>")
    elif legend:
        top = f'<div style="{_LEGEND}">No seed text: the network began from a random character.</div>'

    return f'{top}<div class="sample" style="{_BOX}">{seed}{generated}</div>'


def distribution_window(n: int, position: int, width: int = WINDOW) -> tuple[int, int]:
    """The positions [start, stop) the distribution heatmap shows: `width` of the n generated
    characters with `position` about in the middle (clamped to the text)."""
    width = max(1, min(width, n))
    position = min(max(position, 0), max(n - 1, 0))
    start = min(max(position - width // 2, 0), n - width)
    return start, start + width


def position_table(result: SampleResult, position: int) -> pd.DataFrame:
    """The distribution the character at `position` was drawn from, as a small table."""
    chosen = visible_char(result.text[position])
    return pd.DataFrame({"rank": range(1, len(result.top_chars[position]) + 1),
                         "character": result.top_chars[position],
                         "probability": result.top_p[position],
                         "drawn": [c == chosen for c in result.top_chars[position]]})


def timeline_shown(items: list[TimelineSample], most: int = TIMELINE_SHOWN) -> list[TimelineSample]:
    """At most `most` of the timeline's samples, oldest first, evenly spaced over the whole run:
    always the first and the newest."""
    if len(items) <= most:
        return list(items)
    idx = sorted({round(i * (len(items) - 1) / (most - 1)) for i in range(most)})
    return [items[i] for i in idx]


_ROW = "border-top: 1px solid rgba(128, 128, 128, 0.3); padding: 0.5rem 0"
_WHEN = "font-size: 0.85rem; opacity: 0.8; margin-bottom: 0.2rem"


def timeline_html(items: list[TimelineSample], seed_text: str) -> str:
    """The samples, oldest first, each under a line with its step, the characters trained on and
    the smooth loss, and wrapped whole after its (highlighted) seed text, as HTML for st.html."""
    rows = []
    for s in items:
        when = (f"step {s.step:,} · {s.chars_seen:,} characters trained on · "
                f"{s.smooth_bpc:.2f} bits/char")
        rows.append(f'<div class="timeline-sample" style="{_ROW}"><div style="{_WHEN}">{when}</div>'
                    f"{sample_html(seed_text, s.text, legend=False)}</div>")
    return "".join(rows)
