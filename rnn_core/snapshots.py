"""A trainer's full state, and the ring of recent states a divergence goes back to.

`TrainerState` is everything needed to continue training exactly: what `Trainer.state()` returns,
`Trainer.load_state()` takes and checkpoints save. A `Snapshot` is a state taken while training,
with the mean chunk loss of the steps that led to it, so a divergence can go back to the newest
one that was still healthy (below a uniform guess). `SnapshotRing` keeps a few of them, newest
densely and older ones ever more sparsely, always including the oldest (the fresh weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.model import Params
from rnn_core.optim import OptimizerState


@dataclass(frozen=True)
class TrainerState:
    params: Params            # the weights (the cell's: U, W, V, b, c for the RNN)
    last_update: Params | None  # the change the last update made to each weight (the weights
                                # before it are params - last_update); None: none known (zero)
    optimizer: OptimizerState
    p: int                    # position of every stream in its segment
    h: np.ndarray             # (B, C) the state each stream carries into its next chunk: h (B, H),
                              # for the LSTM h and its cell state s side by side (B, 2H)
    step: int                 # updates taken
    chars_seen: int
    smooth_loss: float
    train_time: float         # seconds of training (validation not included)

    @property
    def nbytes(self) -> int:
        arrays = [*self.params.values(), self.h]
        arrays += [a for d in self.optimizer.slots.values() for a in d.values()]
        if self.last_update is not None:
            arrays += list(self.last_update.values())
        return sum(a.nbytes for a in arrays)


@dataclass(frozen=True)
class Snapshot:
    state: TrainerState
    loss: float          # mean chunk loss (nats) of the steps since the previous snapshot; NaN: none
    reason: str          # "start" (fresh or loaded weights), "periodic", "setting" (before a live
                         # change of settings) or "best" (the lowest validation loss so far)
    history_rows: int    # appends to the step history at that point (to cut it back on a rewind)
    val_rows: int        # ... and to the validation history

    @property
    def step(self) -> int:
        return self.state.step

    def healthy(self, uniform_loss: float) -> bool:
        """A starting point (fresh or loaded weights), or training that was doing better than a
        uniform guess."""
        return self.reason == "start" or self.loss < uniform_loss


class SnapshotRing:
    """At most `capacity` snapshots, in step order. When a new one makes too many, one goes: never
    the oldest (the starting point), the newest, or the newest taken before a change of settings
    (the state to go back to when the change makes training diverge); of the others, the one
    whose removal leaves the smallest gap relative to its age, so recent steps stay dense and the
    kept ones reach back ever further (with snapshots every 10 steps and 5 kept, after 20,000
    steps: 0, 19,120, 19,970, 19,990, 20,000)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 2:
            raise ValueError(f"a snapshot ring keeps at least 2, got {capacity}")
        self.capacity = capacity
        self._items: list[Snapshot] = []

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[Snapshot]:
        """Oldest first."""
        return list(self._items)

    @property
    def newest(self) -> Snapshot | None:
        return self._items[-1] if self._items else None

    def add(self, snap: Snapshot) -> None:
        """Keep `snap`; one at the same step or later (from before a rewind) is replaced."""
        self._items = [s for s in self._items if s.step < snap.step]
        self._items.append(snap)
        if len(self._items) > self.capacity:
            steps = [s.step for s in self._items]
            settings = [i for i, s in enumerate(self._items) if s.reason == "setting"]
            keep = {0, len(steps) - 1, *settings[-1:]}

            def cost(i: int) -> float:  # the gap its removal leaves, relative to its age
                return (steps[i + 1] - steps[i - 1]) / max(steps[-1] - steps[i - 1], 1)

            del self._items[min((i for i in range(len(steps)) if i not in keep), key=cost)]

    def drop_after(self, step: int) -> None:
        """Forget snapshots of later steps (after going back to `step`)."""
        self._items = [s for s in self._items if s.step <= step]

    def newest_healthy(self, uniform_loss: float, before: int | None = None) -> Snapshot | None:
        """The newest healthy snapshot, only among those before step `before` when given."""
        for snap in reversed(self._items):
            if (before is None or snap.step < before) and snap.healthy(uniform_loss):
                return snap
        return None

    @property
    def nbytes(self) -> int:
        return sum(s.state.nbytes for s in self._items)
