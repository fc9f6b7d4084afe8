"""One stream's view of a chunk: what the Inspect views draw, built from a forward pass and the
dL/dh(t) of its backward pass. The trainer traces its last training chunk with it, and
`trace_text` traces any text (the user's own) under given weights, from a zero carried state.
Every cell gives the hidden states; the LSTM also its cell states, and the gated cells their
gates' activations."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnn_core.cells import Forward, cell_of, hidden_size
from rnn_core.corpus import Vocab
from rnn_core.model import Params, gradient_norms


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
    cell: str = "rnn"        # the cell: "rnn", "lstm" or "gru"
    gates: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (T, H) activations:
                             # LSTM i, f, g, o; GRU r, z, n; none for the RNN
    ss: np.ndarray | None = None      # (T, H) the LSTM's cell state s(t); None for other cells
    s_prev: np.ndarray | None = None  # (H,) the LSTM's cell state carried in

    @property
    def carry_prev(self) -> np.ndarray:
        """(C,) the whole state carried in, as the cell's functions take it (h, then s)."""
        return self.h_prev if self.s_prev is None else np.concatenate((self.h_prev, self.s_prev))


def chunk_trace(fw: Forward, dh: np.ndarray, vocab: Vocab, stream: int, step: int,
                cell: str = "rnn") -> ChunkTrace:
    """Stream `stream` of a forward pass of `cell` and its dL/dh(t) (T, B, H), copied out as
    float64."""
    chars = vocab.chars
    inputs, targets = fw.inputs[:, stream].copy(), fw.targets[:, stream].copy()
    losses = fw.losses[:, stream].astype(np.float64)
    s = fw.states.get("s")  # (T+1, B, H) the LSTM's cell states
    return ChunkTrace(
        step=step, stream=stream,
        input_chars=[chars[i] for i in inputs], target_chars=[chars[i] for i in targets],
        inputs=inputs, targets=targets,
        hs=fw.hs[1:, stream].astype(np.float64), h_prev=fw.hs[0, stream].astype(np.float64),
        ps=fw.ps[:, stream].astype(np.float64), losses=losses,
        dh_norms=gradient_norms(dh[:, stream : stream + 1])[:, 0],
        loss=float(losses.sum()), mean_loss=fw.loss, cell=cell,
        gates={name: a[:, stream].astype(np.float64) for name, a in fw.gates.items()},
        ss=None if s is None else s[1:, stream].astype(np.float64),
        s_prev=None if s is None else s[0, stream].astype(np.float64),
    )


def trace_text(params: Params, vocab: Vocab, ids: np.ndarray, step: int = 0) -> ChunkTrace:
    """The chunk trace of a text given as ids (n >= 2,): inputs ids[:-1], targets ids[1:], read
    from a zero carried state under `params` (any cell's, known by their names)."""
    if len(ids) < 2:
        raise ValueError(f"a trace needs at least 2 characters, got {len(ids)}")
    cell = cell_of(params)
    inputs, targets = ids[:-1, None], ids[1:, None]  # (T, 1)
    dtype = params["V"].dtype
    fw = cell.forward(params, inputs, targets, np.zeros((1, cell.carry_size(hidden_size(params))), dtype))
    _, dh = cell.gradients(params, fw)
    return chunk_trace(fw, dh, vocab, stream=0, step=step, cell=cell.NAME)
