"""One stream's view of a chunk: what the Inspect views draw, built from a forward pass and the
dL/dh(t) of its backward pass. The trainer traces its last training chunk with it, and
`trace_text` traces any text (the user's own) under given weights, from a zero hidden state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.corpus import Vocab
from rnn_core.model import Forward, Params, forward, gradient_norms, gradients


@dataclass(frozen=True)
class ChunkTrace:
    step: int
    stream: int
    input_chars: list[str]   # (T,)
    target_chars: list[str]  # (T,)
    inputs: np.ndarray       # (T,) int
    targets: np.ndarray      # (T,) int
    hs: np.ndarray           # (T, H) h(t) after reading input t
    h_prev: np.ndarray       # (H,) the state carried in from the previous chunk
    ps: np.ndarray           # (T, K) softmax over the next character
    losses: np.ndarray       # (T,) -log p(target); they sum to `loss`
    dh_norms: np.ndarray     # (T,) ||dL/dh(t)|| of this stream's chunk loss
    loss: float              # this stream's chunk loss
    mean_loss: float         # the step's loss (mean over streams) as recorded


def chunk_trace(fw: Forward, dh: np.ndarray, vocab: Vocab, stream: int, step: int) -> ChunkTrace:
    """Stream `stream` of a forward pass and its dL/dh(t) (T, B, H), copied out as float64."""
    chars = vocab.chars
    inputs, targets = fw.inputs[:, stream].copy(), fw.targets[:, stream].copy()
    losses = fw.losses[:, stream].astype(np.float64)
    return ChunkTrace(
        step=step, stream=stream,
        input_chars=[chars[i] for i in inputs], target_chars=[chars[i] for i in targets],
        inputs=inputs, targets=targets,
        hs=fw.hs[1:, stream].astype(np.float64), h_prev=fw.hs[0, stream].astype(np.float64),
        ps=fw.ps[:, stream].astype(np.float64), losses=losses,
        dh_norms=gradient_norms(dh[:, stream : stream + 1])[:, 0],
        loss=float(losses.sum()), mean_loss=fw.loss,
    )


def trace_text(params: Params, vocab: Vocab, ids: np.ndarray, step: int = 0) -> ChunkTrace:
    """The chunk trace of a text given as ids (n >= 2,): inputs ids[:-1], targets ids[1:], read
    from a zero hidden state under `params`."""
    if len(ids) < 2:
        raise ValueError(f"a trace needs at least 2 characters, got {len(ids)}")
    inputs, targets = ids[:-1, None], ids[1:, None]  # (T, 1)
    H = params["W"].shape[0]
    fw = forward(params, inputs, targets, np.zeros((1, H), params["W"].dtype))
    _, dh = gradients(params, fw)
    return chunk_trace(fw, dh, vocab, stream=0, step=step)
