"""Lazy sweeps that never materialise the grid: each dask chunk forms its own outer product.

The inputs of a sweep are 1-D coordinates (φ along one dim, ξ along another, ...).  Broadcast
with dask (``da.broadcast_arrays``) they become one full-size block per input and output
chunk: 8 bytes a point per input, made by a task of its own and moved between processes to
the task that computes the chunk.  Here the chunk function receives the 1-D (or size-1)
blocks as they are and broadcasts them itself (:func:`map_outer`).  In-memory inputs (the
usual 1-D coordinates) travel inside each chunk's task, which slices out its part: a chunk
is one task that depends on no other, and dask.distributed spreads such tasks over all its
workers (a task with dependencies goes only to a worker holding one of them).

:func:`auto_chunks` picks chunk sizes by the number of points a chunk of the *result* holds
(dask's own ``"auto"`` sizes each 1-D input alone, which gives one chunk for a whole
10⁴ × 10⁴ grid).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from ..engine import allocator

#: Points per chunk for ``chunks="auto"``: 2²⁰ points are 16 MiB of complex128, about half a
#: second of the exact overlap kernel on one core; a chunk's task then costs its scheduler
#: ~1 ms (0.2 %) and a 10⁸-point sweep has ~100 chunks (dask's guidance: tasks of 100 ms or
#: more, chunks of 10-100 MB, fewer than ~10⁵ tasks).
AUTO_POINTS = 1 << 20
#: The method's estimated cost of a chunk of ``"auto"`` size: :data:`AUTO_POINTS` points at
#: the exact kernel's estimate (``seconds_per_point`` 1e-6 in the registry).
AUTO_SECONDS = AUTO_POINTS * 1e-6


#: The most chunks ``"auto"`` aims at: a 10⁸-point sweep of a slow method (quad, a user's
#: integrand) gets chunks of ≥ 32,553 points (3 rows of 10⁴: 3,334 chunks; a method with
#: several outputs has two graph layers before dask fuses them: ≤ 10⁴ tasks).
AUTO_MAX_CHUNKS = 3072
#: A sweep too small to fill :data:`AUTO_SECONDS` chunks is still cut into this many, so that
#: every worker of a cluster gets several (a worker that gets one chunk more than another
#: idles at the end: with 32 chunks on 2 workers, at most 1/16 of the time)...
AUTO_MIN_CHUNKS = 32
#: ... of at least this much estimated work each (a task costs dask ~1 ms).
AUTO_MIN_SECONDS = 0.1


def auto_points(seconds_per_point: float | None = None, total: int | None = None) -> int:
    """Points per ``"auto"`` chunk for a method of this estimated cost per point.

    Chunks hold ~:data:`AUTO_SECONDS` of estimated work, at most :data:`AUTO_POINTS` (16 MiB
    of complex128).  A sweep of ``total`` points that this would cut into fewer than
    :data:`AUTO_MIN_CHUNKS` chunks is cut into that many, down to :data:`AUTO_MIN_SECONDS`
    of work a chunk (a 100 × 100 grid of a user's integrand gets ~32 chunks, where it got
    one); and never into more than ~:data:`AUTO_MAX_CHUNKS`.

    Examples
    --------
    >>> auto_points(1e-6), auto_points(3e-4), auto_points(None)
    (1048576, 3495, 1048576)
    >>> auto_points(1e-6, total=10**8), auto_points(3e-4, total=10**8)  # ≤ 3072 chunks
    (1048576, 32553)
    >>> auto_points(3e-4, total=10**4), auto_points(1e-6, total=4 * 10**6)  # ≥ 32 chunks
    (333, 125000)
    >>> auto_points(1e-6, total=10**4)  # too little work to cut
    100000
    """
    if seconds_per_point is None or seconds_per_point <= 0:
        points = AUTO_POINTS
    else:
        points = min(AUTO_POINTS, int(AUTO_SECONDS / seconds_per_point))
        if total is not None:
            spread = max(math.ceil(total / AUTO_MIN_CHUNKS),
                         int(AUTO_MIN_SECONDS / seconds_per_point))
            points = min(points, spread)
    if total is not None:
        points = max(points, math.ceil(total / AUTO_MAX_CHUNKS))
    return max(points, 1)


def auto_chunks(sizes: Mapping[Hashable, int], points: int = AUTO_POINTS
                ) -> dict[Hashable, int]:
    """Chunk sizes whose chunks hold about ``points`` points of the broadcast result.

    The last dims are kept whole (a chunk is then contiguous along them, as zarr and netCDF
    store it) and the first dims are cut, the outermost last of all.

    Examples
    --------
    >>> auto_chunks({"phi": 10_000, "xi": 10_000})
    {'phi': 104, 'xi': 10000}
    >>> auto_chunks({"phi": 100, "xi": 100})
    {'phi': 100, 'xi': 100}
    """
    chunks: dict[Hashable, int] = {}
    room = max(int(points), 1)
    for dim in reversed(list(sizes)):
        size = int(sizes[dim])
        take = min(size, max(room, 1))
        if take < size:  # even pieces: no ragged last chunk much smaller than the others
            take = math.ceil(size / math.ceil(size / take))
        chunks[dim] = take
        room //= take
    return {dim: chunks[dim] for dim in sizes}


#: In-memory inputs of at most this many values travel inside every chunk's task, which
#: slices out its own part (1-D coordinates: a 10⁴-value axis is 80 KB).  Larger ones (a
#: broadcast 2-D grid) are cut into dask chunks that the chunk tasks depend on.
EMBED_VALUES = 1 << 17


#: A keyword value of a chunk's task that pickles to at least this many bytes (a user's
#: integrand that closes over a table) enters the graph once, as data the chunk tasks depend
#: on (:func:`shared`).
SHARED_BYTES = 1 << 20


def shared(value: Any) -> Any:
    """``value``, or, if it pickles to :data:`SHARED_BYTES` or more, a dask task holding it.

    dask.distributed pickles every task it sends to a worker with its arguments: an
    integrand that closes over a 200 MB table went to the workers once per chunk (a 100 ×
    100 grid in 10 chunks took 5 s, against 0.4 s in one process, measured).  As a task of
    its own that the chunk tasks depend on, it goes to each worker once, as dask sends a
    ``from_array`` array.  A small value stays inside each chunk's task: chunk tasks that
    depend on nothing are spread over every worker from the start (see :func:`map_outer`).
    A value that cannot be pickled is returned as it is: dask's local schedulers do not
    pickle it, and a cluster's names it when the graph is sent.
    """
    import cloudpickle

    try:
        data = cloudpickle.dumps(value)
    except Exception:  # noqa: BLE001 - see the docstring
        return value
    if len(data) < SHARED_BYTES:
        return value
    from dask import delayed

    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    return delayed(value, name=f"xr_spdc-shared-{digest}", traverse=False)


def map_outer(func: Callable[..., tuple[np.ndarray, ...]], arrays: Sequence[Any],
              dtypes: Sequence[Any], chunks: Sequence[tuple[int, ...] | None] | None = None,
              **kwargs: Any) -> tuple[Any, ...]:
    """Map ``func`` over the chunks of the broadcast of ``arrays``, without broadcasting them.

    Parameters
    ----------
    func : callable
        ``func(*blocks, block_info=..., **kwargs) -> tuple of arrays``, one per dtype in
        ``dtypes``, each of the broadcast shape of ``blocks`` (it broadcasts them itself).
        ``block_info[0]["array-location"]`` and ``["shape"]`` place the chunk in the whole.
    arrays : sequence
        Each of the output's ndim with size-1 dims where it does not vary (as
        ``xr.apply_ufunc`` hands them over): dask arrays, numpy arrays (in-memory inputs,
        cut along ``chunks``), and numbers (0-d constants).
    dtypes : sequence of numpy dtype
        The outputs' dtypes.
    chunks : sequence of tuple of int or None, optional
        The output's chunks along each axis, for the axes along which only numpy arrays
        vary (along the others, those of the dask arrays that vary along them).
    **kwargs
        Passed to ``func``.

    Returns
    -------
    tuple of dask arrays
        One per output.  A single output is ``func``'s own array (one task a chunk);
        several travel as the fields of one structured array and are taken apart.

    Notes
    -----
    In-memory inputs (up to :data:`EMBED_VALUES` values each) go into every chunk's task,
    which slices out its part: the chunk tasks then depend on no other task.
    dask.distributed places a task that depends on others only on a worker that holds one
    of its dependencies, so chunks fed from one shared input task (the whole ξ axis,
    computed once on one worker) all queue on that worker and leave the others to work
    stealing: on two workers, three chunks of four ran on one (measured).  Tasks without
    dependencies are spread over all workers.
    """
    import dask.array as da

    ndim = max((np.ndim(a) for a in arrays), default=0)
    if chunks is not None and len(chunks) != ndim:
        raise ValueError(f"chunks has {len(chunks)} axes, the arrays {ndim}")
    # Leading size-1 dims where xarray left them out (numpy broadcasting aligns the right).
    arrays = [a if isinstance(a, da.Array) or np.ndim(a) == 0 else
              np.asarray(a, np.float64).reshape((1,) * (ndim - np.ndim(a)) + np.shape(a))
              for a in arrays]
    out_chunks = _output_chunks(arrays, ndim, chunks)
    lazy: list[Any] = []
    embedded: dict[int, np.ndarray] = {}
    constants: dict[int, np.ndarray] = {}
    for i, a in enumerate(arrays):
        if isinstance(a, da.Array):
            lazy.append(a)
        elif np.ndim(a) == 0:  # a scalar μ: a keyword value, no task, no broadcast
            constants[i] = np.asarray(a, np.float64)
        elif a.size <= EMBED_VALUES:
            embedded[i] = a
        else:
            lazy.append(da.from_array(a, chunks=tuple(
                c if a.shape[axis] != 1 else (1,) for axis, c in enumerate(out_chunks))))
    positions = [i for i, a in enumerate(arrays) if i not in constants and i not in embedded]
    dtypes = [np.dtype(dt) for dt in dtypes]  # numpy types or dtypes
    kwargs = {**kwargs, "_func": func, "_constants": constants, "_embedded": embedded,
              "_positions": positions, "_n": len(arrays), "_ndim": ndim}
    if len(dtypes) == 1:
        out = da.map_blocks(_call_one, *lazy, dtype=dtypes[0], chunks=tuple(out_chunks),
                            meta=np.empty((0,) * ndim, dtypes[0]), **kwargs)
        return (out,)
    # Several outputs travel in one structured array (a field each, the chunk's shape), and
    # each is taken out by a blockwise map that dask fuses into the chunk's task when it is
    # the only output used (a lazy result): one task a chunk, where a stacked last axis
    # sliced apart took two (a slice or a dropped axis does not fuse).
    packed = np.dtype([(f"o{k}", dt) for k, dt in enumerate(dtypes)])
    if lazy:
        mapped = da.map_blocks(_call_packed, *lazy, dtype=packed, chunks=tuple(out_chunks),
                               meta=np.empty((0,) * ndim, packed), **kwargs)
    else:
        mapped = da.map_blocks(_call_packed, dtype=packed, chunks=tuple(out_chunks),
                               meta=np.empty((0,) * ndim, packed), **kwargs)
    return tuple(mapped.map_blocks(_field, f"o{k}", dt, dtype=dt,
                                   meta=np.empty((0,) * ndim, dt))
                 for k, dt in enumerate(dtypes))


def _field(packed: np.ndarray, name: str, dtype: np.dtype) -> np.ndarray:
    """One output of a chunk's packed outputs, as an array of its own in its dtype."""
    return np.ascontiguousarray(packed[name]).astype(dtype, copy=False)


def _output_chunks(arrays: Sequence[Any], ndim: int,
                   chunks: Sequence[tuple[int, ...] | None] | None) -> list[tuple[int, ...]]:
    """The output's chunks: along each axis those of a dask input that varies along it,
    else those asked for, else one chunk."""
    import dask.array as da

    out: list[tuple[int, ...]] = []
    for axis in range(ndim):
        varying = [a for a in arrays if np.ndim(a) >= ndim - axis
                   and a.shape[axis - ndim + np.ndim(a)] != 1]
        along = [a.chunks[axis - ndim + a.ndim] for a in varying if isinstance(a, da.Array)]
        sizes = [a.shape[axis - ndim + np.ndim(a)] for a in varying]
        asked = None if chunks is None else chunks[axis]
        if along:
            out.append(along[0])
        elif asked is not None:
            out.append(tuple(asked))
        else:
            out.append((sizes[0],) if sizes else (1,))
    return out


def _arguments(blocks: Sequence[np.ndarray], where: Any, constants: Mapping[int, np.ndarray],
               embedded: Mapping[int, np.ndarray], positions: Sequence[int], n: int
               ) -> list[np.ndarray]:
    """The chunk's blocks, with the constants and its part of each embedded input in their
    places."""
    given = dict(zip(positions, blocks, strict=True))
    location = where[0]["array-location"]
    out = []
    for i in range(n):
        if i in constants:
            out.append(constants[i])
        elif i in embedded:
            a = embedded[i]
            out.append(a[tuple(slice(start, stop) if size != 1 else slice(None)
                               for (start, stop), size in zip(location, a.shape,
                                                              strict=True))])
        else:
            out.append(given[i])
    return out


def _located(block_info: Any, ndim: int) -> Any:
    """``block_info`` as the chunk function reads it: where the chunk lies in the whole
    output (map_blocks gives that under None)."""
    where = block_info[None]
    return {0: {"array-location": list(where["array-location"])[:ndim],
                "shape": tuple(where["shape"])[:ndim]}}


def _call_one(*blocks: np.ndarray, block_info: Any = None, _func: Callable[..., Any],
              _constants: Mapping[int, np.ndarray], _embedded: Mapping[int, np.ndarray],
              _positions: Sequence[int], _n: int, _ndim: int, **kwargs: Any) -> np.ndarray:
    where = _located(block_info, _ndim)
    with allocator.roomy_malloc():
        return _func(*_arguments(blocks, where, _constants, _embedded, _positions, _n),
                     block_info=where, **kwargs)[0]


def _call_packed(*blocks: np.ndarray, block_info: Any = None, _func: Callable[..., Any],
                 _constants: Mapping[int, np.ndarray], _embedded: Mapping[int, np.ndarray],
                 _positions: Sequence[int], _n: int, _ndim: int, **kwargs: Any
                 ) -> np.ndarray:
    where = _located(block_info, _ndim)
    with allocator.roomy_malloc():
        outputs = _func(*_arguments(blocks, where, _constants, _embedded, _positions, _n),
                        block_info=where, **kwargs)
    shape = np.broadcast_shapes(*(np.shape(o) for o in outputs))
    packed = np.empty(shape, [(f"o{k}", np.asarray(o).dtype) for k, o in enumerate(outputs)])
    for k, output in enumerate(outputs):
        packed[f"o{k}"] = output
    return packed
