"""The explanations beside the Train page's charts, for a learner: what each chart shows, what to
look for and why, with the running model's own numbers.

`explain_numbers` computes every number an explanation quotes, from a TrainView (the metrics,
ui/views/train.py) and a ReachInput (stream 0's last chunk and the weights it was computed with,
ui/views/grad_flow.py), both read under the session's lock; the text builders only format those
numbers into constant sentences (markdown, no user text). `short=True` gives presentation mode's
one- or two-sentence versions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnn_core.reach import itemized_gradients, last_prediction_flow
from rnn_core.units import bits_per_char
from ui.views.grad_flow import ReachInput
from ui.views.train import CLIP_WINDOW, TrainView, clipped_fractions

SMOOTH_KEEP = 0.999  # min-char-rnn's smooth_loss = smooth_loss * 0.999 + loss * 0.001 (Trainer._record)
# Steps the moving average takes to close two thirds (1 - 1/e) and 90 % of a gap: ~1,000 and ~2,300.
CATCH_UP_STEPS = round(-1.0 / math.log(SMOOTH_KEEP), -2)
CATCH_UP_90_STEPS = round(math.log(0.1) / math.log(SMOOTH_KEEP), -2)
SATURATED = 0.95     # |h| above this: tanh's slope 1 - h² is below 0.1
FADE_DISTANCE = 10   # steps back at which the last prediction's gradient is compared to its start


@dataclass(frozen=True)
class ExplainNumbers:
    """Everything the explanations quote, each the running model's."""

    step: int
    vocab_size: int             # K
    seq_len: int                # T
    uniform_loss: float         # -ln(1/K) * T, nats per chunk
    uniform_bpc: float          # log2 K
    smooth_loss: float          # the trainer's moving average, nats per chunk
    chunk_loss: float | None    # the latest step's chunk loss, nats (None before the first step)
    val_bpc: float | None       # the latest validation, bits per character
    clip_mode: str              # "norm", "value" or "off"
    clip: float                 # the threshold
    clip_window: int            # kept steps the recent share is over (0 before the first step)
    clipped_share: float | None  # share of those steps clipping acted on
    global_pre: float | None    # the latest step's global gradient norm before clipping ...
    global_post: float | None   # ... and after
    entries_clipped: float | None  # the latest step's share of gradient entries changed
    saturated: float | None     # share of |h| > SATURATED over stream 0's last chunk (T x H)
    fade_distance: int          # the distance the fading is measured at (10, or T - 1 if shorter)
    fade: float | None          # ||dL(T-1)/dh(T-1-d)|| / ||dL(T-1)/dh(T-1)|| at d = fade_distance
    cell: str = "rnn"

    @property
    def smooth_bpc(self) -> float:
        return bits_per_char(self.smooth_loss, self.seq_len)

    @property
    def chunk_bpc(self) -> float | None:
        return None if self.chunk_loss is None else bits_per_char(self.chunk_loss, self.seq_len)

    @property
    def lag(self) -> float | None:
        """How far the smooth loss is above the latest chunk loss (nats; negative: below)."""
        return None if self.chunk_loss is None else self.smooth_loss - self.chunk_loss


def explain_numbers(view: TrainView, reach: ReachInput | None) -> ExplainNumbers:
    """The numbers the explanations quote (pure: the math runs outside the session's lock)."""
    fractions = clipped_fractions(view)
    window = min(len(fractions), CLIP_WINDOW)
    share = None
    if window and view.config.clip_mode == "norm":
        share = float(fractions[-1])  # already the share of the last kept steps, as charted
    elif window:  # by value: the share of the last kept steps with any entry cut (off: none)
        share = float(np.mean(fractions[-window:] > 0))
    last = view.last_record
    saturated = fade = None
    distance = FADE_DISTANCE
    if reach is not None:
        trace = reach.snap.trace
        saturated = float(np.mean(np.abs(trace.hs) > SATURATED))
        flow = last_prediction_flow(itemized_gradients(reach.params, trace.inputs, trace.targets,
                                                       trace.carry_prev))
        distance = min(FADE_DISTANCE, len(flow) - 1)
        if distance > 0 and flow[-1] > 0:
            fade = float(flow[-1 - distance] / flow[-1])
    return ExplainNumbers(
        step=view.step, vocab_size=view.vocab_size, seq_len=view.seq_len,
        uniform_loss=view.uniform_loss, uniform_bpc=view.uniform_bpc, smooth_loss=view.smooth_loss,
        chunk_loss=None if last is None else last.loss, val_bpc=view.last_val_bpc,
        clip_mode=view.config.clip_mode, clip=view.config.clip, clip_window=window, clipped_share=share,
        global_pre=None if last is None else last.clip.global_pre,
        global_post=None if last is None else last.clip.global_post,
        entries_clipped=None if last is None else last.clip.clipped_fraction,
        saturated=saturated, fade_distance=distance, fade=fade,
        cell=reach.snap.trace.cell if reach is not None else "rnn",
    )


# --- the sentences --------------------------------------------------------------------------------
# Markdown from constant words and formatted numbers only (no user text, no "$" or "*" products).


def nats(x: float) -> str:
    return f"{x:,.1f}"


def percent(x: float) -> str:
    return f"{100 * x:.0f} %" if x == 0 or x >= 0.01 else f"{100 * x:.1g} %"


def times(ratio: float) -> str:
    """A ratio a learner reads at a glance: '1/150 of', '0.62 ×', '3.2 ×'."""
    if not math.isfinite(ratio) or ratio <= 0:
        return "0 ×" if ratio == 0 else "undefined"
    return f"1/{1 / ratio:,.0f} of" if ratio < 0.5 else f"{ratio:.2g} ×"


def uniform_formula(n: ExplainNumbers) -> str:
    """'ln(103) × 25 = 115.9 nats': the uniform guess's chunk loss, −ln(1/K)·T."""
    return f"ln({n.vocab_size}) × {n.seq_len} = {nats(n.uniform_loss)} nats"


def loss_text(n: ExplainNumbers, short: bool = False, bits: bool = False) -> str:
    """Beside the loss chart: the uniform-guess baseline and why the smooth loss lags, in the
    chart's unit (nats per chunk, or bits per character with `bits`)."""
    if bits:
        base = f"log2({n.vocab_size}) = {n.uniform_bpc:.2f} bits/char"
        smooth, chunk = f"{n.smooth_bpc:.2f}", None if n.chunk_bpc is None else f"{n.chunk_bpc:.2f}"
    else:
        base = f"{uniform_formula(n)} per chunk"
        smooth, chunk = nats(n.smooth_loss), None if n.chunk_loss is None else nats(n.chunk_loss)
    if short:
        words = f"**Dashed: a uniform guess**, {base}."
        if chunk is not None:
            words += (f" The smooth loss lags about {CATCH_UP_STEPS:,.0f} steps: **{smooth}** against the "
                      f"latest chunk's **{chunk}**.")
        return words
    if bits:
        words = (f"The loss in bits per character: how surprised the model is by each next character. "
                 f"**Dashed: a uniform guess** over all K = {n.vocab_size} characters, "
                 f"**{base}** ({uniform_formula(n)} per chunk of T = {n.seq_len}): ")
    else:
        words = (f"The loss is how surprised the model is by each next character, summed over a chunk of "
                 f"T = {n.seq_len} (nats). **Dashed: a uniform guess** over all K = {n.vocab_size} "
                 f"characters, −ln(1/K)·T = **{base}** ({n.uniform_bpc:.2f} bits/char): ")
    words += "every model starts there, and below it the model knows something about the text. "
    words += (f"**The smooth loss lags** because it is min-char-rnn's moving average, {SMOOTH_KEEP} × itself "
              f"+ {1 - SMOOTH_KEEP:.3f} × the chunk's loss: each step it moves 0.1 % of the way, so it "
              f"takes about {CATCH_UP_STEPS:,.0f} steps to catch up two thirds of a change "
              f"({CATCH_UP_90_STEPS:,.0f} for 90 %).")
    if chunk is not None:
        words += f" Now it reads **{smooth}** against the latest chunk's **{chunk}**."
    words += (" **Look for** the validation dots (text never trained on) following the chunk loss "
              "down: if they turn up while it still falls, the model is memorising its text.")
    return words


def clipping_text(n: ExplainNumbers, short: bool = False) -> str:
    """Beside the gradient-norm chart: what clipping does, when it kicks in, how often it did."""
    if n.clip_mode == "norm":
        what = (f"**Clipping by norm at {n.clip:g}**: a gradient longer than {n.clip:g} is scaled down to "
                f"{n.clip:g}, direction kept, so one surprising chunk cannot throw the weights far.")
        if short:
            what = (f"**Clipping**: a gradient longer than **{n.clip:g}** is scaled down to {n.clip:g}, "
                    "direction kept.")
        if n.clipped_share is not None:
            what += f" It acted on **{percent(n.clipped_share)}** of the last {n.clip_window} steps."
        if n.global_pre is not None and not short:
            what += f" The latest step's norm: {n.global_pre:.3g} before, {n.global_post:.3g} after."
    elif n.clip_mode == "value":
        what = (f"**Clipping by value at {n.clip:g}**, as min-char-rnn: every gradient entry is cut into "
                f"[−{n.clip:g}, {n.clip:g}], so no single weight takes a huge step.")
        if n.entries_clipped is not None:
            what += f" The latest step cut **{percent(n.entries_clipped)}** of the entries."
        if n.clipped_share is not None:
            what += f" {percent(n.clipped_share)} of the last {n.clip_window} steps cut some."
    else:
        what = ("**Clipping is off**: every gradient is applied at full size, so a rare huge one (an "
                "exploding gradient) can throw the weights far.")
        if n.global_pre is not None:
            what += f" The latest step's norm: **{n.global_pre:.3g}**."
    if short:
        return what
    return ("The gradient's size ‖dL/dθ‖, all weights together (thick) and each of them (thin), on a "
            "log scale, before and after clipping. " + what + " It kicks in when the gradient is large: "
            "mostly early on, and at text the model finds surprising.")


def inside_text(n: ExplainNumbers, short: bool = False) -> str:
    """Saturated tanh units and the gradient fading back through time, on stream 0's last chunk."""
    if n.saturated is None:
        return "Press Play or Step: what happens inside the network shows after the first step."
    units = "tanh units" if n.cell == "rnn" else "hidden values"
    sat = (f"**{percent(n.saturated)}** of the {units} on the latest chunk are saturated "
           f"(|h| > {SATURATED}): tanh is flat there (slope 1 − h² < {1 - SATURATED ** 2:.2f}), so little "
           "gradient gets through them.")
    fade = ""
    if n.fade is not None:
        fade = (" Going back through time the gradient is multiplied at every step by W and those "
                f"slopes: the last prediction's gradient {n.fade_distance} steps back is "
                f"**{times(n.fade)}** its size at its own step.")
    if short:
        short_fade = (f" {n.fade_distance} steps back, the last prediction's gradient is **{times(n.fade)}** "
                      "its start." if n.fade is not None else "")
        return f"**{percent(n.saturated)}** of {units} saturated (|h| > {SATURATED})." + short_fade
    return (f"**Inside the network** (stream 0, step {n.step:,}). " + sat + fade
            + " That is the vanishing gradient: the RNN learns little from characters far back "
              "(Inspect → Gradient shows it step by step).")


def sample_text(n: ExplainNumbers, short: bool = False) -> str:
    """Beside the sample: what to look for as the loss falls."""
    if short:
        return (f"Noise over {n.vocab_size} characters at first; then spaces and frequent letters, then "
                "words and punctuation.")
    return (f"Drawn from the current weights one character at a time, each fed back in. **Look for** the "
            f"stages: noise over all {n.vocab_size} characters (a uniform guess, {n.uniform_bpc:.2f} "
            f"bits/char); then spaces and frequent letters; then short words, punctuation and line breaks. "
            f"The smooth loss is at **{n.smooth_bpc:.2f} bits/char** now.")
