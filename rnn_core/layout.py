"""Memory layout: parameters (or gradients, or optimizer state) stored as one contiguous vector.

The article's objects are dicts of arrays keyed U, W, V, b, c. At batch 1 most of a step's cost is
NumPy's per-call overhead, so clipping, the optimizers and the trainer's finiteness checks treat
all five arrays as one vector when they can: one NumPy call instead of five. This module is the
only place that knows how:

- `FlatParams`: a dict of arrays that are consecutive views into one buffer (`flat()`), with each
  array also as a 1-D piece (`segments`). To every other reader it is an ordinary dict.
- `flat_buffers(*dicts)`: the buffers of several FlatParams of one layout, or None, in which case
  callers go array by array with the same arithmetic (bench/check.py checks both paths agree).
- `stacked(arrays, names)`: several arrays of one shape as one, stacked along the first axis: a view
  when they lie one after another in a FlatParams (the gated cells' per-gate weights do).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping, Sequence

import numpy as np

Layout = tuple[tuple[str, tuple[int, ...]], ...]  # (name, shape) of each array, in order


class FlatParams(dict):
    """A dict of arrays that are consecutive views into one contiguous buffer, in key order.

    `flat()` is None as soon as an entry has been replaced by another array (in-place writes are
    fine); callers then fall back to per-array work.
    """

    layout: Layout
    segments: tuple[np.ndarray, ...]  # each array as a 1-D view of the buffer
    _buffer: np.ndarray
    _views: tuple[np.ndarray, ...]

    def __init__(self, arrays: Mapping[str, np.ndarray], dtype: np.dtype | type | None = None) -> None:
        """A copy of `arrays` (as `dtype`, by default their common type) in one new buffer."""
        arrays = {k: np.asarray(a) for k, a in arrays.items()}
        dt = np.dtype(dtype) if dtype is not None else np.result_type(*arrays.values())
        self._attach({k: a.shape for k, a in arrays.items()}, dt)
        for view, a in zip(self._views, arrays.values(), strict=True):
            view[...] = a

    @classmethod
    def empty(cls, shapes: Mapping[str, tuple[int, ...]], dtype: np.dtype | type) -> FlatParams:
        """Uninitialised arrays of the given shapes (for results written with out=)."""
        new = cls.__new__(cls)
        new._attach(shapes, np.dtype(dtype))
        return new

    @classmethod
    def zeros(cls, shapes: Mapping[str, tuple[int, ...]], dtype: np.dtype | type) -> FlatParams:
        new = cls.empty(shapes, dtype)
        new._buffer.fill(0)
        return new

    def like(self, buffer: np.ndarray) -> FlatParams:
        """A FlatParams with this one's layout whose arrays are views of `buffer` (not copied)."""
        new = type(self).__new__(type(self))
        new._attach(dict(self.layout), buffer.dtype, buffer)
        return new

    def alias(self) -> FlatParams:
        """A new dict holding the same arrays (nothing copied), still usable through flat()."""
        new = type(self).__new__(type(self))
        dict.update(new, self)
        new.layout, new._buffer, new._views, new.segments = (
            self.layout, self._buffer, self._views, self.segments)
        return new

    def copy(self) -> FlatParams:  # type: ignore[override]
        """A new buffer with the same layout and values."""
        return FlatParams(self)

    def flat(self) -> np.ndarray | None:
        """The buffer all entries are views of, or None if an entry was replaced since."""
        if len(self) == len(self._views) and all(map(operator.is_, self.values(), self._views)):
            return self._buffer
        return None

    def _attach(self, shapes: Mapping[str, tuple[int, ...]], dtype: np.dtype,
                buffer: np.ndarray | None = None) -> None:
        layout = tuple((k, tuple(shape)) for k, shape in shapes.items())
        self.layout = _LAYOUTS.setdefault(layout, layout)  # one object per layout: `is` compares
        total, slices = _slices(self.layout)
        if buffer is None:
            buffer = np.empty(total, dtype)
        self._buffer = buffer
        self.segments = tuple(buffer[start:stop] for start, stop, _ in slices)
        self._views = tuple(s.reshape(shape) for s, (_, _, shape) in zip(self.segments, slices, strict=True))
        dict.update(self, zip(shapes, self._views, strict=True))

    def __reduce__(self):  # copy.deepcopy and pickle: a new buffer with the same layout and values
        return type(self), (dict(self),)

    def __copy__(self) -> FlatParams:
        return self.alias()


_LAYOUTS: dict[Layout, Layout] = {}


@functools.cache
def _slices(layout: Layout) -> tuple[int, list[tuple[int, int, tuple[int, ...]]]]:
    """Total size and (start, stop, shape) of each array of a layout."""
    slices, start = [], 0
    for _, shape in layout:
        stop = start + math.prod(shape)
        slices.append((start, stop, shape))
        start = stop
    return start, slices


def flat_buffers(*dicts: Mapping[str, np.ndarray]) -> list[np.ndarray] | None:
    """The flat buffers of several FlatParams with one layout (e.g. weights and gradients), or None."""
    first = dicts[0]
    if not isinstance(first, FlatParams):
        return None
    out = []
    for d in dicts:
        if not isinstance(d, FlatParams) or (d.layout is not first.layout and d.layout != first.layout):
            return None
        buffer = d.flat()
        if buffer is None:
            return None
        out.append(buffer)
    return out


def stacked(arrays: Mapping[str, np.ndarray], names: Sequence[str], view: bool = False) -> np.ndarray:
    """The arrays `names`, all of one shape (n, ...), stacked along the first axis: (len(names) * n, ...).

    A view when they lie one after another in a FlatParams buffer, so that writing into it writes
    them; otherwise a new array (ValueError instead when `view` is required).
    """
    first = arrays[names[0]]
    shape = (len(names) * first.shape[0], *first.shape[1:])
    if isinstance(arrays, FlatParams) and arrays.flat() is not None:
        keys = [k for k, _ in arrays.layout]
        j = keys.index(names[0])
        _, slices = _slices(arrays.layout)
        block = slices[j : j + len(names)]
        if keys[j : j + len(names)] == list(names) and all(s[2] == first.shape for s in block):
            return arrays.flat()[block[0][0] : block[-1][1]].reshape(shape)
    if view:
        raise ValueError(f"{', '.join(names)} do not lie one after another in one buffer")
    return np.concatenate([arrays[k] for k in names])


def copy_into(dst: Mapping[str, np.ndarray], src: Mapping[str, np.ndarray]) -> None:
    """Copy every array of src into dst's (one copy when both are FlatParams of one layout)."""
    bufs = flat_buffers(dst, src)
    if bufs is not None:
        np.copyto(bufs[0], bufs[1])
    else:
        for k, a in src.items():
            np.copyto(dst[k], a)


def copy_params(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A copy with its own memory (one new buffer for a FlatParams)."""
    if isinstance(arrays, FlatParams):
        return arrays.copy()
    return {k: np.array(a, copy=True) for k, a in arrays.items()}


def all_finite(arrays: Mapping[str, np.ndarray]) -> bool:
    """No NaN or inf in any of the arrays."""
    bufs = flat_buffers(arrays)
    if bufs is not None:
        buf = bufs[0]
        # Any NaN or inf makes the sum of squares non-finite; only when it is (or overflowed) is
        # every entry looked at. One dot product is the cheapest full check at batch 1.
        with np.errstate(over="ignore", invalid="ignore"):
            return math.isfinite(buf.dot(buf)) or bool(np.isfinite(buf).all())
    return all(bool(np.isfinite(a).all()) for a in arrays.values())
