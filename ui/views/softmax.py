"""The softmax at every time step of a chunk: the top-k candidates for the next character, each
step's loss term -ln p(true next) (they add up to the chunk loss), and the text coloured by it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.corpus import Vocab
from rnn_core.trace import ChunkTrace
from rnn_core.units import bits_per_char
from ui.text import visible_char
from ui.views.text_grid import TextGrid, text_grid

TOP_K = 5  # alternatives per time step in the softmax views


@dataclass(frozen=True)
class SoftmaxView:
    inputs: list[str]       # (T,) visible input characters
    targets: list[str]      # (T,) visible true next characters
    p_target: np.ndarray    # (T,) probability given to the true next character
    losses: np.ndarray      # (T,) -log p_target; they sum to `loss`
    top_chars: list[list[str]]  # (T, k) visible top-k candidates, most likely first
    top_p: np.ndarray       # (T, k)
    top_is_target: np.ndarray   # (T, k) bool
    loss: float             # this stream's chunk loss
    mean_loss: float        # the step's loss as recorded (mean over streams)
    vocab_size: int

    @property
    def bpc(self) -> float:
        """This stream's chunk loss in bits per character."""
        return bits_per_char(self.loss, len(self.losses))


def softmax_view(trace: ChunkTrace, vocab: Vocab, k: int = TOP_K) -> SoftmaxView:
    K = trace.ps.shape[1]
    k = max(1, min(k, K))
    T = len(trace.targets)
    top = np.argsort(-trace.ps, axis=1, kind="stable")[:, :k]              # (T, k)
    top_p = np.take_along_axis(trace.ps, top, axis=1)                       # (T, k)
    p_target = trace.ps[np.arange(T), trace.targets]                        # (T,)
    return SoftmaxView(
        inputs=[visible_char(c) for c in trace.input_chars],
        targets=[visible_char(c) for c in trace.target_chars],
        p_target=p_target, losses=trace.losses.copy(),
        top_chars=[[visible_char(vocab.chars[i]) for i in row] for row in top],
        top_p=top_p, top_is_target=top == trace.targets[:, None],
        loss=trace.loss, mean_loss=trace.mean_loss, vocab_size=K,
    )


def softmax_table(view: SoftmaxView) -> pd.DataFrame:
    """One row per time step plus a total row whose loss term is the chunk loss."""
    top = [" · ".join(f"{c} {p:.2f}" for c, p in zip(cs, ps, strict=True))
           for cs, ps in zip(view.top_chars, view.top_p, strict=True)]
    df = pd.DataFrame({
        "t": [str(t) for t in range(len(view.inputs))],
        "input": view.inputs, "next (true)": view.targets,
        "p(true next)": view.p_target, "loss term -ln p": view.losses,
        f"top {view.top_p.shape[1]}": top,
    })
    total = pd.DataFrame({"t": ["Σ"], "input": [""], "next (true)": [""], "p(true next)": [np.nan],
                          "loss term -ln p": [float(view.losses.sum())], f"top {view.top_p.shape[1]}": [""]})
    return pd.concat([df, total], ignore_index=True)


def surprise_grid(trace: ChunkTrace) -> TextGrid:
    """The predicted characters (the targets) coloured by -ln p."""
    return text_grid(trace.target_chars, trace.losses)
