"""Bounded metric history: a fixed-size table that thins itself as training goes on.

`History(columns, cap)` keeps at most 2 * cap rows whatever the number of appends: when the table
is full, every other row is dropped and from then on only every second append is kept (then every
fourth, ...). The kept rows stay evenly spaced over the whole run, the newest within one stride.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


class History:
    def __init__(self, columns: Sequence[str], cap: int = 1000) -> None:
        if cap < 1:
            raise ValueError(f"cap must be at least 1, got {cap}")
        self.columns = tuple(columns)
        self.cap = cap
        self._index = {name: i for i, name in enumerate(self.columns)}
        self._rows = np.empty((2 * cap, len(self.columns)))  # (rows, columns), float64
        self._n = 0          # rows in use
        self._stride = 1     # keep one append in `stride`
        self._appends = 0

    def __len__(self) -> int:
        return self._n

    @property
    def stride(self) -> int:
        return self._stride

    def append(self, row: Mapping[str, float]) -> None:
        """A row by column name (a missing column reads NaN)."""
        self.append_values([row.get(name, np.nan) for name in self.columns])

    def append_values(self, values: Sequence[float]) -> None:
        """A row given as one value per column, in column order."""
        if self._appends % self._stride == 0:
            self._rows[self._n] = values
            self._n += 1
            if self._n == len(self._rows):
                self._rows[: self.cap] = self._rows[::2]
                self._n = self.cap
                self._stride *= 2
        self._appends += 1

    @property
    def appends(self) -> int:
        """Rows appended so far, kept or not."""
        return self._appends

    def truncate(self, appends: int) -> None:
        """Back to how it was after `appends` appends (training went back to an earlier step).
        Rows thinned away since are not restored: the kept rows stay evenly spaced."""
        if not 0 <= appends <= self._appends:
            raise ValueError(f"cannot go back to {appends} appends of {self._appends}")
        self._appends = appends
        # Kept rows are exactly the appends whose index is a multiple of the current stride.
        self._n = min(self._n, -(-appends // self._stride))

    def column(self, name: str) -> np.ndarray:
        return self._rows[: self._n, self._index[name]].copy()

    def as_dict(self) -> dict[str, np.ndarray]:
        """A copy of every column, shape (len(self),) each."""
        return {name: self.column(name) for name in self.columns}

    @property
    def nbytes(self) -> int:
        return self._rows.nbytes
