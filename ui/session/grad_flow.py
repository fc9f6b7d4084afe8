"""The gradient-flow log: ||dL/dh(t)|| of stream 0's last chunk every GRAD_FLOW_EVERY steps, for
the Inspect page's step × t heatmap. Thinned to stay evenly spaced over the whole run
(rnn_core.history.History), so it stays bounded however long training runs. The worker keeps one
per session and calls it with the session's lock held."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.history import History
from rnn_core.trainer import Trainer

GRAD_FLOW_EVERY = 10  # steps between rows
GRAD_FLOW_CAP = 100   # the log keeps at most 2 * cap rows


@dataclass(frozen=True)
class GradFlow:
    steps: np.ndarray   # (n,) training step of each row
    norms: np.ndarray   # (n, T) ||dL/dh(t)|| of stream 0's chunk at that step


class GradFlowLog:
    def __init__(self, seq_len: int) -> None:
        self._seq_len = seq_len
        self._rows = History(("step", *(f"t{i}" for i in range(seq_len))), GRAD_FLOW_CAP)
        self._last_step: int | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def record(self, trainer: Trainer, force: bool = False) -> None:
        """A row for the trainer's last step, when GRAD_FLOW_EVERY steps have passed since the
        last row (`force`: whenever the step is a new one)."""
        step, last = trainer.step_count, self._last_step
        if last is not None and (step <= last or (not force and step - last < GRAD_FLOW_EVERY)):
            return
        trace = trainer.chunk_trace(0)
        if trace is None or len(trace.dh_norms) != self._seq_len:
            return
        self._last_step = step
        row = {f"t{i}": float(v) for i, v in enumerate(trace.dh_norms)}
        row["step"] = trace.step
        self._rows.append(row)

    def cut_back(self, step: int) -> None:
        """Forget the rows after `step` (training went back to it). The rows kept stay evenly
        spaced: the next row is kept whatever the log's stride."""
        steps = self._rows.column("step")
        keep = int(np.searchsorted(steps, step, side="right"))  # rows are in step order
        self._rows.truncate(min(keep * self._rows.stride, self._rows.appends))
        self._last_step = int(steps[keep - 1]) if keep else None

    def flow(self) -> GradFlow:
        """Copies of the rows, oldest first."""
        cols = self._rows.as_dict()
        norms = np.stack([cols[f"t{i}"] for i in range(self._seq_len)], axis=1)
        return GradFlow(steps=cols["step"].astype(np.int64), norms=norms)
