"""The one place that fans block work out: in-process, over a process pool, or over dask.

A *block function* takes 1-D numpy arrays of equal length (one per input, e.g. phi, xi, mu)
plus keyword options and returns a tuple of arrays of that length.  :func:`run_blocks` cuts
the inputs into blocks of a fixed size, evaluates them in-process or on a pool of worker
processes, and reassembles the outputs; :func:`map_dask` wraps the same block function in
``xarray.apply_ufunc(..., dask="parallelized")`` for dask-backed inputs.

Why a ``concurrent.futures.ProcessPoolExecutor`` rather than ``multiprocessing.Pool``: a
worker killed by the OS (out of memory, SIGKILL) hangs ``Pool.map`` forever (CPython
gh-66587), and an exception that cannot be pickled arrives as ``MaybeEncodingError`` without
the point that failed.  Here every failure reaches the caller as one :class:`FanoutError`
naming the point (or block) and carrying the worker's traceback text and whatever had been
computed already.

With ``workers=N`` the calling process computes too, beside a pool of N - 1: it starts at
once, while the pool's processes start, and would otherwise only wait; a worker gets
blocks only once it is up.  Blocks reach the pool's workers through a few reused
shared-memory slots, so the pipes carry only slot numbers and this process's threads do
not spend its time pickling arrays.

Blocks have a fixed size whatever the number of workers, so results are bitwise identical
for any ``workers``.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import shared_memory
from typing import Any, NamedTuple

import numpy as np

BlockFunction = Callable[..., tuple[np.ndarray, ...]]

#: Start methods :func:`run_blocks` accepts; ``None`` picks :func:`default_start_method`.
START_METHODS = ("fork", "forkserver", "spawn")

# Modules a forkserver imports once, so that each later worker starts in milliseconds.
_PRELOAD = ["xr_spdc", "xr_spdc.kernels", "xr_spdc.methods", "xr_spdc.quad"]

# How many offending points an error message shows.
_SHOWN = 5


class FanoutError(RuntimeError):
    """A block could not be evaluated.

    Attributes
    ----------
    point : dict
        The input values at the point that failed (empty when only the block is known).
    index : int
        Flat index of that point (or of the block's first point) in the inputs.
    worker_traceback : str
        The traceback text from the process that failed.
    partial : tuple of ndarray or None
        Set in the calling process: the outputs with every completed block filled in and
        NaN (or 0 for integer outputs) elsewhere, so no finished work is lost.
    """

    def __init__(self, message: str, point: Mapping[str, float], index: int,
                 worker_traceback: str) -> None:
        # args mirror __init__ so the exception pickles across processes unchanged.
        super().__init__(message, dict(point), index, worker_traceback)
        self.message = message
        self.point = dict(point)
        self.index = index
        self.worker_traceback = worker_traceback
        self.partial: tuple[np.ndarray, ...] | None = None

    def __str__(self) -> str:
        if not self.worker_traceback:
            return self.message
        return f"{self.message}\n\nTraceback in the worker:\n{self.worker_traceback.rstrip()}"


class WorkerDiedError(FanoutError):
    """A worker process ended abruptly (killed by the OS, out of memory, a crash)."""


def default_start_method() -> str:
    """The process start method used when none is given.

    ``forkserver`` where the platform has it (Linux; Python 3.14's default there): unlike
    ``fork`` it is safe when the caller runs threads (dask, tqdm, OpenMP), and with the
    package preloaded its workers start in milliseconds after the first pool.  ``spawn``
    elsewhere (macOS, Windows).
    """
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def available_cpus() -> int:
    """Number of CPUs this process may run on (its affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def block_slices(n_points: int, block_size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``block_size`` covering ``range(n_points)``."""
    for start in range(0, n_points, block_size):
        yield slice(start, min(start + block_size, n_points))


def _describe(point: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in point.items())


def _point(names: Sequence[str], arrays: Sequence[np.ndarray], i: int) -> dict[str, float]:
    return {name: float(array[i]) for name, array in zip(names, arrays, strict=True)}


def _locate_failure(func: BlockFunction, names: Sequence[str], arrays: Sequence[np.ndarray],
                    kwargs: Mapping[str, Any], offset: int, block_tb: str) -> FanoutError:
    """Re-run a failed block point by point and describe the first point that fails alone."""
    for i in range(len(arrays[0]) if arrays else 0):
        try:
            func(*(array[i:i + 1] for array in arrays), **kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, with its traceback
            point = _point(names, arrays, i)
            return FanoutError(
                f"evaluation failed at point {offset + i} ({_describe(point)}): "
                f"{type(exc).__name__}: {exc}",
                point, offset + i, traceback.format_exc())
    first = _point(names, arrays, 0) if arrays and len(arrays[0]) else {}
    return FanoutError(
        f"evaluation failed in the block of points {offset}..{offset + len(arrays[0]) - 1} "
        f"(first point {_describe(first)}); no single point fails on its own",
        {}, offset, block_tb)


def run_block(func: BlockFunction, names: Sequence[str], arrays: Sequence[np.ndarray],
              kwargs: Mapping[str, Any], offset: int
              ) -> tuple[tuple[np.ndarray, ...], list[tuple[type[Warning], str]]]:
    """Evaluate one block; return its outputs and the warnings it raised.

    Runs in a worker process or in-process alike.  Warnings are recorded and returned,
    because a worker's warnings are otherwise printed once per process or lost; an exception
    becomes a picklable :class:`FanoutError` naming the point that fails.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outputs = func(*arrays, **kwargs)
        except Exception:  # noqa: BLE001 - rethrown below as a FanoutError naming the point
            block_tb = traceback.format_exc()
        else:
            return outputs, [(w.category, str(w.message)) for w in caught]
    # Outside the except clause, so the point's traceback is not chained to the block's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raise _locate_failure(func, names, arrays, kwargs, offset, block_tb)


def _init_worker() -> None:
    # The parent handles Ctrl-C and terminates the workers; a worker that also raised
    # KeyboardInterrupt would print a traceback per process and might keep computing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Each worker is one of N processes on N cores: an inner BLAS/OpenMP pool would
    # oversubscribe them.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a declared dependency
        return
    threadpool_limits(limits=1)


def _context(start_method: str | None) -> multiprocessing.context.BaseContext:
    method = start_method or default_start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _terminate(executor: ProcessPoolExecutor) -> None:
    """Stop the workers now (Ctrl-C, a failure) rather than after their current block."""
    terminate = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


def _check_picklable(func: BlockFunction, kwargs: Mapping[str, Any]) -> None:
    for name, value in [("function", func), *kwargs.items()]:
        try:
            pickle.dumps(value)
        except Exception as exc:  # noqa: BLE001 - pickling raises many types
            raise TypeError(
                f"the {name} {value!r} cannot be sent to worker processes ({exc}); define it "
                "with `def` at the top level of an importable module (not a lambda, closure "
                "or a function defined inside another), or use workers=1"
            ) from exc


def _progress_bar(total: int, progress: bool | None):
    from tqdm.auto import tqdm

    # progress=None: only on a terminal or notebook, and only once the run has taken a
    # second, so quick calls and tests stay silent.
    return tqdm(total=total, unit="pt", unit_scale=True, desc="xr_spdc",
                disable=None if progress is None else not progress,
                delay=1.0 if progress is None else 0.0, file=sys.stderr)


def _reemit(caught: Mapping[tuple[type[Warning], str], int]) -> None:
    for (category, message), blocks in caught.items():
        suffix = f" (in {blocks} blocks)" if blocks > 1 else ""
        warnings.warn(f"{message}{suffix}", category, stacklevel=4)


def run_blocks(
    func: BlockFunction,
    arrays: Sequence[np.ndarray],
    *,
    names: Sequence[str],
    out_dtypes: Sequence[np.dtype | type],
    kwargs: Mapping[str, Any] | None = None,
    workers: int = 1,
    block_size: int = 4096,
    progress: bool | None = None,
    start_method: str | None = None,
) -> tuple[np.ndarray, ...]:
    """Evaluate ``func`` over 1-D input arrays block by block, in-process or on a pool.

    Parameters
    ----------
    func : callable
        ``func(*blocks, **kwargs) -> tuple of arrays``, defined at module level (it is
        pickled to the workers).
    arrays : sequence of ndarray
        1-D inputs of equal length.
    names : sequence of str
        One name per input, used in error messages.
    out_dtypes : sequence of dtype
        The dtype of each output ``func`` returns.
    kwargs : mapping, optional
        Keyword options passed to every call of ``func``.
    workers : int
        How many processes compute.  1: this one only; N > 1: this one and a pool of N - 1
        started for this call and always shut down before returning.  Inside a daemonic
        process (a pool worker, a dask.distributed worker), which cannot start processes,
        blocks run in this process only.
    block_size : int
        Points per task.  Fixed whatever ``workers`` is, so results are reproducible bit for
        bit; large enough to amortise the ~60 µs a task costs, small enough for a balanced
        load and bounded memory.
    progress : bool or None
        Show a tqdm progress bar; ``None`` shows one on a terminal or in a notebook once the
        run has lasted a second.
    start_method : {"fork", "forkserver", "spawn"} or None
        How pool workers start; ``None``: :func:`default_start_method`.

    Returns
    -------
    tuple of ndarray
        The outputs, each as long as the inputs.

    Raises
    ------
    FanoutError
        ``func`` raised: the message names the first point that fails alone and carries the
        worker's traceback; ``.partial`` holds the outputs of the completed blocks.
    WorkerDiedError
        A worker process died (e.g. killed by the OS for memory); ``.partial`` as above.
    TypeError
        ``func`` or an option cannot be pickled for the workers.
    """
    kwargs = dict(kwargs or {})
    n_points = len(arrays[0]) if arrays else 0
    outputs = tuple(np.full(n_points, np.nan if np.dtype(dt).kind in "fc" else 0, dtype=dt)
                    for dt in out_dtypes)
    slices = list(block_slices(n_points, block_size))
    if workers > 1:
        # Even if this call turns out to need one process, a function that cannot reach the
        # workers should fail now, not on the next, larger grid.
        _check_picklable(func, kwargs)
    if workers > 1 and getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker re-running the main script (forkserver, spawn) has reached this call:
        # say what to change, where Python's own message speaks of "bootstrapping".
        raise RuntimeError(
            f"workers={workers} was reached while a worker process was importing the main "
            "script: under the 'forkserver' and 'spawn' start methods every worker imports "
            "the script that started it, so a script must start xr_spdc's pools under "
            "`if __name__ == \"__main__\":` (see the multiprocessing docs, 'Safe importing "
            "of main module')")
    if workers > 1 and multiprocessing.current_process().daemon:
        warnings.warn(f"workers={workers} ignored: this is a daemonic process (a pool or dask "
                      "worker), which cannot start processes; evaluating in-process",
                      RuntimeWarning, stacklevel=3)
        workers = 1
    workers = min(workers, len(slices))
    slots = None
    if workers > 1:
        try:
            slots = _Slots(_SLOTS_PER_WORKER * (workers - 1), block_size,
                           [a.dtype for a in arrays], out_dtypes)
        except OSError as exc:
            warnings.warn(f"workers={workers} ignored: no shared memory for the pool ({exc}); "
                          "evaluating in-process", RuntimeWarning, stacklevel=3)
            workers = 1
    caught: dict[tuple[type[Warning], str], int] = {}

    def store(block: slice, result) -> None:
        values, block_warnings = result
        for output, value in zip(outputs, values, strict=True):
            output[block] = value
        for key in dict.fromkeys(block_warnings):
            caught[key] = caught.get(key, 0) + 1
        bar.update(block.stop - block.start)

    bar = _progress_bar(n_points, progress)
    try:
        if workers <= 1:
            for block in slices:
                store(block, run_block(func, names, [a[block] for a in arrays], kwargs,
                                       block.start))
        else:
            with slots:
                _run_pool(func, names, arrays, kwargs, slices, workers, start_method, slots,
                          store)
    except FanoutError as exc:
        exc.partial = outputs
        raise
    finally:
        bar.close()
        _reemit(caught)
    return outputs


# Blocks queued per pool worker: it should never wait for this process, which refills its
# slots only between blocks of its own; more would leave a worker a longer tail at the end.
_SLOTS_PER_WORKER = 3


class _SlotSpec(NamedTuple):
    """Where the slots live: enough for a worker to find its block's arrays (picklable)."""

    name: str
    block_size: int
    dtypes: tuple[str, ...]  # the inputs', then the outputs'
    n_inputs: int
    slot_bytes: int


def _slot_arrays(buffer: memoryview, spec: _SlotSpec, slot: int, length: int
                 ) -> list[np.ndarray]:
    """Views of one slot's input and output arrays (first ``length`` points of each)."""
    arrays, offset = [], slot * spec.slot_bytes
    for dtype in map(np.dtype, spec.dtypes):
        arrays.append(np.frombuffer(buffer, dtype=dtype, count=length, offset=offset))
        offset += _aligned(spec.block_size * dtype.itemsize)
    return arrays


def _aligned(n_bytes: int) -> int:
    """``n_bytes`` rounded up to whole 64-byte cache lines, so slots' arrays share none."""
    return -(-n_bytes // 64) * 64


class _Slots:
    """Shared-memory slots through which blocks reach the pool's workers and come back.

    Pickling each block's arrays through the pool's pipes holds this process's GIL and
    leaves the workers waiting on pipes that carry 64 KiB at a time (they sat idle ~15% of
    a 10^6-point run); here a worker reads a block from a slot and writes its outputs back,
    and the pipes carry only the slot's number.  A few slots, reused, bound the shared
    memory to a few blocks (a container's /dev/shm may hold only 64 MiB).
    """

    def __init__(self, n_slots: int, block_size: int, in_dtypes: Sequence[np.dtype],
                 out_dtypes: Sequence[np.dtype | type]) -> None:
        dtypes = tuple(np.dtype(dt).str for dt in (*in_dtypes, *out_dtypes))
        slot_bytes = sum(_aligned(block_size * np.dtype(dt).itemsize) for dt in dtypes)
        size = n_slots * slot_bytes
        # Linux backs shared memory with /dev/shm; writing past its free space kills this
        # process with SIGBUS instead of raising, so check first.
        if os.path.isdir("/dev/shm"):
            stat = os.statvfs("/dev/shm")
            if stat.f_bavail * stat.f_frsize < size:
                raise OSError(f"/dev/shm has less than the {size} bytes needed free")
        self.memory = shared_memory.SharedMemory(create=True, size=size)
        self.spec = _SlotSpec(self.memory.name, block_size, dtypes, len(in_dtypes),
                              slot_bytes)
        self.free = list(range(n_slots))

    def fill(self, slot: int, arrays: Sequence[np.ndarray], block: slice) -> None:
        views = _slot_arrays(self.memory.buf, self.spec, slot, block.stop - block.start)
        for view, array in zip(views, arrays, strict=False):
            view[:] = array[block]

    def outputs(self, slot: int, block: slice) -> list[np.ndarray]:
        views = _slot_arrays(self.memory.buf, self.spec, slot, block.stop - block.start)
        return views[self.spec.n_inputs:]

    def __enter__(self) -> _Slots:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.memory.close()
        except BufferError:
            # A view is still held by the traceback of an exception on its way out (Ctrl-C
            # mid-copy): the mapping is freed with it; the name goes now.
            pass
        self.memory.unlink()


# A worker attaches to a call's slots once and keeps them for the pool's short life.
_attached: dict[str, shared_memory.SharedMemory] = {}


def _run_slot(spec: _SlotSpec, slot: int, length: int, func: BlockFunction,
              names: Sequence[str], kwargs: Mapping[str, Any], offset: int
              ) -> list[tuple[type[Warning], str]]:
    """In a worker: evaluate the block in ``slot`` and write its outputs there."""
    if spec.name not in _attached:
        _attached[spec.name] = shared_memory.SharedMemory(name=spec.name)
    views = _slot_arrays(_attached[spec.name].buf, spec, slot, length)
    values, caught = run_block(func, names, views[:spec.n_inputs], kwargs, offset)
    for view, value in zip(views[spec.n_inputs:], values, strict=True):
        view[:] = value
    return caught


def _ready() -> None:
    """A pool's first task: it returns once a worker has started, initializer and all."""


def _worker_died(names, arrays, block: slice | None, when: str = "while starting"
                 ) -> WorkerDiedError:
    """The error for a worker that died evaluating ``block`` (or, if None, ``when``)."""
    point = {} if block is None else _point(names, arrays, block.start)
    if block is not None:
        when = (f"while evaluating the points {block.start}..{block.stop - 1} (first point "
                f"{_describe(point)})")
    return WorkerDiedError(
        f"a worker process died (killed by the operating system, e.g. for memory, or "
        f"crashed) {when}; the pool was shut down. Completed blocks are in the exception's "
        "`partial` attribute. (A worker that printed a traceback about importing the main "
        "script needs the script's work under `if __name__ == \"__main__\":`)",
        point, 0 if block is None else block.start, "")


def _run_pool(func, names, arrays, kwargs, slices, workers, start_method, slots, store
              ) -> None:
    """Run the blocks on ``workers - 1`` pool processes and in this one.

    This process computes too, taking blocks from the other end of the queue: it starts at
    once and goes on while the pool's processes start (~0.05 s; ~1 s for a session's first
    forkserver or under spawn), and a worker gets blocks only once it is up, so a pool
    never makes a call wait for it.  At the end this process takes back the blocks no
    worker has started, and stops workers that are still starting.  The pool is always
    shut down, its workers stopped at once on a failure or Ctrl-C.
    """
    executor = ProcessPoolExecutor(max_workers=workers - 1, mp_context=_context(start_method),
                                   initializer=_init_worker)
    todo = collections.deque(slices)
    pending: dict[Future, tuple[slice, int]] = {}
    n_slots = len(slots.free)

    # Starting a worker waits until it is forked (the first time in a session, until the
    # forkserver has imported the package), then until it has started: a thread waits for
    # both, while this process computes.
    submitted = threading.Event()

    def launch() -> None:
        try:
            hellos = [executor.submit(_ready) for _ in range(workers - 1)]
        finally:
            submitted.set()  # also if submit raised: this process waits for it below
        done, _ = wait(hellos, return_when=FIRST_COMPLETED)
        done.pop().result()  # BrokenProcessPool: a worker died while starting

    launcher = ThreadPoolExecutor(1, thread_name_prefix="xr_spdc-launch")
    launching: Future | None = launcher.submit(launch)
    launcher.shutdown(wait=False)

    def collect(futures) -> None:
        for future in futures:
            block, slot = pending.pop(future)
            try:
                caught = future.result()
            except BrokenProcessPool as exc:
                raise _worker_died(names, arrays, block) from exc
            store(block, (slots.outputs(slot, block), caught))
            slots.free.append(slot)

    try:
        while todo or pending:
            if launching is not None and launching.done():
                try:
                    launching.result()
                except BrokenProcessPool as exc:
                    raise _worker_died(names, arrays, None) from exc
                launching = None
            if launching is None:
                # Enough to keep the workers busy between this process's blocks; near the
                # end only one each, as what a worker holds cannot be taken back.
                depth = n_slots if len(todo) > n_slots else workers - 1
                while todo and slots.free and len(pending) < depth:
                    block, slot = todo.popleft(), slots.free.pop()
                    slots.fill(slot, arrays, block)
                    try:
                        future = executor.submit(_run_slot, slots.spec, slot,
                                                 block.stop - block.start, func, names,
                                                 kwargs, block.start)
                    except BrokenProcessPool as exc:
                        # A worker died since the last collect: name its block if known.
                        collect(list(pending))
                        raise _worker_died(names, arrays, None, "between blocks") from exc
                    pending[future] = (block, slot)
            if not todo:
                # A queued block no worker has started yet (cancel() succeeds) comes back.
                stolen = next((f for f in reversed(list(pending)) if f.cancel()), None)
                if stolen is not None:
                    block, slot = pending.pop(stolen)
                    slots.free.append(slot)
                    todo.append(block)
            if todo:
                block = todo.pop()
                store(block, run_block(func, names, [a[block] for a in arrays], kwargs,
                                       block.start))
                collect([future for future in pending if future.done()])
            elif pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
        if launching is not None:
            # Every block is done here: workers still starting are not needed.
            submitted.wait()
            _terminate(executor)
    except BaseException:
        # Ctrl-C or a failure: cancel what has not started and stop the workers at once,
        # once the launching thread has started them.
        for future in pending:
            future.cancel()
        submitted.wait()
        _terminate(executor)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def map_dask(func: BlockFunction, inputs: Sequence[Any], *, names: Sequence[str],
             out_dtype: np.dtype | type, kwargs: Mapping[str, Any] | None = None) -> Any:
    """Apply a block function lazily over dask-backed DataArrays.

    Each dask block is broadcast, flattened, evaluated by ``func`` (whose first output is
    kept) and reshaped; dask's scheduler (threads, processes or a dask.distributed cluster)
    decides where it runs.  No process pool is started inside the tasks.

    Parameters
    ----------
    func : callable
        A block function as for :func:`run_blocks`.
    inputs : sequence of xarray.DataArray
        The inputs, at least one dask-backed.
    names : sequence of str
        One name per input, used in error messages.
    out_dtype : dtype
        dtype of the first output.
    kwargs : mapping, optional
        Keyword options for ``func``.

    Returns
    -------
    xarray.DataArray
        Lazy, dask-backed, with the broadcast dims of the inputs.
    """
    import xarray as xr

    return xr.apply_ufunc(
        _dask_block, *inputs,
        kwargs={"func": func, "names": tuple(names), "options": dict(kwargs or {})},
        dask="parallelized", output_dtypes=[out_dtype])


def _dask_block(*arrays: np.ndarray, func: BlockFunction, names: Sequence[str],
                options: Mapping[str, Any]) -> np.ndarray:
    # dask hands each block over with its own (unbroadcast) shape.
    broadcast = np.broadcast_arrays(*arrays)
    shape = broadcast[0].shape
    flat = [np.ascontiguousarray(array).ravel() for array in broadcast]
    outputs, caught = run_block(func, names, flat, options, 0)
    for category, message in dict.fromkeys(caught):
        warnings.warn(message, category, stacklevel=2)
    return outputs[0].reshape(shape)
