"""The one place that runs block work: in this process, or on a pool of worker processes.

A *block function* takes 1-D numpy arrays of equal length (one per input, e.g. phi, xi, mu)
plus keyword options and returns a tuple of arrays of that length.  :func:`run_blocks` cuts
the inputs into blocks of a fixed size (so results are bitwise identical for any
``workers``), evaluates them, and reassembles the outputs.  Nothing here knows about
xarray; :mod:`xr_spdc.labelled.route` calls it from one ``xarray.apply_ufunc`` for numpy and dask
inputs alike.

The pool is loky's reusable executor (:func:`loky.get_reusable_executor`, the engine under
joblib), not a scheduler written here.  It stays up between calls (a notebook's second call
pays no start-up), is resized when ``workers`` changes, shuts its workers down after
:data:`IDLE_TIMEOUT` idle seconds and at interpreter exit, and sends functions with
cloudpickle, so lambdas and functions defined in a notebook, ``python -c`` or a heredoc
script run in workers; its start method ('loky': fork+exec) never imports the main
script, so no script needs a ``__main__`` guard.  A worker killed by the OS gives loky's
``TerminatedWorkerError`` at once (reported as :class:`WorkerDiedError`), and the next call
gets a fresh pool.  Each worker watches the process that started it and exits within a
second of its death (SIGKILL, SIGTERM), even in the middle of a block.

Where the time goes with a warm pool (per-block timelines of the workers, 2 cores, 10^6
points of the overlap kernel): between two blocks a worker waits ~0.3 ms, plus ~1 ms per
MB sent and returned (a pipe holds 64 kB, so each 64 kB waits for the other side; measured
with blocks that sleep instead of computing), and while both cores compute, the caller's
loky threads (pickling, pipes, futures: ~0.1 ms a task plus the bytes) take their share of
the workers' cores.  Fewer, larger tasks pay the fixed part less often: blocks of ~30 ms
(65536 points of the overlap kernel) bring workers=2 to ~90-94 % of the machine's
two-process limit, blocks of ~7 ms (16384) to ~85 % (benchmarks/bench_overlap.py, the
engine by block size).  A method's block size, not machinery here, is the lever.

Measured and left out, as none earns the 10 % at 10^6 points that would justify it:
shared-memory slots for the blocks (they could save only the bytes' part, ~7 % by the
figures above; measured: results of one value instead of a block's <= 4 % faster, inputs
made in the worker from a block number no faster), this process computing
beside N - 1 workers and taking back unstarted blocks (no faster: 0.275 s against 0.271 s
with two workers), more than two blocks in flight per worker (3 or 4: within 2 %), threads
instead of processes for the package's own kernel (1.0-1.4x: it holds the GIL too long).
User code now runs only in workers, so a crash or ``os._exit`` in it cannot take the
caller down.  Kept, as measured: the package's own kernel computes a one-block job in this
process (10^4 points: 7 ms here against 15 ms through a warm pool).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple

import numpy as np

BlockFunction = Callable[..., tuple[np.ndarray, ...]]

#: Seconds a pool's workers stay up without work before they exit (loky's ``timeout``):
#: long enough for a notebook's next cell, short enough not to hold memory all day.
IDLE_TIMEOUT = 300.0

#: Blocks handed to the pool per worker at a time: one computing and one queued, so a
#: worker never waits for this process (3 or 4 measured no faster at 10^6 points); more
#: would only hold memory and delay Ctrl-C.
_IN_FLIGHT_PER_WORKER = 2


class FanoutError(RuntimeError):
    """A block could not be evaluated.

    Attributes
    ----------
    point : dict
        The input values at the point that failed (for a block failure, its first point).
    index : int
        Flat index of that point in the (broadcast) inputs as a whole.
    worker_traceback : str
        The traceback text from the process that failed.
    position : dict
        Where the point lies along each dim: the dim's coordinate value where it has one,
        else its integer position.
    partial : tuple or None
        Set in the calling process of an eager run: the outputs with every completed block
        filled in and NaN (or 0 for integer outputs) elsewhere, so no finished work is lost.
    """

    def __init__(self, message: str, point: Mapping[str, float], index: int,
                 worker_traceback: str, position: Mapping[str, Any] | None = None) -> None:
        # args mirror __init__ so the exception pickles (dask.distributed) unchanged.
        super().__init__(message, dict(point), index, worker_traceback, dict(position or {}))
        self.message = message
        self.point = dict(point)
        self.index = index
        self.worker_traceback = worker_traceback
        self.position = dict(position or {})
        self.partial: tuple[Any, ...] | None = None

    def __str__(self) -> str:
        if not self.worker_traceback:
            return self.message
        return f"{self.message}\n\nTraceback in the worker:\n{self.worker_traceback.rstrip()}"


class WorkerDiedError(FanoutError):
    """A worker process ended abruptly (killed by the OS, out of memory, a crash, exit)."""


def format_point(point: Mapping[Any, Any]) -> str:
    """``{"phi": -3.0, "xi": 2.84}`` -> ``"phi=-3.0, xi=2.84"``: how every message shows a
    point (values exactly, by ``repr``)."""
    return ", ".join(f"{name}={value!r}" for name, value in point.items())


def available_cpus() -> int:
    """Number of CPUs this process may run on (its affinity mask, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def block_slices(n_points: int, block_size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``block_size`` covering ``range(n_points)``."""
    for start in range(0, n_points, block_size):
        yield slice(start, min(start + block_size, n_points))


# A pool costs nothing to reuse, but its first start in a session takes ~0.5 s (workers
# import numpy and the kernels): with workers=None, jobs estimated below this stay in this
# process unless a pool is up already.
POOL_PAYOFF_SECONDS = 0.5


def resolve_workers(workers: int | Executor | None, n_points: int,
                    seconds_per_point: float) -> int | Executor:
    """The ``workers`` policy, in one place.

    An Executor is used as given.  ``None``: every CPU this process may use once the job
    (``n_points * seconds_per_point``) pays for starting a pool, else 1.  An int above the
    CPUs available is capped, with a warning.  A daemonic process (a multiprocessing or
    dask.distributed worker) cannot start processes: 1 there (with a warning if asked for
    more).
    """
    if isinstance(workers, Executor):
        return workers
    cpus = available_cpus()
    daemonic = multiprocessing.current_process().daemon
    if workers is None:
        pays = n_points * seconds_per_point >= POOL_PAYOFF_SECONDS or _pool_is_up()
        return cpus if pays and not daemonic and n_points > 1 else 1
    if workers > 1 and daemonic:
        warnings.warn(f"workers={workers} ignored: this is a daemonic process (a pool or dask "
                      "worker), which cannot start processes; evaluating in-process",
                      RuntimeWarning, stacklevel=3)
        return 1
    if workers > cpus:
        warnings.warn(f"workers={workers} capped at {cpus}, the CPUs this process may use: "
                      "more processes than CPUs only compete for them", RuntimeWarning,
                      stacklevel=3)
        return cpus
    return workers


def _pool_is_up() -> bool:
    """Whether loky's reusable pool is running (read from loky's internals; False if they
    change)."""
    try:
        from loky.reusable_executor import _executor_storage

        executor = getattr(_executor_storage, "executor", None)
        return executor is not None and not (executor._flags.broken
                                             or executor._flags.shutdown)
    except (ImportError, AttributeError):
        return False


class _Failure(NamedTuple):
    """What a worker reports of a failed block (picklable, whatever the exception was)."""

    at: int  # the point's index within the block, or -1 when no point fails alone
    point: dict[str, float]
    reason: str  # "TypeName: message"
    traceback: str


def _point(names: Sequence[str], arrays: Sequence[np.ndarray], i: int) -> dict[str, float]:
    return {name: float(array[i if len(array) > 1 else 0])
            for name, array in zip(names, arrays, strict=True)}


def _block_of(arrays: Sequence[np.ndarray], block: slice) -> list[np.ndarray]:
    """Each input's part of ``block``; a constant (length 1) travels as it is."""
    return [a if len(a) == 1 else a[block] for a in arrays]


def _locate_failure(func: BlockFunction, names: Sequence[str], arrays: Sequence[np.ndarray],
                    kwargs: Mapping[str, Any], block_tb: str, block_reason: str) -> _Failure:
    """Re-run a failed block point by point and describe the first point that fails alone."""
    for i in range(len(arrays[0]) if arrays else 0):
        try:
            func(*(array[i:i + 1] for array in arrays), **kwargs)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, with its traceback
            return _Failure(i, _point(names, arrays, i), f"{type(exc).__name__}: {exc}",
                            traceback.format_exc())
    return _Failure(-1, _point(names, arrays, 0) if arrays and len(arrays[0]) else {},
                    block_reason, block_tb)


def run_block(func: BlockFunction, names: Sequence[str], arrays: Sequence[np.ndarray],
              kwargs: Mapping[str, Any]
              ) -> tuple[tuple[np.ndarray, ...] | _Failure, list[tuple[type[Warning], str]]]:
    """Evaluate one block: its outputs (or a :class:`_Failure`) and the warnings it raised.

    Runs in a worker process or in-process alike.  Warnings are recorded and returned,
    because a worker's warnings are otherwise printed once per process or lost.  A failure
    is returned, not raised: the exception itself may not pickle (a local class, QUADPACK's
    errors), its text and traceback always do.
    """
    # Constants arrive with length 1: ``func`` sees equally long arrays (zero-stride views).
    arrays = np.broadcast_arrays(*arrays)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outputs = func(*arrays, **kwargs)
        # SystemExit too: a sys.exit in user code must not end a worker (nor the caller).
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, naming the point
            block_reason, block_tb = f"{type(exc).__name__}: {exc}", traceback.format_exc()
        else:
            return outputs, [(w.category, str(w.message)) for w in caught]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _locate_failure(func, names, arrays, kwargs, block_tb, block_reason), []


#: ``locate(i) -> (index, position)``: the flat index of the run's point ``i`` in the
#: whole array, and its position by dim, for messages.
Locate = Callable[[int], tuple[int, dict[str, Any]]]


def _no_location(i: int) -> tuple[int, dict[str, Any]]:
    return i, {}


def _where(position: Mapping[str, Any]) -> str:
    return f"; at {format_point(position)}" if position else ""


def _failure_error(failure: _Failure, block: slice, locate: Locate) -> FanoutError:
    first = block.start + max(failure.at, 0)
    index, position = locate(first)
    if failure.at >= 0:
        message = (f"evaluation failed at point {index} ({format_point(failure.point)}"
                   f"{_where(position)}): {failure.reason}")
    else:
        message = (f"evaluation failed in the block of {block.stop - block.start} points "
                   f"from point {index} ({format_point(failure.point)}{_where(position)}), "
                   f"though no point fails on its own: {failure.reason}")
    return FanoutError(message, failure.point, index, failure.traceback, position)


def _worker_died(names: Sequence[str], arrays: Sequence[np.ndarray], blocks: list[slice],
                 locate: Locate, cause: BaseException) -> WorkerDiedError:
    """The error for a worker that died while ``blocks`` were being computed."""
    first = blocks[0] if blocks else slice(0, 1)
    point = _point(names, arrays, first.start) if arrays and len(arrays[0]) else {}
    index, position = locate(first.start)
    others = f" (or another of the {len(blocks)} blocks then computing)" if len(blocks) > 1 \
        else ""
    return WorkerDiedError(
        f"a worker process died (killed by the operating system, e.g. for memory, crashed, or "
        f"it called os._exit/sys.exit) while evaluating the block of points from point "
        f"{index} ({format_point(point)}{_where(position)}){others}: {cause}. The pool was "
        "replaced; completed blocks are in the exception's `partial` attribute.",
        point, index, "", position)


#: How often a worker checks that the process that started it is still there.
_PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    # A worker reads its next task from a pipe this process writes, so it notices a dead
    # caller only after its current block; a block can take minutes (a user's integrand),
    # and a killed caller (SIGKILL, SIGTERM) must not leave workers computing.  Once the
    # parent is gone the worker is re-parented, and getppid() changes.
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def _init_worker() -> None:
    # This process handles Ctrl-C and kills the workers; a worker that also raised
    # KeyboardInterrupt would print a traceback per process and might keep computing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True,
                     name="xr_spdc-parent-watch").start()
    # Each worker is one of N processes on N cores: an inner BLAS/OpenMP pool would
    # oversubscribe them.
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _pool(workers: int) -> Executor:
    """loky's reusable executor with ``workers`` processes (started, reused or resized)."""
    from loky import get_reusable_executor

    return get_reusable_executor(max_workers=workers, timeout=IDLE_TIMEOUT,
                                 initializer=_init_worker)


def _progress_bar(total: int, progress: bool | None) -> Any:
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
    workers: int | Executor = 1,
    block_size: int = 4096,
    progress: bool | None = None,
    timeout: float | None = None,
    locate: Locate | None = None,
    isolate: bool = True,
) -> tuple[np.ndarray, ...]:
    """Evaluate ``func`` over 1-D input arrays block by block, in-process or on a pool.

    Parameters
    ----------
    func : callable
        ``func(*blocks, **kwargs) -> tuple of arrays``; any callable cloudpickle can send
        (a lambda, a function defined in a notebook).
    arrays : sequence of ndarray
        1-D inputs of equal length, or of length 1 for a constant (sent as it is, and
        broadcast to the block's length for ``func``: a constant costs no memory or
        transfer per point).
    names : sequence of str
        One name per input, used in error messages.
    out_dtypes : sequence of dtype
        The dtype of each output ``func`` returns.
    kwargs : mapping, optional
        Keyword options passed to every call of ``func``.
    workers : int or concurrent.futures.Executor
        1: every block in this process.  N > 1: loky's reusable pool of N worker processes
        (``func`` runs only there).  An Executor (your own loky or ProcessPoolExecutor, a
        dask.distributed client's ``get_executor()``): used as given and never shut down.
        Use :func:`resolve_workers` for the package's policy (None, capping, daemons).
    block_size : int
        Points per task.  Fixed whatever ``workers`` is, so results are reproducible bit for
        bit; large enough to amortise what a task costs, small enough for a balanced load.
    progress : bool or None
        Show a tqdm progress bar; ``None`` shows one on a terminal or in a notebook once the
        run has lasted a second.
    timeout : float, optional
        Seconds a block may compute before the run stops with a :class:`FanoutError`
        naming it (the pool's workers are killed).  Needs worker processes: with
        ``workers=1`` the blocks then run in one worker.
    locate : callable, optional
        ``locate(i) -> (index, position)`` for messages: the flat index of point ``i`` in
        the whole array and its position by dim (dask blocks are parts of a larger array).
    isolate : bool
        True (for user code): with a pool, ``func`` runs only in its workers, so a crash or
        exit in it cannot end this process.  False (the package's own kernels): a run of a
        single block stays in this process, as a pool could only send it to one worker.

    Returns
    -------
    tuple of ndarray
        The outputs, each as long as the inputs.

    Raises
    ------
    FanoutError
        ``func`` raised: the message names the first point that fails alone and carries the
        worker's traceback; ``.partial`` holds the outputs of the completed blocks.  Also
        when a block exceeds ``timeout``.
    WorkerDiedError
        A worker process died (killed by the OS, a crash, ``os._exit``); ``.partial`` as
        above.  The next call gets a fresh pool.
    """
    kwargs = dict(kwargs or {})
    locate = locate or _no_location
    n_points = max((len(a) for a in arrays), default=0)
    outputs = tuple(np.full(n_points, np.nan if np.dtype(dt).kind in "fc" else 0, dtype=dt)
                    for dt in out_dtypes)
    slices = list(block_slices(n_points, block_size))
    # Only another process can be stopped mid-block: with a timeout, even one worker is one.
    pool_size = 0
    if not isinstance(workers, Executor) and (workers > 1 or timeout is not None):
        pool_size = workers
    if not isolate and len(slices) <= 1 and timeout is None:
        # One block computes in one process either way; sending it and its outputs through
        # the pool's pipes cost more than the computing (10^4 points of the exact kernel:
        # 15 ms via a warm pool against 7 ms here, benchmarks/bench_overlap.py).
        pool_size = 0
    caught: dict[tuple[type[Warning], str], int] = {}

    def store(block: slice, result: tuple[Any, list[tuple[type[Warning], str]]]) -> None:
        values, block_warnings = result
        if isinstance(values, _Failure):
            raise _failure_error(values, block, locate)
        for output, value in zip(outputs, values, strict=True):
            output[block] = value
        for key in dict.fromkeys(block_warnings):
            caught[key] = caught.get(key, 0) + 1
        bar.update(block.stop - block.start)

    bar = _progress_bar(n_points, progress)
    try:
        if isinstance(workers, Executor):
            _run_on(workers, False, func, names, arrays, kwargs, slices, timeout, store,
                    locate)
        elif pool_size and slices:  # an Executor given is always used
            _run_on(_pool(pool_size), True, func, names, arrays, kwargs, slices, timeout,
                    store, locate)
        else:
            for block in slices:
                store(block, run_block(func, names, _block_of(arrays, block), kwargs))
    except FanoutError as exc:
        exc.partial = outputs
        raise
    finally:
        bar.close()
        _reemit(caught)
    return outputs


def _run_on(executor: Executor, ours: bool, func: BlockFunction, names: Sequence[str],
            arrays: Sequence[np.ndarray], kwargs: Mapping[str, Any], slices: list[slice],
            timeout: float | None, store: Callable[..., None], locate: Locate) -> None:
    """Run the blocks on ``executor``, at most a few per worker at a time.

    Whatever ends the run early (a failure, a dead worker, a timeout, Ctrl-C) cancels the
    blocks not yet started; on our own pool it also kills the workers, so none goes on
    computing (loky gives the next call a fresh pool).  A user's executor is never shut
    down: its running tasks finish on their own.
    """
    n_workers = getattr(executor, "_max_workers", None) or available_cpus()
    window = _IN_FLIGHT_PER_WORKER * n_workers
    todo = iter(slices)
    pending: dict[Future, slice] = {}  # in submission order: loky starts them in this order
    started: dict[Future, float] = {}  # when a block was surely computing (for timeout)
    try:
        for block in todo:
            try:
                future = executor.submit(run_block, func, names, _block_of(arrays, block),
                                         kwargs)
            except BrokenProcessPool as exc:  # a worker died since the last collect
                raise _worker_died(names, arrays, [block], locate, exc) from exc
            pending[future] = block
            while len(pending) >= window:
                _collect(pending, started, n_workers, timeout, store, names, arrays, locate)
        while pending:
            _collect(pending, started, n_workers, timeout, store, names, arrays, locate)
    except BaseException:
        for future in pending:
            future.cancel()
        if ours:
            # loky's documented way to stop workers mid-task (joblib does the same on
            # errors); returns once they are gone.
            executor.shutdown(wait=True, kill_workers=True)  # type: ignore[call-arg]
        raise


def _collect(pending: dict[Future, slice], started: dict[Future, float], n_workers: int,
             timeout: float | None, store: Callable[..., None], names: Sequence[str],
             arrays: Sequence[np.ndarray], locate: Locate) -> None:
    """Wait for at least one block and store every finished one (in submission order)."""
    now = time.monotonic()
    # A block among the n_workers oldest unfinished ones has a worker (tasks start in
    # submission order), so its timeout runs from the moment it got there, at the latest.
    for future in list(pending)[:n_workers]:
        started.setdefault(future, now)
    wait_for = None
    if timeout is not None:
        wait_for = max(0.0, min(started[f] for f in started if f in pending) + timeout - now)
    done, _ = wait(pending, timeout=wait_for, return_when=FIRST_COMPLETED)
    if not done and timeout is not None:
        late = min((f for f in started if f in pending), key=started.__getitem__)
        block = pending[late]
        index, position = locate(block.start)
        point = _point(names, arrays, block.start)
        raise FanoutError(
            f"the block of {block.stop - block.start} points from point {index} "
            f"({format_point(point)}{_where(position)}) did not finish within "
            f"timeout={timeout} s; its worker was stopped", point, index, "", position)
    for future in [f for f in pending if f in done]:
        block = pending.pop(future)
        started.pop(future, None)
        try:
            result = future.result()
        except BrokenProcessPool as exc:
            computing = [pending[f] for f in list(pending)[:n_workers - 1]]
            raise _worker_died(names, arrays, [block, *computing], locate, exc) from exc
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            # A worker's own failures arrive as FanoutError: these are the transport's.  Only
            # a user's own executor pickles with the standard library (loky's and dask's use
            # cloudpickle, which sends lambdas and notebook functions).
            if "pickle" not in str(exc):
                raise
            raise TypeError(
                f"the executor passed as workers= could not send the work to its processes "
                f"({exc}): the standard library pickles functions by name, so a lambda or a "
                "function defined in a notebook or script cannot reach them; pass workers=N "
                "(loky, cloudpickle) or a dask client's executor, or define the function at "
                "the top level of an importable module") from exc
        store(block, result)
