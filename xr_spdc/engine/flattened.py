"""An input of a grid, flattened in C order, that forms only the points a block asks for.

The eager route evaluates a method over the broadcast of its inputs, flattened: for a sweep
over 1-D coordinates (φ along one dim, ξ along another) that is 8 bytes a point per input,
formed in the caller, then cut into blocks, pickled into each task and unpickled by a
worker.  At 10⁶ points on two workers that moved 16 MB of inputs through loky's pipes and
cost the caller ~15 ms of CPU on the cores the workers compute on.  A :class:`Flattened`
input travels with its own few values (a coordinate: 8 kB) and the block's range; the
worker forms the block's points itself (a ``repeat`` or a ``tile`` of the coordinate).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np


class Flattened:
    """``values`` broadcast over ``shape`` and flattened in C order, without forming it.

    Parameters
    ----------
    values : numpy.ndarray
        float64, with ``len(shape)`` dims, each either ``shape``'s or 1 (where it does not
        vary).
    shape : tuple of int
        The grid's shape.
    start, stop : int, optional
        The flat points this view holds (default: all).

    ``len()`` is the number of points; ``x[i]`` is one point's value, ``x[a:b]`` a view of
    points ``a`` to ``b`` (nothing formed), and ``np.asarray(x)`` forms the view's points.

    Examples
    --------
    >>> x = Flattened(np.array([[1.0], [2.0]]), (2, 3))
    >>> np.asarray(x).tolist(), np.asarray(x[2:5]).tolist(), float(x[4])
    ([1.0, 1.0, 1.0, 2.0, 2.0, 2.0], [1.0, 2.0, 2.0], 2.0)
    >>> np.asarray(Flattened(np.array([[1.0, 2.0, 3.0]]), (2, 3))[1:5]).tolist()
    [2.0, 3.0, 1.0, 2.0]
    """

    __slots__ = ("values", "shape", "start", "stop")

    def __init__(self, values: np.ndarray, shape: tuple[int, ...], start: int = 0,
                 stop: int | None = None) -> None:
        self.values = values
        self.shape = tuple(shape)
        self.start = start
        self.stop = math.prod(self.shape) if stop is None else stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise ValueError("a Flattened input is cut into contiguous blocks only")
            return Flattened(self.values, self.shape, self.start + start,
                             self.start + max(stop, start))
        i = operator.index(key)
        if not -len(self) <= i < len(self):
            raise IndexError(f"point {i} of {len(self)}")
        i %= len(self)
        return _form(self.values, self.shape, self.start + i, self.start + i + 1)[0]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = _form(self.values, self.shape, self.start, self.stop)
        return out if dtype is None else out.astype(dtype, copy=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return Flattened, (self.values, self.shape, self.start, self.stop)


def _form(values: np.ndarray, shape: tuple[int, ...], start: int, stop: int) -> np.ndarray:
    """The flat points ``start`` to ``stop`` of ``values`` broadcast over ``shape``."""
    if stop <= start:
        return np.empty(0, values.dtype)
    varying = [axis for axis, n in enumerate(values.shape) if n != 1]
    if not varying:
        return np.full(stop - start, values.reshape(-1)[0])
    if len(varying) == 1:
        axis = varying[0]
        line = values.reshape(-1)
        inner = math.prod(shape[axis + 1:])  # points between two steps along the axis
        if inner == 1:  # the last axis: the line over and over
            return _tiled(line, start, stop)
        # every value repeated ``inner`` times in a row, the rows cycling through the line
        first, last = start // inner, (stop - 1) // inner
        counts = np.full(last - first + 1, inner)
        counts[0] -= start - first * inner
        counts[-1] -= (last + 1) * inner - stop
        return np.repeat(_tiled(line, first, last + 1), counts)
    # Several axes vary (a 2-D input, not an outer product): each point's position in the
    # grid, taken as 0 along the axes where ``values`` does not vary.
    position = np.unravel_index(np.arange(start, stop), shape)
    return values[tuple(p if n != 1 else 0 for p, n in zip(position, values.shape,
                                                              strict=True))]


def _tiled(line: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Points ``start`` to ``stop`` of ``line`` repeated end to end."""
    n = len(line)
    offset = start % n
    if offset + (stop - start) <= n:
        return line[offset:offset + stop - start].copy()
    reps = -(-(offset + stop - start) // n)
    return np.tile(line, reps)[offset:offset + stop - start]
