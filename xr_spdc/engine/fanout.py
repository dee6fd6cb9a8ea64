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
MB sent and returned (with pipes of 64 kB, each 64 kB waited for the other side; measured
with blocks that sleep instead of computing), and while both cores compute, the caller's
loky threads (pickling, pipes, futures: ~0.1 ms a task plus the bytes) take their share of
the workers' cores.  Fewer, larger tasks pay the fixed part less often: blocks of ~30 ms
(65536 points of the overlap kernel) bring workers=2 to ~90-94 % of the machine's
two-process limit, blocks of ~7 ms (16384) to ~85 % (benchmarks/bench_overlap.py, the
engine by block size).  A method's block size, not machinery here, is the lever.  The
workers' allocator was the largest fixed cost left (CPU per call of 10^6 points, all
threads of each process, medians): glibc gave a block's freed temporaries back to the OS
and faulted them in again at the next block (~21,000 page faults, ~12 % of the kernel's
CPU); the workers now keep them (:data:`~xr_spdc.engine.allocator.WORKER_MALLOC`):
their CPU beyond the kernel's went from ~32-44 ms to ~20 ms, and the kernel's own from
~345 to ~312 ms.  With loky's pipes widened too (:data:`_PIPE_BYTES`), the CPU a workers=2
call takes beyond workers=1's (this process and the workers, all threads) went from 88 to
53 ms, and its wall time from 216 to 194 ms (medians of 15 rounds, the two versions called
alternately, load ~2).  More tasks then sit in a pipe where a failure cannot withdraw them;
those after the failing point in grid order are dropped when they come back
(:meth:`_Run.store`), so a failure's report does not depend on how many there were.

Measured and left out, as none earns the 15 ms at 10^6 points that would justify it:
shared-memory slots for the blocks.  Measured as upper bounds on a warm pool (the
workers' allocator fixed; medians of 9): blocks reading their inputs by range from a
shared copy saved ~7 ms a call (184 -> 177 ms); blocks returning one value instead of
their 1 MB, as if they wrote into a shared output, ~4 ms of this process's CPU and no wall
time (177.5 ms with both, 176.7 ms with the inputs alone).  Also left out: this process
computing beside N - 1 workers and taking back unstarted blocks (no faster: 0.275 s
against 0.271 s with two workers), more than two blocks in flight per worker (3 or 4:
within 2 %), threads instead of processes for the package's own kernel (1.0-1.4x: it
holds the GIL too long).
Kept, as measured: the package's own kernel computes a one-block job in this process
(10^4 points: 7 ms here against 15 ms through a warm pool).

Where user code runs: on a pool (``workers=N``, or ``workers=None`` once the job pays for
one), only in its workers, so a crash or ``os._exit`` in it cannot take the caller down.
But ``workers=1``, and ``workers=None`` for a small job with no pool up (joblib's and
scipy's default too), run it in this process: there a segfault ends the caller (a notebook's
kernel).  ``workers=1, timeout=...`` runs it in one worker process, isolated.

One pool per process: every thread's calls share one loky executor of at most the CPUs
available (loky's own reusable executor is per thread), each call keeping at most its
``workers`` blocks computing at once.  A call that must stop the pool (a timeout, Ctrl-C,
a worker that died in its block) marks it as its own doing; another thread's call that
lost blocks with it resubmits them on a fresh pool and ends as if nothing had happened.
After ``os.fork()`` the child forgets the parent's pool (``os.register_at_fork``) and
starts its own on first use.  Inside a pool or dask worker, calls run in process (nested
pools would oversubscribe the CPUs).

What a call sends: its function and options are pickled once (cloudpickle) and reach each
worker once per call, not with every block: small ones inline with each task, larger ones
as a file the worker reads once.  numpy arrays of 1 MB or more inside them (a lookup table
an integrand closes over) travel as shared memory (``/dev/shm``), memory-mapped read-only
by the workers, as joblib does, so N workers share one copy (a write into such an array in
a worker raises, as with joblib).  That copy is the array's snapshot
(:mod:`xr_spdc.engine.snapshots`): kept across calls while the array is unchanged (its
bytes are compared with the copy at each call, ~15 ms for 200 MB, never trusted blindly),
so a notebook's next call writes nothing; the function's pickle is then the same too, and
a worker keeps the function it unpickled, and its mappings, from one call to the next.
An array changed in place is written again.  A call's own files go when it ends; the
snapshots when their arrays do, at exit, or, if the caller is killed, with its workers or
at the next call's start.  A worker keeps the last call's function, and its mappings,
until its next call or its idle exit.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import multiprocessing
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from concurrent.futures import ProcessPoolExecutor as StdlibProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple

import numpy as np

from . import allocator, snapshots
from .flattened import Flattened

BlockFunction = Callable[..., tuple[np.ndarray, ...]]

#: Seconds a pool's workers stay up without work before they exit (loky's ``timeout``):
#: long enough for a notebook's next cell, short enough not to hold memory all day.
IDLE_TIMEOUT = 300.0

#: Seconds without any finished block (and no ``timeout=``) after which a call warns, once,
#: naming the blocks computing and their workers' pids: a stopped or hung worker is
#: otherwise silent forever.
STALL_SECONDS = 600.0

#: Blocks handed to the pool per worker at a time: one computing and one queued, so a
#: worker never waits for this process (3 or 4 measured no faster at 10^6 points); more
#: would only hold memory and delay Ctrl-C.
_IN_FLIGHT_PER_WORKER = 2

#: A call's pickled function and options travel inline with each task up to this size;
#: above it, as a file each worker reads once per call.
_INLINE_BYTES = 64 * 1024


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
    where : str
        Where it ran: ``"in this process"`` or ``"in worker process <pid>"`` (empty when
        unknown, e.g. on a user's executor).
    partial : tuple or None
        Set in the calling process of an eager run: the outputs with every completed block
        filled in and NaN (or 0 for integer outputs) elsewhere, so no finished work is lost;
        after a failing point, a block later in grid order counts as completed only if it
        came back before that failure did.
    """

    def __init__(self, message: str, point: Mapping[str, float], index: int,
                 worker_traceback: str, position: Mapping[str, Any] | None = None,
                 where: str = "") -> None:
        # args mirror __init__ so the exception pickles (dask.distributed) unchanged.
        super().__init__(message, dict(point), index, worker_traceback, dict(position or {}),
                         where)
        self.message = message
        self.point = dict(point)
        self.index = index
        self.worker_traceback = worker_traceback
        self.position = dict(position or {})
        self.where = where
        self.partial: tuple[Any, ...] | None = None

    def __str__(self) -> str:
        if not self.worker_traceback:
            return self.message
        where = f" ({self.where})" if self.where else ""
        return f"{self.message}\n\nTraceback{where}:\n{self.worker_traceback.rstrip()}"


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

# ------------------------------------------------------------------ warnings, once each

_WARNED: set[tuple[Any, ...]] = set()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning issued by our caller at the first frame
    outside this package and the libraries it calls through (xarray, dask): the user's
    line, however deep the call came from."""
    inside = tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep
                   for name in ("xarray", "dask")
                   if (module := sys.modules.get(name)) is not None and module.__file__)
    inside += (_PACKAGE + os.sep,)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


def _warn_once(cause: tuple[Any, ...], message: str, category: type[Warning]) -> None:
    """Warn about ``cause`` once per process, pointing at the user's line."""
    if cause in _WARNED:
        return
    _WARNED.add(cause)
    warnings.warn(message, category, stacklevel=_user_stacklevel())


def nested_reason() -> str | None:
    """Why this process must not start a pool of its own, or None.

    Inside a worker (of this package's pool, any loky or joblib pool, a multiprocessing
    pool, a dask worker) the CPUs are already taken by the pool around it: a pool in each
    worker would multiply the processes, as joblib avoids by running nested calls in
    process.
    """
    process = multiprocessing.current_process()
    if _IN_POOL_WORKER:
        return "this is a worker of xr_spdc's pool"
    if type(process).__name__ == "LokyProcess":
        return "this is a loky (joblib) worker process"
    if process.daemon:
        return "this is a daemonic process (a multiprocessing pool worker)"
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        try:
            distributed.get_worker()
        except ValueError:
            pass
        else:
            return "this is a dask worker"
    return None


def resolve_workers(workers: int | Executor | None, n_points: int,
                    seconds_per_point: float) -> int | Executor:
    """The ``workers`` policy, in one place.

    An Executor is used as given.  ``None``: every CPU this process may use once the job
    (``n_points * seconds_per_point``) pays for starting a pool (or one is up), else 1.
    A negative int counts back from the CPUs, as joblib does: -1 all, -2 all but one.  An
    int above the CPUs available is capped, with a warning (once per process).  Inside a
    pool or dask worker (see :func:`nested_reason`) every call runs in process: silently for
    ``None``, with one warning for an explicit count.
    """
    if isinstance(workers, Executor):
        return workers
    cpus = available_cpus()
    nested = nested_reason()
    if workers is None:
        pays = n_points * seconds_per_point >= POOL_PAYOFF_SECONDS or _pool_is_up()
        return cpus if pays and nested is None and n_points > 1 else 1
    if workers < 0:
        workers = max(cpus + 1 + workers, 1)
    if workers > 1 and nested is not None:
        _warn_once(("nested", workers, nested),
                   f"workers={workers} runs in this process: {nested}, whose pool already "
                   "uses the CPUs (a pool in each worker would oversubscribe them)",
                   RuntimeWarning)
        return 1
    if workers > cpus:
        _warn_once(("capped", workers, cpus),
                   f"workers={workers} capped at {cpus}, the CPUs this process may use: "
                   "more processes than CPUs only compete for them", RuntimeWarning)
        return cpus
    return workers


# ------------------------------------------------------------------ blocks and failures


class _Failure(NamedTuple):
    """What a worker reports of a failed block (picklable, whatever the exception was)."""

    at: int  # the first failing point's index within the block, or -1 for none alone
    point: dict[str, float]
    reason: str  # "TypeName: message"
    traceback: str
    n_failed: int  # points of the block that fail alone
    pid: int  # the process that ran it
    note: str = ""  # set when the block computed but its result could not be sent back


#: An input of a call: a 1-D array (or length-1 constant), or a coordinate flattened over
#: the grid whose points each block forms where it runs.
Input = np.ndarray | Flattened


def _point(names: Sequence[str], arrays: Sequence[Input], i: int) -> dict[str, float]:
    return {name: float(array[i if len(array) > 1 else 0])
            for name, array in zip(names, arrays, strict=True)}


def _block_of(arrays: Sequence[Input], block: slice) -> list[Input]:
    """Each input's part of ``block``; a constant (length 1) travels as it is, a
    :class:`~xr_spdc.engine.flattened.Flattened` one as a view (its points are formed by
    :func:`run_block`, in the worker)."""
    return [a if len(a) == 1 else a[block] for a in arrays]


def _locate_failure(func: BlockFunction, names: Sequence[str], arrays: Sequence[np.ndarray],
                    kwargs: Mapping[str, Any], block_tb: str, block_reason: str) -> _Failure:
    """Re-run a failed block point by point: its first failing point, and how many fail."""
    first: _Failure | None = None
    n_failed = 0
    for i in range(len(arrays[0]) if arrays else 0):
        try:
            func(*(array[i:i + 1] for array in arrays), **kwargs)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, with its traceback
            n_failed += 1
            if first is None:
                first = _Failure(i, _point(names, arrays, i), f"{type(exc).__name__}: {exc}",
                                 traceback.format_exc(), 0, os.getpid())
    if first is not None:
        return first._replace(n_failed=n_failed)
    return _Failure(-1, _point(names, arrays, 0) if arrays and len(arrays[0]) else {},
                    block_reason, block_tb, 0, os.getpid())


#: What a block gives back: its outputs (or its failure), and the warnings it raised.
_BlockResult = tuple[tuple[np.ndarray, ...] | _Failure, list[tuple[type[Warning], str]]]


def run_block(func: BlockFunction, names: Sequence[str], arrays: Sequence[Input],
              kwargs: Mapping[str, Any]) -> _BlockResult:
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


def _describe(point: Mapping[str, float], position: Mapping[str, Any]) -> str:
    """A point once: its coordinates, then any input they do not already show."""
    shown = dict(position)
    shown.update({k: v for k, v in point.items() if k not in position
                  or position[k] != v})
    return format_point(shown)


def _ran_in(pid: int) -> str:
    return "in this process" if pid == os.getpid() else f"in worker process {pid}"


def _failure_error(failure: _Failure, block: slice, locate: Locate, others: int,
                   evaluated: int, n_points: int) -> FanoutError:
    """The error for the first failing point in grid order (``others``: how many more
    points failed among the ``evaluated`` ones)."""
    first = block.start + max(failure.at, 0)
    index, position = locate(first)
    where = _ran_in(failure.pid)
    if failure.note:
        message = (f"the block of {block.stop - block.start} points from point {index} "
                   f"({_describe(failure.point, position)}) computed {where}, but "
                   f"{failure.note}")
    elif failure.at >= 0:
        message = (f"evaluation failed at point {index} ({_describe(failure.point, position)})"
                   f" {where}: {failure.reason}")
    else:
        message = (f"evaluation failed in the block of {block.stop - block.start} points "
                   f"from point {index} ({_describe(failure.point, position)}) {where}, "
                   f"though no point fails on its own: {failure.reason}")
    if not failure.note:
        unevaluated = n_points - evaluated
        message += (f". It is the first failing point in grid order; {others} other point"
                    f"{'' if others == 1 else 's'} failed among the {evaluated} evaluated"
                    + (f" ({unevaluated} not evaluated)" if unevaluated else ""))
    return FanoutError(message, failure.point, index, failure.traceback, position, where)


# ------------------------------------------------------------------ workers


#: Set in our pool's workers (nested calls there run in process).
_IN_POOL_WORKER = False

#: How often a worker checks that the process that started it is still there.
_PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent: int) -> None:
    # A worker reads its next task from a pipe this process writes, so it notices a dead
    # caller only after its current block; a block can take minutes (a user's integrand),
    # and a killed caller (SIGKILL, SIGTERM) must not leave workers computing.  Once the
    # parent is gone the worker is re-parented, and getppid() changes.
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    # The dead caller cannot remove its files: its call's folder and its snapshots.
    folders = {_CALL_FOLDER, *(os.path.dirname(path) for path in _MAPPED)}
    for folder in folders:
        if folder and os.path.basename(folder).startswith(f"xr_spdc-{parent}-"):
            shutil.rmtree(folder, ignore_errors=True)
    os._exit(1)


def _init_worker() -> None:
    global _IN_POOL_WORKER
    _IN_POOL_WORKER = True
    # This process handles Ctrl-C and kills the workers; a worker that also raised
    # KeyboardInterrupt would print a traceback per process and might keep computing.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True,
                     name="xr_spdc-parent-watch").start()
    # Each worker is one of N processes on N cores: an inner BLAS/OpenMP pool would
    # oversubscribe them.
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


#: In a worker: the function and options it last loaded, with their token (a digest of
#: their pickle: the same again for an unchanged function and unchanged arrays).
_CALL_CACHE: tuple[str, BlockFunction, dict[str, Any]] | None = None
#: In a worker: the folder of the call it last served (removed if the caller dies).
_CALL_FOLDER: str | None = None
#: In a worker: the shared arrays its function maps, by file; while it loads a function,
#: those that function maps (:func:`_load_shared_array` fills it).
_MAPPED: dict[str, np.ndarray] = {}
_LOADING: dict[str, np.ndarray] | None = None


def _load_shared_array(path: str) -> np.ndarray:
    """Unpickling a call's function: a shared array, mapped once per worker while its file
    lasts (a snapshot's file is never rewritten: a changed array gets another file)."""
    array = _MAPPED.get(path)
    if array is None:
        array = snapshots.load(path)
    if _LOADING is not None:
        _LOADING[path] = array
    return array


def _load_call(token: str, payload: bytes | str) -> tuple[BlockFunction, dict[str, Any]]:
    """The call's function and options: kept from the worker's last call if its pickle is
    the same, else unpickled (keeping the mappings of the arrays it shares with the last)."""
    global _CALL_CACHE, _MAPPED, _LOADING
    if _CALL_CACHE is None or _CALL_CACHE[0] != token:
        # The previous call's state goes first, and with it the tables whose files are
        # gone (replaced, or freed by the caller): their memory, before the new ones map.
        _CALL_CACHE = None
        _MAPPED = {path: array for path, array in _MAPPED.items() if os.path.exists(path)}
        if isinstance(payload, str):
            with open(payload, "rb") as f:
                payload = f.read()
        _LOADING = {}
        try:
            func, kwargs = pickle.loads(payload)
        finally:
            _MAPPED, _LOADING = _LOADING, None  # only what this call maps stays mapped
        _CALL_CACHE = (token, func, kwargs)
    return _CALL_CACHE[1], _CALL_CACHE[2]


def _pool_block(token: str, payload: bytes | str, folder: str, start: int,
                names: Sequence[str], arrays: Sequence[Input]) -> Any:
    """A task on our pool: load the call's function once per worker, mark the block as
    running (for timeouts, stall warnings and telling whose block killed a worker), run it."""
    global _CALL_FOLDER
    func, kwargs = _load_call(token, payload)
    _CALL_FOLDER = folder
    marker = os.path.join(folder, f"{os.getpid()}.running")
    try:
        with open(marker, "w") as f:
            f.write(f"{start} {time.time()!r}")
    except OSError:  # the call has ended (its folder is gone): nothing reads the mark
        pass
    try:
        result = run_block(func, names, arrays, kwargs)
        values = result[0]
        if not isinstance(values, _Failure) and not all(
                type(v) is np.ndarray and not v.dtype.hasobject for v in values):
            problem = _find_unsendable(values, "the result", pickle.dumps)
            if problem is not None:
                result = (_Failure(-1, _point(names, np.broadcast_arrays(*arrays), 0), "", "",
                                   0, os.getpid(), "its result could not be sent back: "
                                   + problem), [])
        return result
    finally:
        try:
            os.unlink(marker)
        except OSError:
            pass


def _running(folder: str) -> dict[int, tuple[int, float]]:
    """The blocks a call's workers are computing: pid -> (block start, wall-clock start)."""
    found = {}
    try:
        entries = os.listdir(folder)
    except OSError:
        return {}
    for entry in entries:
        if entry.endswith(".running"):
            try:
                with open(os.path.join(folder, entry)) as f:
                    start, since = f.read().split()
                found[int(entry.split(".")[0])] = (int(start), float(since))
            except (OSError, ValueError):
                continue  # just removed, or being written
    return found


def _process_state(pid: int) -> str:
    """'stopped' (SIGSTOP, a debugger), 'running', or '' where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
    return "stopped (SIGSTOP or a debugger)" if state in "tT" else "running"


# ------------------------------------------------------------------ what a call sends


def _kind(obj: Any) -> str:
    """``a _thread.lock``, ``a generator``, ``an open file 'data.txt'``."""
    if isinstance(obj, io.IOBase):
        name = getattr(obj, "name", None)
        return f"an open file {name!r}" if name is not None else "an open file"
    cls = type(obj)
    name = cls.__qualname__ if cls.__module__ == "builtins" else \
        f"{cls.__module__}.{cls.__qualname__}"
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _parts(obj: Any, where: str) -> Iterator[tuple[str, Any]]:
    """The objects ``obj`` carries, each with where it was found, for naming the one that
    cannot be pickled."""
    if isinstance(obj, functools.partial):
        yield from _partial_parts(obj, where)
    elif inspect.ismethod(obj):
        yield f"the object of the method {where}", obj.__self__
    elif inspect.isfunction(obj):
        yield from _function_parts(obj, where)
    else:
        yield from _content_parts(obj, where)


def _partial_parts(obj: functools.partial[Any], where: str) -> Iterator[tuple[str, Any]]:
    """A partial's function, then the arguments it binds."""
    yield from _parts(obj.func, where)
    for k, arg in enumerate(obj.args):
        yield f"argument {k} of the partial {where}", arg
    for name, arg in obj.keywords.items():
        yield f"argument {name!r} of the partial {where}", arg


def _function_parts(obj: Any, where: str) -> Iterator[tuple[str, Any]]:
    """What a function pickles with it: its closure, the globals it uses, its defaults."""
    found = inspect.getclosurevars(obj)
    for name, value in found.nonlocals.items():
        yield f"variable {name!r} in the closure of {where}", value
    for name, value in found.globals.items():
        yield f"global {name!r} used by {where}", value
    for k, value in enumerate(obj.__defaults__ or ()):
        yield f"default {k} of {where}", value


def _content_parts(obj: Any, where: str) -> Iterator[tuple[str, Any]]:
    """A container's items, or an instance's attributes (nothing for a class or module)."""
    if isinstance(obj, Mapping):
        for name, value in obj.items():
            yield f"{where}[{name!r}]", value
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for k, value in enumerate(obj):
            yield f"item {k} of {where}", value
    elif hasattr(obj, "__dict__") and not isinstance(obj, type) and not inspect.ismodule(obj):
        for name, value in vars(obj).items():
            yield f"attribute {name!r} of {where}", value


def _find_unsendable(obj: Any, where: str, dumps: Callable[[Any], bytes],
                     depth: int = 0) -> str | None:
    """None if ``dumps(obj)`` works; else the innermost object that fails, named with where
    it was found, its kind and the pickler's reason."""
    try:
        dumps(obj)
        return None
    except Exception as exc:  # noqa: BLE001 - any pickling failure is described
        error = exc
    if depth < 4:
        for inner_where, inner in _parts(obj, where):
            found = _find_unsendable(inner, inner_where, dumps, depth + 1)
            if found is not None:
                return found
    return f"{where} ({_kind(obj)}) cannot be pickled ({type(error).__name__}: {error})"


def _labels(func: BlockFunction, kwargs: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """What a call sends, each with the name a message gives it."""
    for name, value in kwargs.items():
        yield ("the integrand" if name == "integrand" else f"the option {name!r}"), value
    yield f"the block function {getattr(func, '__qualname__', func)!r}", func


_UNSENDABLE_ADVICE = (
    "Locks, generators, open files and connections cannot be copied into another "
    "process: create them inside the function, pass their data instead, or run in this "
    "process with workers=1")


def _unsendable_error(func: BlockFunction, kwargs: Mapping[str, Any],
                      dumps: Callable[[Any], bytes], exc: BaseException, advice: str,
                      whose: str = "could not send the work to the worker processes"
                      ) -> TypeError:
    problem = next((found for label, value in _labels(func, kwargs)
                    if (found := _find_unsendable(value, label, dumps)) is not None),
                   f"({type(exc).__name__}: {exc})")
    return TypeError(f"{whose}: {problem}. {advice}")


class _Payload:
    """A call's function and options, pickled once for all its blocks and workers."""

    def __init__(self, func: BlockFunction, kwargs: Mapping[str, Any]) -> None:
        import cloudpickle

        scratch = snapshots.scratch_dir()
        snapshots.remove_orphans(scratch)
        self.folder = tempfile.mkdtemp(prefix=f"xr_spdc-{os.getpid()}-", dir=scratch)
        folder, arrays = self.folder, [0]

        class Pickler(cloudpickle.CloudPickler):  # type: ignore[misc]  # cloudpickle is untyped
            def reducer_override(self, obj: Any) -> Any:
                # Large arrays go to shared memory, the workers map that one copy: the
                # array's snapshot, kept across calls while unchanged, else this call's.
                if snapshots.shareable(obj):
                    snap = snapshots.snapshot(obj)
                    if snap is not None:
                        return _load_shared_array, (snap.path,)
                    path = os.path.join(folder, f"array{arrays[0]}.npy")
                    arrays[0] += 1
                    np.save(path, obj, allow_pickle=False)
                    return _load_shared_array, (path,)
                return super().reducer_override(obj)

        buffer = io.BytesIO()
        try:
            Pickler(buffer).dump((func, dict(kwargs)))
        except Exception as exc:  # noqa: BLE001 - named below, then raised
            self.close()
            raise _unsendable_error(func, kwargs, cloudpickle.dumps, exc,
                                    _UNSENDABLE_ADVICE) from exc
        data = buffer.getvalue()
        # The same function with the same (unchanged) arrays pickles the same: a worker
        # that loaded it for an earlier call keeps it.
        self.token = hashlib.blake2b(data, digest_size=16).hexdigest()
        self.ref: bytes | str = data
        if len(data) > _INLINE_BYTES:
            self.ref = os.path.join(folder, "call.pkl")
            with open(self.ref, "wb") as f:
                f.write(data)

    def close(self) -> None:
        # Blocks of this call may still be computing (those after a failing point cannot be
        # withdrawn once sent), each writing and removing its mark here: a mark written
        # between rmtree's listing and its rmdir kept the folder for as long as this process
        # lived (6 failing calls in 100).  Renamed first, the folder takes no new file (a
        # worker's open of its old path fails), so what rmtree lists is all there is.
        closed = f"{self.folder}-closed"  # still ours by name (remove_orphans)
        try:
            os.rename(self.folder, closed)
        except OSError:  # gone already, or a platform that cannot rename it while in use
            closed = self.folder
        shutil.rmtree(closed, ignore_errors=True)


# ------------------------------------------------------------------ the one pool


#: Bytes each of loky's two pipes (tasks to the workers, results back) may hold, where Linux
#: lets a pipe grow (``F_SETPIPE_SZ``; 1 MB is its limit for unprivileged processes by
#: default): a 65536-point block's 1 MB then crosses in one or two writes, not in sixteen of
#: 64 kB each waiting for the other side to read.  Measured on a warm pool, 10^6 points,
#: alternated in one process: ~4-6 ms less a call (median 188 -> 182-185 ms), ~2 ms less
#: CPU on each side.
_PIPE_BYTES = 1 << 20


def _widen_pipes(executor: Executor) -> None:
    """Let the pipes of a loky ``executor`` hold :data:`_PIPE_BYTES` where the OS allows
    (Linux); elsewhere, or if loky's layout changes, they keep their size."""
    try:
        import fcntl

        setpipe = fcntl.F_SETPIPE_SZ  # Linux only
        ends = [executor._call_queue._writer,  # type: ignore[attr-defined]
                executor._result_queue._reader]  # type: ignore[attr-defined]
        for end in ends:
            fcntl.fcntl(end.fileno(), setpipe, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        # No fcntl (Windows), no F_SETPIPE_SZ (macOS), another loky, or a lower limit
        # (/proc/sys/fs/pipe-max-size, the user's pipe-user-pages-soft used up).
        pass


class _Generation:
    """One executor of the process-wide pool and the calls using it."""

    def __init__(self, size: int) -> None:
        from loky import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(max_workers=size, timeout=IDLE_TIMEOUT,
                                            initializer=_init_worker, env=allocator.worker_env())
        _widen_pipes(self.executor)
        self.size = size
        self.users: set[int] = set()
        self.shared = False  # whether two calls ever used it at once
        self.killed_by: int | None = None  # the call that stopped it on purpose
        self.retired = False  # replaced by a larger pool: takes no new blocks

    def down(self) -> bool:
        flags = getattr(self.executor, "_flags", None)
        return self.retired or self.killed_by is not None or bool(
            flags is not None and (flags.broken or flags.shutdown))


_POOL_LOCK = threading.Lock()
_POOL: _Generation | None = None


def _forget_pool_after_fork() -> None:
    # The child has the parent's executor object but none of its threads or workers:
    # submitting to it would wait forever.  It starts its own pool on first use.
    global _POOL_LOCK, _POOL
    _POOL_LOCK = threading.Lock()
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _pool_is_up() -> bool:
    """Whether this process's pool is running."""
    pool = _POOL
    return pool is not None and not pool.down()


def _join_pool(size: int, call: int) -> _Generation:
    """The process's pool with at least ``size`` workers (started, reused or grown)."""
    global _POOL
    with _POOL_LOCK:
        pool = _POOL
        if pool is None or pool.down() or pool.size < size:
            if pool is not None and not pool.down():
                # Grown: the old executor finishes the blocks it holds, then its workers exit.
                pool.retired = True
                pool.executor.shutdown(wait=False)
            pool = _POOL = _Generation(max(size, pool.size if pool is not None else 0))
        pool.users.add(call)
        pool.shared |= len(pool.users) > 1
        return pool


def _leave_pool(pool: _Generation, call: int) -> None:
    with _POOL_LOCK:
        pool.users.discard(call)


def _kill_pool(pool: _Generation, call: int) -> None:
    """Stop every worker of ``pool`` now (loky's documented way to stop tasks mid-block),
    recording that ``call`` did it, so other calls resubmit what they lose."""
    global _POOL
    with _POOL_LOCK:
        if pool.killed_by is None:
            pool.killed_by = call
        if _POOL is pool:
            _POOL = None
    pool.executor.shutdown(wait=True, kill_workers=True)


# ------------------------------------------------------------------ progress and warnings


def _in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (as tqdm.autonotebook tells)."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # noqa: BLE001 - an unusual shell is not a notebook
        return False


def _progress_bar(total: int, progress: bool | None) -> Any:
    """tqdm's bar: a widget in a notebook with ipywidgets; without them, tqdm's text bar,
    which a notebook redraws in place at each update (its stderr is not a terminal, so it
    is enabled explicitly); on a terminal the text bar, silent elsewhere."""
    # progress=None: only on a terminal or notebook, and only once the run has taken a
    # second, so quick calls and tests stay silent.
    options = {"total": total, "unit": "pt", "unit_scale": True, "desc": "xr_spdc",
               "delay": 1.0 if progress is None else 0.0}
    if _in_notebook():
        from tqdm.notebook import IProgress

        if IProgress is not None:
            from tqdm.notebook import tqdm as widget

            return widget(disable=progress is False, **options)
        from tqdm.std import tqdm as text

        return text(disable=progress is False, file=sys.stderr, mininterval=0.5, ncols=80,
                    **options)
    from tqdm.std import tqdm

    return tqdm(disable=None if progress is None else not progress, file=sys.stderr,
                **options)


def _reemit(caught: Mapping[tuple[type[Warning], str], int]) -> None:
    for (category, message), blocks in caught.items():
        suffix = f" (in {blocks} blocks)" if blocks > 1 else ""
        warnings.warn(f"{message}{suffix}", category, stacklevel=_user_stacklevel())


# ------------------------------------------------------------------ running a call


def run_blocks(
    func: BlockFunction,
    arrays: Sequence[Input],
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
    arrays : sequence of ndarray or Flattened
        1-D inputs of equal length, or of length 1 for a constant (sent as it is, and
        broadcast to the block's length for ``func``: a constant costs no memory or
        transfer per point).  A :class:`~xr_spdc.engine.flattened.Flattened` input (a
        coordinate broadcast over a grid) travels as its few values and each block forms
        its own points where it runs.
    names : sequence of str
        One name per input, used in error messages.
    out_dtypes : sequence of dtype
        The dtype of each output ``func`` returns.
    kwargs : mapping, optional
        Keyword options passed to every call of ``func``.  On the pool, ``func`` and
        ``kwargs`` reach each worker once per call (not with every block), and numpy arrays
        of 1 MB or more inside them are shared read-only through memory-mapped files, kept
        across calls while their bytes are unchanged.
    workers : int or concurrent.futures.Executor
        1: every block in this process.  N > 1: the process's one pool (loky), with at most
        N of this call's blocks computing at once (``func`` runs only in its workers).
        Inside a pool or dask worker, every int runs in this process.  An Executor (your own
        loky or ProcessPoolExecutor, a dask.distributed client's ``get_executor()``): used
        as given and never shut down.  Use :func:`resolve_workers` for the package's policy
        (None, negative counts, capping, nesting).
    block_size : int
        Points per task.  Fixed whatever ``workers`` is, so results are reproducible bit for
        bit; large enough to amortise what a task costs, small enough for a balanced load.
    progress : bool or None
        Show a tqdm progress bar; ``None`` shows one on a terminal or in a notebook once the
        run has lasted a second.
    timeout : float, optional
        Seconds a block may compute before the run stops with a :class:`FanoutError`
        naming it (the pool's workers are killed).  It is for an integrand that may hang or
        run away; it needs worker processes: with ``workers=1`` the blocks then run in one
        worker, isolated from this process.  Without it, a call in which no block has
        finished for :data:`STALL_SECONDS` warns once, naming the blocks computing and
        their workers' pids.
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
        ``func`` raised: the message names the first failing point in grid order, where it
        ran, and how many other points failed among those evaluated, with the traceback;
        ``.partial`` holds the outputs of the completed blocks.  Also when a block exceeds
        ``timeout``.
    WorkerDiedError
        A worker process died (killed by the OS, a crash, ``os._exit``) in this call's
        block; ``.partial`` as above.  The next call gets a fresh pool.
    TypeError
        ``func`` or ``kwargs`` cannot be sent to worker processes: the message names the
        object (a lock, a generator, an open file) and where it was found.
    """
    kwargs = dict(kwargs or {})
    n_points = max((len(a) for a in arrays), default=0)
    # Not np.full: filling 16 MB (10^6 complex points) took ~4 ms before the first block
    # could be sent, while the workers waited; the blocks write every point, and what no
    # block wrote is filled at the end (_Run.fill_unstored).
    outputs = tuple(np.empty(n_points, dtype=dt) for dt in out_dtypes)
    slices = list(block_slices(n_points, block_size))
    pool_size = _pool_size(workers, timeout, isolate, len(slices))
    run = _Run(names, arrays, outputs, locate or _no_location, n_points,
               _progress_bar(n_points, progress))
    try:
        if isinstance(workers, Executor):
            _run_on(workers, func, names, arrays, kwargs, slices, timeout, run)
        elif pool_size and slices:  # an Executor given is always used
            _run_pooled(pool_size, func, names, arrays, kwargs, slices, timeout, run)
        else:
            _run_in_process(func, names, arrays, kwargs, slices, run)
        run.fill_unstored()
        run.raise_first()
    except FanoutError as exc:
        run.fill_unstored()
        exc.partial = outputs
        raise
    finally:
        run.bar.close()
        _reemit(run.caught)
    return outputs


def _pool_size(workers: int | Executor, timeout: float | None, isolate: bool,
               n_blocks: int) -> int:
    """The workers of the process's pool a call uses; 0 to run in this process (or on the
    Executor given)."""
    if isinstance(workers, Executor):
        return 0
    if workers < 0:
        workers = max(available_cpus() + 1 + workers, 1)
    # Only another process can be stopped mid-block: with a timeout, even one worker is one.
    pool_size = workers if workers > 1 or timeout is not None else 0
    nested = nested_reason()
    if pool_size and nested is not None:
        if timeout is not None:
            _warn_once(("nested timeout", nested),
                       f"timeout={timeout} is not applied: {nested}, where "
                       "blocks run in process and cannot be stopped mid-block",
                       RuntimeWarning)
        return 0
    if not isolate and n_blocks <= 1 and timeout is None:
        # One block computes in one process either way; sending it and its outputs through
        # the pool's pipes cost more than the computing (10^4 points of the exact kernel:
        # 15 ms via a warm pool against 7 ms here, benchmarks/bench_overlap.py).
        return 0
    return pool_size


def _run_in_process(func: BlockFunction, names: Sequence[str], arrays: Sequence[Input],
                    kwargs: Mapping[str, Any], slices: list[slice], run: _Run) -> None:
    """Run the blocks one after another in this process, up to the first failing one."""
    for block in slices:
        if run.first is not None:
            break
        run.store(block, run_block(func, names, _block_of(arrays, block), kwargs))


class _Run:
    """A call's bookkeeping: its outputs, warnings and progress as blocks come back, and its
    failures (the first in grid order wins)."""

    def __init__(self, names: Sequence[str], arrays: Sequence[Input],
                 outputs: tuple[np.ndarray, ...], locate: Locate, n_points: int,
                 bar: Any) -> None:
        self.names, self.arrays, self.locate, self.n_points = names, arrays, locate, n_points
        self.outputs, self.bar = outputs, bar
        self.stored: list[slice] = []  # the blocks whose values are in the outputs
        self.first: tuple[slice, _Failure] | None = None
        self.n_failed = 0
        self.evaluated = 0
        #: Each warning the blocks raised, and in how many blocks.
        self.caught: dict[tuple[type[Warning], str], int] = {}

    def store(self, block: slice, result: _BlockResult) -> None:
        """Take a block's result: its outputs, or its failure.

        A block later in grid order than a failure already taken is dropped, as
        :func:`_drop_unwanted` drops one still computing: a block already sent to a worker
        cannot be withdrawn, and one that finished in the same instant as the failure (a
        worker runs a queued block in microseconds) came back in the same wait; keeping it
        made the report (how many points were evaluated) and ``partial`` depend on how soon
        this process woke up.
        """
        if not self.wanted(block):
            return
        values, block_warnings = result
        if isinstance(values, _Failure):
            self.failed(block, values)
            return
        for output, value in zip(self.outputs, values, strict=True):
            output[block] = value
        self.stored.append(block)
        self.evaluated += block.stop - block.start
        for key in dict.fromkeys(block_warnings):
            self.caught[key] = self.caught.get(key, 0) + 1
        self.bar.update(block.stop - block.start)

    def fill_unstored(self) -> None:
        """Fill the points no block wrote (failed, lost or never run) with NaN, or 0 for
        integer and boolean outputs: the outputs start uninitialised."""
        done = 0
        for block in sorted(self.stored, key=lambda b: b.start) + [slice(self.n_points, 0)]:
            if block.start > done:
                for output in self.outputs:
                    output[done:block.start] = np.nan if output.dtype.kind in "fc" else 0
            done = max(done, block.stop)
        self.stored = [slice(0, self.n_points)]

    def failed(self, block: slice, failure: _Failure) -> None:
        self.n_failed += max(failure.n_failed, 1)
        self.evaluated += block.stop - block.start
        if self.first is None or block.start < self.first[0].start:
            self.first = (block, failure)

    def wanted(self, block: slice) -> bool:
        """Whether ``block`` could still hold an earlier failure than the one found."""
        return self.first is None or block.start < self.first[0].start

    def raise_first(self) -> None:
        if self.first is not None:
            block, failure = self.first
            raise _failure_error(failure, block, self.locate, self.n_failed - 1,
                                 self.evaluated, self.n_points)

    def point(self, start: int) -> tuple[dict[str, float], int, dict[str, Any]]:
        index, position = self.locate(start)
        return _point(self.names, self.arrays, start), index, position


def _transport_error(executor: Executor, func: BlockFunction, kwargs: Mapping[str, Any],
                     exc: BaseException) -> BaseException | None:
    """A clear TypeError if ``exc`` is a user executor failing to pickle the work (the
    standard library says so with PicklingError, or, on Python 3.13, AttributeError "Can't
    get local object"); None if it is something else."""
    text = str(exc)
    if not isinstance(exc, (pickle.PicklingError, AttributeError, TypeError)) or not any(
            s in text for s in ("pickle", "Can't get local object", "Can't get attribute")):
        return None
    stdlib = isinstance(executor, StdlibProcessPoolExecutor)
    advice = _UNSENDABLE_ADVICE
    if stdlib:
        advice = ("The standard library's ProcessPoolExecutor pickles functions by name, so a "
                  "lambda or a function defined in a notebook or script cannot reach its "
                  "processes: pass workers=N (loky, cloudpickle) or a dask client's executor, "
                  "or define the function at the top level of an importable module")
    return _unsendable_error(func, kwargs, pickle.dumps if stdlib else _cloudpickle_dumps,
                             exc, advice, "the executor passed as workers= could not send the "
                             "work to its processes")


def _cloudpickle_dumps(obj: Any) -> bytes:
    import cloudpickle

    return cloudpickle.dumps(obj)


def _drop_unwanted(todo: deque[slice], pending: dict[Future[Any], slice], run: _Run) -> None:
    """After a failure, forget the blocks later in grid order: those not sent, and those
    sent (cancelled, if not yet started)."""
    wanted = [block for block in todo if run.wanted(block)]
    todo.clear()
    todo.extend(wanted)
    for future in [f for f in pending if not run.wanted(pending[f])]:
        future.cancel()
        del pending[future]


def _in_grid_order(done: set[Future[Any]], pending: Mapping[Future[Any], slice]
                   ) -> list[Future[Any]]:
    """The finished ones among a call's ``pending`` blocks, in grid order: a failure is
    then taken before the later blocks that finished with it, which :meth:`_Run.store`
    drops."""
    return sorted(done & pending.keys(), key=lambda future: pending[future].start)


def _run_on(executor: Executor, func: BlockFunction, names: Sequence[str],
            arrays: Sequence[Input], kwargs: Mapping[str, Any], slices: list[slice],
            timeout: float | None, run: _Run) -> None:
    """Run the blocks on a user's ``executor``, at most a few per worker at a time.

    Whatever ends the run early cancels the blocks not yet started; the executor is never
    shut down: its running tasks finish on their own.
    """
    job = _ExecutorRun(executor, func, names, arrays, kwargs, slices, timeout, run)
    try:
        job.run_all()
    except BaseException:
        for future in job.pending:
            future.cancel()
        raise


class _ExecutorRun:
    """One call's blocks on a user's executor (see :func:`_run_on`)."""

    def __init__(self, executor: Executor, func: BlockFunction, names: Sequence[str],
                 arrays: Sequence[Input], kwargs: Mapping[str, Any], slices: list[slice],
                 timeout: float | None, run: _Run) -> None:
        self.executor, self.func, self.kwargs = executor, func, kwargs
        self.names, self.arrays, self.timeout, self.run = names, arrays, timeout, run
        self.n_workers = getattr(executor, "_max_workers", None) or available_cpus()
        self.todo = deque(slices)
        # In submission order, the order tasks start in.
        self.pending: dict[Future[Any], slice] = {}
        self.started: dict[Future[Any], float] = {}  # when a block was surely computing
        self.last = time.monotonic()  # when a block last finished (or a stall was warned)
        self.stalled = False

    def run_all(self) -> None:
        while self.todo or self.pending:
            self._submit()
            _drop_unwanted(self.todo, self.pending, self.run)
            if not self.pending:
                continue
            done, _ = wait(self.pending, timeout=self._wait_seconds(),
                           return_when=FIRST_COMPLETED)
            if done:
                self._collect(done)
            else:
                self._on_quiet()

    def _submit(self) -> None:
        """Send blocks in grid order until each worker has a few."""
        window = _IN_FLIGHT_PER_WORKER * self.n_workers
        while self.todo and len(self.pending) < window and self.run.wanted(self.todo[0]):
            block = self.todo.popleft()
            future = self.executor.submit(run_block, self.func, self.names,
                                          _block_of(self.arrays, block), self.kwargs)
            self.pending[future] = block

    def _wait_seconds(self) -> float:
        """How long to wait for a block: until the oldest computing one's timeout, or
        until the stall warning."""
        now = time.monotonic()
        # A block among the n_workers oldest unfinished ones has a worker (tasks start in
        # submission order), so its timeout runs from then, at the latest.
        for future in list(self.pending)[:self.n_workers]:
            self.started.setdefault(future, now)
        wait_for = self.last + STALL_SECONDS - now
        if self.timeout is not None:
            wait_for = min(self.started[f] for f in self.started if f in self.pending) \
                + self.timeout - now
        return max(wait_for, 0.0)

    def _on_quiet(self) -> None:
        """No block finished in time: stop at a timeout, else warn of a stall (once)."""
        late = min((f for f in self.started if f in self.pending),
                   key=self.started.__getitem__)
        block = self.pending[late]
        point, index, position = self.run.point(block.start)
        if self.timeout is not None:
            raise FanoutError(
                f"the block of {block.stop - block.start} points from "
                f"point {index} ({_describe(point, position)}) did not finish within "
                f"timeout={self.timeout} s on the executor passed as workers= (its task was "
                "cancelled if not yet started; a running one is left to finish)",
                point, index, "", position)
        self.last = time.monotonic()
        if not self.stalled:
            self.stalled = True
            warnings.warn(
                f"no block has finished for {STALL_SECONDS:g} s on the executor passed "
                f"as workers=; the oldest computing is from point {index} "
                f"({_describe(point, position)}). Pass timeout= (seconds per block) to "
                "stop blocks that hang", RuntimeWarning, stacklevel=_user_stacklevel())

    def _collect(self, done: set[Future[Any]]) -> None:
        for future in _in_grid_order(done, self.pending):
            block = self.pending.pop(future)
            self.started.pop(future, None)
            self.last = time.monotonic()
            self.run.store(block, self._result(future, block))

    def _result(self, future: Future[Any], block: slice) -> _BlockResult:
        """A finished block's result; a clear error if its process died or the executor
        could not send the work."""
        try:
            result: _BlockResult = future.result()
        except BrokenProcessPool as exc:
            point, index, position = self.run.point(block.start)
            raise WorkerDiedError(
                f"a process of the executor passed as workers= died while evaluating "
                f"the block of points from point {index} ({_describe(point, position)})"
                f": {exc}", point, index, "", position) from exc
        except Exception as exc:
            clear = _transport_error(self.executor, self.func, self.kwargs, exc)
            if clear is None:
                raise
            raise clear from exc
        return result


class _PoolLost(Exception):
    """The pool this call used went down under it (another call's doing, or growth)."""


def _run_pooled(size: int, func: BlockFunction, names: Sequence[str],
                arrays: Sequence[Input], kwargs: Mapping[str, Any], slices: list[slice],
                timeout: float | None, run: _Run) -> None:
    """Run the blocks on the process's pool, at most ``size`` of them computing at once.

    Whatever this call ends early for (a timeout, Ctrl-C, a worker dying in its block)
    kills the pool's workers, so none goes on computing, and marks the pool as this call's
    doing; a point failing only cancels the blocks not yet started (those already computing
    before it in grid order are awaited, to report the first failure in grid order; those
    after it are dropped, even if they come back with it).  Blocks lost to another call's
    doing are resubmitted on a fresh pool.
    """
    payload = _Payload(func, kwargs)  # raises TypeError naming anything unsendable
    job = _PooledRun(size, payload, names, arrays, slices, timeout, run)
    try:
        job.run_all()
    except BaseException:
        for future in job.pending:
            future.cancel()
        if job.pending:
            # Stop this call's blocks mid-computation (Ctrl-C, a timeout); other calls on
            # the pool resubmit what they lose.
            _kill_pool(job.pool, job.call)
        raise
    finally:
        _leave_pool(job.pool, job.call)
        payload.close()


class _PooledRun:
    """One call's blocks on the process's pool (see :func:`_run_pooled`); joins the pool."""

    def __init__(self, size: int, payload: _Payload, names: Sequence[str],
                 arrays: Sequence[Input], slices: list[slice], timeout: float | None,
                 run: _Run) -> None:
        self.size, self.payload, self.names, self.arrays = size, payload, names, arrays
        self.timeout, self.run = timeout, run
        self.call = id(payload)
        self.pool = _join_pool(size, self.call)
        self.todo = deque(slices)
        self.pending: dict[Future[Any], slice] = {}
        self.last = time.monotonic()  # when a block last finished
        self.stalled = False

    def run_all(self) -> None:
        while self.todo or self.pending:
            try:
                self._step()
            except _PoolLost as lost:
                self._recover(lost)

    def _step(self) -> None:
        """Send what the window allows, then wait for blocks to finish (or time out)."""
        self._submit()
        _drop_unwanted(self.todo, self.pending, self.run)
        if not self.pending:
            return
        done, _ = wait(self.pending, timeout=self._wait_seconds(), return_when=FIRST_COMPLETED)
        if done:
            self._collect(done)
        elif self.timeout is not None:
            _check_timeout(self.timeout, self.payload, list(self.pending.values()), self.run)
        elif not self.stalled and time.monotonic() - self.last >= STALL_SECONDS:
            self.stalled = True
            _warn_stall(self.payload, self.run)

    def _submit(self) -> None:
        """Send blocks in grid order: a few per worker, or ``size`` at once on a larger
        pool (another call's), so this call computes at most ``size`` blocks."""
        window = self.size if self.size < self.pool.size else _IN_FLIGHT_PER_WORKER * self.size
        payload = self.payload
        while self.todo and len(self.pending) < window and self.run.wanted(self.todo[0]):
            block = self.todo.popleft()
            try:
                future = self.pool.executor.submit(
                    _pool_block, payload.token, payload.ref, payload.folder,
                    block.start, self.names, _block_of(self.arrays, block))
            except (BrokenProcessPool, RuntimeError) as exc:
                self.todo.appendleft(block)
                raise _PoolLost() from exc
            self.pending[future] = block

    def _wait_seconds(self) -> float:
        """Until the stall warning; with a timeout, until the oldest computing block's
        (read from the workers' marks), checked at least every 0.25 s."""
        wait_for = self.last + STALL_SECONDS - time.monotonic()
        if self.timeout is not None:
            running = _running(self.payload.folder)
            wait_for = min([since + self.timeout - time.time()
                            for _, since in running.values()] + [0.25])
        return max(wait_for, 0.0)

    def _collect(self, done: set[Future[Any]]) -> None:
        for future in _in_grid_order(done, self.pending):
            try:
                result = future.result()
            except (BrokenProcessPool, CancelledError, RuntimeError) as exc:
                if isinstance(exc, RuntimeError) and not self.pool.down():
                    raise
                raise _PoolLost() from exc
            self.run.store(self.pending.pop(future), result)
            self.last = time.monotonic()

    def _recover(self, lost: _PoolLost) -> None:
        """The pool went down: carry on with a fresh one, resubmitting the blocks lost,
        unless this call's own block killed a worker."""
        pool = self.pool
        broken = pool.killed_by is not None or bool(
            getattr(getattr(pool.executor, "_flags", None), "broken", False))
        if pool.retired and not broken:
            # Only grown: blocks already sent finish there; the rest go to the new pool.
            self._rejoin()
            return
        # Which blocks were lost, and whose doing it was.
        computing = _running(self.payload.folder)
        lost_blocks = self._keep_finished()
        if pool.killed_by is None and not pool.shared:
            raise _died(self.run, lost_blocks, computing, lost.__cause__) from lost.__cause__
        if pool.killed_by is None:
            self._run_suspects_alone(lost_blocks, computing)
        self.todo.extendleft(reversed(lost_blocks))
        self._rejoin()

    def _keep_finished(self) -> list[slice]:
        """Store the blocks that finished before the pool went down; the others, in grid
        order, are lost (and no longer pending)."""
        finished = [f for f in self.pending
                    if f.done() and not f.cancelled() and f.exception() is None]
        for future in finished:
            self.run.store(self.pending.pop(future), future.result())
        lost_blocks = sorted(self.pending.values(), key=lambda b: b.start)
        self.pending.clear()
        return lost_blocks

    def _run_suspects_alone(self, lost_blocks: list[slice],
                            computing: Mapping[int, tuple[int, float]]) -> None:
        """A shared pool broke: a worker died, in this call's block or another's.  Each
        block of this call that was computing then is run again alone, in a worker of its
        own (and taken from ``lost_blocks``): if that one dies too, the block is the cause."""
        by_start = {b.start: b for b in lost_blocks}
        for start in sorted({start for start, _ in computing.values()}):
            if start in by_start:
                _run_alone(self.payload, by_start[start], self.names, self.arrays, self.run)
                lost_blocks.remove(by_start[start])

    def _rejoin(self) -> None:
        _leave_pool(self.pool, self.call)
        self.pool = _join_pool(self.size, self.call)


def _died(run: _Run, blocks: list[slice], computing: Mapping[int, tuple[int, float]],
          cause: BaseException | None) -> WorkerDiedError:
    """The error for a worker that died in one of ``blocks`` (the one it computed, if the
    workers' marks say which)."""
    starts = {b.start for b in blocks}
    by_pid = {pid: start for pid, (start, _) in computing.items() if start in starts}
    first = min(by_pid.values(), default=min(starts, default=0))
    point, index, position = run.point(first)
    pids = [pid for pid, start in by_pid.items() if start == first]
    where = f"in worker process {pids[0]}" if pids else ""
    others = f" (or another of the {len(by_pid)} blocks then computing)" if len(by_pid) > 1 \
        else ""
    return WorkerDiedError(
        f"a worker process died (killed by the operating system, e.g. for memory, crashed, or "
        f"it called os._exit) while evaluating the block of points from point {index} "
        f"({_describe(point, position)}){' ' + where if where else ''}{others}: {cause}. The "
        "pool was replaced; completed blocks are in the exception's `partial` attribute.",
        point, index, "", position, where)


def _run_alone(payload: _Payload, block: slice, names: Sequence[str],
               arrays: Sequence[Input], run: _Run) -> None:
    """Run a suspect block in a one-worker pool of its own: if that worker dies, the block
    killed it."""
    from loky import ProcessPoolExecutor

    alone = ProcessPoolExecutor(max_workers=1, initializer=_init_worker, env=allocator.worker_env())
    try:
        future = alone.submit(_pool_block, payload.token, payload.ref, payload.folder,
                              block.start, names, _block_of(arrays, block))
        try:
            result = future.result()
        except BrokenProcessPool as exc:
            raise _died(run, [block], _running(payload.folder), exc) from exc
        if result is not None:
            run.store(block, result)
    finally:
        alone.shutdown(wait=True, kill_workers=True)


def _check_timeout(timeout: float, payload: _Payload, blocks: list[slice], run: _Run
                   ) -> None:
    now = time.time()
    sizes = {b.start: b.stop - b.start for b in blocks}
    late = [(since, start, pid) for pid, (start, since) in _running(payload.folder).items()
            if now - since >= timeout and start in sizes]
    if late:
        _, start, pid = min(late)
        point, index, position = run.point(start)
        raise FanoutError(
            f"the block of {sizes[start]} points from point {index} "
            f"({_describe(point, position)}) did not finish "
            f"within timeout={timeout} s in worker process {pid}; the pool's workers were "
            "stopped", point, index, "", position, f"in worker process {pid}")


def _warn_stall(payload: _Payload, run: _Run) -> None:
    computing = _running(payload.folder)
    described = []
    for pid, (start, since) in sorted(computing.items(), key=lambda item: item[1]):
        point, index, position = run.point(start)
        state = _process_state(pid)
        described.append(f"the block from point {index} ({_describe(point, position)}) in "
                         f"worker process {pid}{' (' + state + ')' if state else ''}, for "
                         f"{time.time() - since:.0f} s")
    warnings.warn(
        f"no block has finished for {STALL_SECONDS:g} s: computing "
        + ("; ".join(described) or "nothing (the workers may be starting or stopped)")
        + ". Pass timeout= (seconds per block) to stop blocks that hang; Ctrl-C stops the "
        "call", RuntimeWarning, stacklevel=_user_stacklevel())
