"""glibc's allocator, tuned where xr_spdc's kernels run, and the C library itself.

Two places compute the package's kernels in processes of their own, and both lose time to
glibc handing a block's freed temporaries back to the OS and faulting them in again:

- the engine's pool (loky): its workers start with :data:`WORKER_MALLOC` in their
  environment (:func:`worker_env`);
- a dask.distributed worker, started by dask with ``MALLOC_TRIM_THRESHOLD_=65536``:
  :func:`roomy_malloc` raises the thresholds while chunks compute and trims once idle.

:func:`c_library` is the C library through ctypes, loaded once (also for
:mod:`~xr_spdc.engine.snapshots`' ``memcmp``); :func:`glibc` is it only where it is glibc.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["TRIM_AFTER_IDLE", "WORKER_MALLOC", "c_library", "glibc", "roomy_malloc",
           "worker_env"]


@functools.cache
def c_library() -> Any:
    """The C library (ctypes.CDLL), or None where it cannot be loaded (e.g. Windows)."""
    name = ctypes.util.find_library("c") or (
        "libc.so.6" if sys.platform.startswith("linux") else None)
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def glibc() -> Any:
    """The C library if it is glibc (its ``mallopt`` parameters are glibc's), else None."""
    libc = c_library()
    return libc if libc is not None and hasattr(libc, "gnu_get_libc_version") else None


#: glibc's allocator in the workers (its documented environment variables, read at the
#: worker's start): arrays of up to 4 MB from its heap, and up to 32 MB of freed memory kept
#: there for the next block.  By default glibc gives a block's freed temporaries (a few MB)
#: back to the OS after each block and takes them again, zeroed, page by page: the overlap
#: kernel then spends ~12 % of its time in page faults (21,000 a 10^6 points, measured with
#: getrusage; none with these settings, and the same peak memory).  glibc's own adaptive
#: thresholds reach 32 MB (mmap) and 64 MB (trim), so these stay within what it does by
#: itself.  Other C libraries ignore them; a user's own settings win.
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(4 << 20),
                  "MALLOC_TRIM_THRESHOLD_": str(32 << 20)}


def worker_env() -> dict[str, str]:
    """Environment variables the pool's workers start with (see :data:`WORKER_MALLOC`)."""
    if "malloc" in os.environ.get("GLIBC_TUNABLES", "") or any(
            name.startswith("MALLOC_") for name in os.environ):
        return {}
    return dict(WORKER_MALLOC)


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: While chunks compute: freed memory below this stays with the process, and arrays below
#: it come from the heap rather than from a fresh mmap.
_ROOMY = 64 << 20
#: Seconds without a chunk computing in the process before its heap is trimmed and
#: malloc's thresholds are set back: between the chunks of a sweep the heap stays, so a
#: chunk's temporaries reuse pages the previous one faulted in.
TRIM_AFTER_IDLE = 1.0


class _Roomy:
    """The process's malloc thresholds, raised while chunks compute, restored and trimmed
    after :data:`TRIM_AFTER_IDLE` seconds without one (by a daemon thread, started once)."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.users = 0
        self.raised = False
        self.idle_since: float | None = None
        self.thread: threading.Thread | None = None

    def enter(self, libc: Any) -> None:
        with self.lock:
            self.users += 1
            self.idle_since = None
            if not self.raised:
                libc.mallopt(_M_MMAP_THRESHOLD, _ROOMY)
                libc.mallopt(_M_TRIM_THRESHOLD, _ROOMY)
                self.raised = True

    def exit(self, libc: Any) -> None:
        with self.lock:
            self.users -= 1
            if self.users:
                return
            self.idle_since = time.monotonic()
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._trimmer, args=(libc,),
                                               daemon=True, name="xr_spdc malloc trim")
                self.thread.start()
            self.lock.notify()

    def _trimmer(self, libc: Any) -> None:
        with self.lock:
            while True:
                if self.idle_since is None:  # computing, or trimmed: wait to be told
                    self.lock.wait()
                    continue
                left = self.idle_since + TRIM_AFTER_IDLE - time.monotonic()
                if left > 0:
                    self.lock.wait(left)
                    continue
                self.idle_since = None
                self.raised = False
                trim = os.environ.get("MALLOC_TRIM_THRESHOLD_", "")
                mmap = os.environ.get("MALLOC_MMAP_THRESHOLD_", "")
                libc.mallopt(_M_MMAP_THRESHOLD, _int(mmap, 128 << 10))
                libc.mallopt(_M_TRIM_THRESHOLD, _int(trim, 128 << 10))
                libc.malloc_trim(0)


_ROOMY_STATE = _Roomy()


def _fresh_after_fork() -> None:
    """A forked child has none of its parent's threads: neither its chunks nor its trimmer
    (and the lock may have been held by one of them)."""
    global _ROOMY_STATE
    _ROOMY_STATE = _Roomy()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_after_fork)


@contextlib.contextmanager
def roomy_malloc() -> Iterator[None]:
    """Let glibc's malloc reuse freed memory while chunks compute; trim it once idle.

    dask.distributed starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand
    memory back to the system).  Setting it also switches off glibc's adaptive mmap
    threshold, so every array above 128 KiB is a fresh mmap whose pages fault in again:
    the exact kernel then costs 3× its CPU time, most of it the system's (0.96 µs a point,
    0.58 of them system time, against 0.32, measured in a worker).  While any chunk (or
    eager call, see :mod:`xr_spdc.labelled.route`) runs in the process the thresholds are
    raised to 64 MiB.  They are set back to the environment's, and the heap
    is trimmed, only once no chunk has run for :data:`TRIM_AFTER_IDLE` seconds: trimming
    after every chunk made the next one fault its pages in again (6 % more CPU a point,
    measured with chunks of 5·10⁵ points).  A busy worker keeps at most 64 MiB of freed
    heap; an idle one returns its memory as dask intends.  Only where that environment
    variable is set (glibc on Linux); elsewhere nothing.
    """
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    libc = glibc() if trim is not None else None
    if libc is None:
        yield
        return
    _ROOMY_STATE.enter(libc)
    try:
        yield
    finally:
        _ROOMY_STATE.exit(libc)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default
