"""Lessons: one-click setups (a built-in text, a preset and settings), each with what to watch once
Play is pressed. Data only, in one place; tests/test_lessons.py checks that every setting is in
bounds and that each promise holds in a short, fixed-seed engine run."""

from __future__ import annotations

from dataclasses import dataclass

from rnn_core.config import PRESETS
from ui.views.setup import Setup

# Karpathy's gist to the letter: the min-char-rnn preset with his 0.01·N(0, 1) initialisation.
_FAITHFUL = PRESETS["min-char-rnn"].replace(init="randn")


@dataclass(frozen=True)
class Lesson:
    key: str     # stable: the button's key is lesson_<key>
    title: str
    watch: str   # what to watch, one or two sentences (markdown)
    setup: Setup


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "zen", "Memorise the Zen of Python",
        "The Zen is under 1,000 characters: within a minute each chunk's loss falls to nearly 0 bits "
        "per character and the sample recites its lines (jumping between two that share words). "
        "Meanwhile the validation loss, on the last lines it never trains on, rises: memorising is "
        "not learning.",
        # 4 streams (not the fast preset's 32) so each reads a long stretch with its state carried.
        # lr 2e-3: at 5e-3 Adam memorised sooner but relapsed to 2-10 bits/char for a thousand steps
        # every few thousand (tests/test_lessons.py).
        Setup("zen", "fast", PRESETS["fast"].replace(batch=4, lr=2e-3)),
    ),
    Lesson(
        "docs", "Learn Python's documentation",
        "The app's default: 465k characters of English prose. Real words show in the sample within "
        "seconds, and the validation loss falls under 3 bits per character in about a thousand steps.",
        Setup("python-docs", "fast", PRESETS["fast"]),
    ),
    Lesson(
        "faithful", "The faithful min-char-rnn",
        "Karpathy's gist exactly: one stream in float64, Adagrad at 0.1, each gradient entry clipped "
        "to ±5, weights drawn as 0.01·N(0, 1). The smooth loss starts at a uniform guess's "
        "−ln(1/K)·T and falls slowly: thousands of steps before words.",
        Setup("python-docs", "min-char-rnn", _FAITHFUL),
    ),
    Lesson(
        "clip", "Clip or explode",
        "Plain SGD at a high learning rate, held in check by clipping the gradient's norm to 5: the "
        "thick line after clipping stays flat at 5. Play for a while, then set **Gradient clipping** "
        "to off (Train page): within a few steps the gradient explodes and training stops and goes "
        "back; set it to norm and press Play to go on.",
        Setup("python-docs", "min-char-rnn", _FAITHFUL.replace(optimizer="sgd", clip_mode="norm")),
    ),
    Lesson(
        "sgd", "Adagrad against SGD",
        "min-char-rnn with plain SGD in place of Adagrad: at its learning rate of 0.1 it blows up "
        "within a few steps, clipping and all. Then pick **adagrad** as the optimizer and press "
        "Reset: the same rate trains, as Adagrad divides each weight's step by the root of its own "
        "summed squared gradients.",
        Setup("python-docs", "min-char-rnn", _FAITHFUL.replace(optimizer="sgd")),
    ),
)
BY_KEY = {lesson.key: lesson for lesson in LESSONS}
