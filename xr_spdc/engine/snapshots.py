"""Read-only copies of large numpy arrays in shared memory, kept for as long as they match.

An integrand that closes over a large array (a lookup table, an interpolator's data, a
measured spectrum) is usually called again and again with that same array: a notebook's
next cell, a parameter scan.  Two things need the array's bytes on every call: the pool's
workers (which map a copy of it, as joblib's memmapping does) and the integrand's
identity (:func:`xr_spdc.engine.identity.code_hash`).  Writing 200 MB to ``/dev/shm`` costs
~0.1-0.3 s and hashing it ~0.12-0.24 s; comparing it with a copy costs ~15 ms (libc's
``memcmp``; ``np.array_equal`` about the same; measured here on 200 MB).

So each such array gets one *snapshot*: a ``.npy`` file in shared memory, its bytes equal
to the array's when written, mapped read-only here and by the workers.  A later call reuses
it only if the live array is the same object, with the same dtype, shape and memory order,
and its bytes still equal the snapshot's (compared in full each time it is asked for, or
once per computation inside :func:`checked_once`): an array changed in place gets a fresh
snapshot, never stale data.  What was computed from a snapshot's bytes (the hash states of
:func:`~xr_spdc.engine.identity.code_hash`) is kept with it and goes with it.

A snapshot lasts as long as its array: it goes when the array is garbage collected or
found changed (a new one replaces it), at :func:`clear`, at this process's exit and, if
this process is killed, with its pool's workers or at the next start of any xr_spdc
process that sees its folder (:func:`remove_orphans`).  So a table held in a notebook
costs its size once more in shared memory (RAM) while it is held.  No timer frees it
sooner: a timer is a thread, and forking a process with threads is unsafe (Python 3.12
warns).  Workers that still map a removed file keep its memory until their next call or
their idle exit.  All of a process's snapshots hold at most :data:`BUDGET` bytes (a
quarter of the RAM; the least recently used go first).  Only C- or Fortran-ordered numeric
arrays of at least :data:`SHARED_ARRAY_BYTES` get one, and only where ``/dev/shm`` keeps
1 GB free beside it (:func:`snapshot` returns None otherwise, and callers work from the
array itself: the pool then writes the array for that call alone).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import mmap
import os
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Literal

import numpy as np

from . import allocator

#: numpy arrays at least this large are shared through snapshots (joblib's ``max_nbytes``
#: is 1 MB too); smaller ones travel inside the pickle, and cost little to hash.
SHARED_ARRAY_BYTES = 1 << 20

#: /dev/shm is used only if this much stays free beside a new snapshot (it is RAM).
_SHM_MARGIN = 1 << 30


def _memory_budget() -> int:
    """A quarter of the machine's RAM: /dev/shm's own limit (half) is too generous for
    copies kept between calls."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 1 << 30


#: Bytes all of a process's snapshots may hold: beyond it, the least recently used go.
BUDGET = _memory_budget()


class Snapshot:
    """A read-only copy of an array in a file, and what was computed from its bytes.

    Attributes
    ----------
    path : str
        The ``.npy`` file (``np.load(path, mmap_mode="r")`` maps it).
    copy : numpy.ndarray
        This process's read-only mapping of the file.
    memo : dict
        Results computed from the bytes, by the caller's key (e.g. hash states); they are
        valid exactly as long as the snapshot is.
    """

    def __init__(self, path: str, copy: np.ndarray) -> None:
        self.path, self.copy = path, copy
        self.memo: dict[Any, Any] = {}

    def matches(self, array: np.ndarray) -> bool:
        """Whether ``array`` holds, byte for byte and in the same layout, the snapshot's
        contents."""
        copy = self.copy
        if array.dtype != copy.dtype or array.shape != copy.shape:
            return False
        return _order(array) == _order(copy) and _same_bytes(array, copy)


def shareable(obj: Any) -> bool:
    """Whether ``obj`` is an array that travels to workers as a file: a plain ndarray (no
    subclass, no Python objects) of at least :data:`SHARED_ARRAY_BYTES`."""
    return (type(obj) is np.ndarray and obj.nbytes >= SHARED_ARRAY_BYTES
            and not obj.dtype.hasobject)


def eligible(obj: Any) -> bool:
    """Whether ``obj`` is an array a snapshot is made of: :func:`shareable`, and C- or
    Fortran-contiguous."""
    return shareable(obj) and (obj.flags.c_contiguous or obj.flags.f_contiguous)


def snapshot(array: np.ndarray, beside: Callable[[], Any] | None = None) -> Snapshot | None:
    """The snapshot of ``array`` as it is now: the kept one if it still matches, else a
    new one (the old one removed).

    Parameters
    ----------
    array : numpy.ndarray
        An array for which :func:`eligible` is true.
    beside : callable, optional
        Work to do in another thread while a new snapshot is written (not called when the
        kept one is reused): e.g. hashing the array, which, like the writing, releases the
        GIL, so the two take the time of one on two cores.

    Returns
    -------
    Snapshot or None
        None where there is no room in shared memory, or ``array`` is not eligible.
    """
    if not eligible(array):
        return None
    checked = getattr(_SCOPE, "checked", None)
    with _LOCK:
        key = id(array)
        kept = _KEPT.get(key)
        if kept is not None:
            ref, snap = kept
            if ref() is array and (
                    (checked is not None and checked.get(key) is snap) or snap.matches(array)):
                if checked is not None:
                    checked[key] = snap
                _KEPT[key] = _KEPT.pop(key)  # the most recently used last
                return snap
            _drop(key, replaced=True)
        if array.nbytes > BUDGET:
            return None
        while _KEPT and sum(s.copy.nbytes for _, s in _KEPT.values()) + array.nbytes > BUDGET:
            _drop(next(iter(_KEPT)), replaced=True)  # the least recently used
        written = _write(array, beside)
        if written is not None:
            _KEPT[key] = (weakref.ref(array, _forgetter(key)), written)
            if checked is not None:
                checked[key] = written
        return written


@contextlib.contextmanager
def checked_once() -> Iterator[None]:
    """Within this block, in this thread, compare each array with its snapshot once.

    For one computation that asks for an array's snapshot more than once (its hash, then
    its pickle for the workers) with no code in between that could change the array: each
    comparison of a 200 MB table costs ~15 ms.  Another thread could change the array
    between the two just as well as right after one comparison: that race is the
    caller's, with or without this block.
    """
    if getattr(_SCOPE, "checked", None) is not None:  # nested: the outer block decides
        yield
        return
    _SCOPE.checked = {}
    try:
        yield
    finally:
        _SCOPE.checked = None


def folder() -> str | None:
    """This process's snapshot folder, if it has one."""
    return _FOLDER


def _shm_free() -> int:
    """Bytes free in /dev/shm (0 where there is none, or no statvfs: Windows)."""
    try:
        stats = os.statvfs("/dev/shm")
    except (OSError, AttributeError):
        return 0
    return stats.f_bavail * stats.f_frsize


def scratch_dir() -> str | None:
    """Shared memory (/dev/shm) when it has room, else None (the temporary directory)."""
    return "/dev/shm" if _shm_free() > 2 << 30 else None


def remove_orphans(scratch: str | None) -> None:
    """Remove the folders (``xr_spdc-<pid>-...``) of processes that died without cleaning
    up (killed, or their workers too)."""
    scratch = scratch or tempfile.gettempdir()
    try:
        entries = [e for e in os.listdir(scratch) if e.startswith("xr_spdc-")]
    except OSError:
        return
    for entry in entries:
        try:
            os.kill(int(entry.split("-")[1]), 0)
        except (ValueError, IndexError):
            continue
        except ProcessLookupError:
            shutil.rmtree(os.path.join(scratch, entry), ignore_errors=True)
        except PermissionError:  # another user's process: alive
            continue


# ------------------------------------------------------------------ the kept snapshots

_LOCK = threading.RLock()
#: Per thread, inside :func:`checked_once`: id(array) -> the snapshot it was compared with.
_SCOPE = threading.local()
#: id(array) -> (a weak reference to the array, its snapshot)
_KEPT: dict[int, tuple[weakref.ref[np.ndarray], Snapshot]] = {}
_FOLDER: str | None = None
_OWNER = os.getpid()


def _order(array: np.ndarray) -> Literal["C", "F"]:
    return "C" if array.flags.c_contiguous else "F"


def _write(array: np.ndarray, beside: Callable[[], Any] | None) -> Snapshot | None:
    """A new snapshot of ``array`` in this process's folder, with ``beside()`` run in a
    thread meanwhile; None without room (and ``beside`` not called)."""
    global _FOLDER
    if _shm_free() < array.nbytes + _SHM_MARGIN:
        return None
    if _FOLDER is None or not os.path.isdir(_FOLDER):
        remove_orphans("/dev/shm")
        _FOLDER = tempfile.mkdtemp(prefix=f"xr_spdc-{os.getpid()}-arrays-", dir="/dev/shm")
    path = os.path.join(_FOLDER, f"{uuid.uuid4().hex}.npy")
    helper = threading.Thread(target=beside, name="xr_spdc-beside-snapshot") \
        if beside is not None else None
    if helper is not None:
        helper.start()
    try:
        # A file write, then one mapping filled at once (MAP_POPULATE): ~0.1 s for 200 MB,
        # where copying into a fresh mapping faults page by page (~0.16 s, and ~0.03 s more
        # on the first read).
        with open(path, "xb") as f:
            header = np.lib.format.header_data_from_array_1_0(array)
            try:
                np.lib.format.write_array_header_1_0(f, header)
            except ValueError:  # a header over 64 kB (a large structured dtype)
                np.lib.format.write_array_header_2_0(f, header)
            offset = f.tell()
            f.write(array.reshape(-1, order="A").view(np.uint8).data)  # in memory order
        return Snapshot(path, _map(path, array, offset))
    except OSError:  # full after all (another process wrote meanwhile)
        _unlink(path)
        return None
    finally:
        if helper is not None:
            helper.join()


def _map(path: str, like: np.ndarray, offset: int) -> np.ndarray:
    """The file's array, mapped read-only, its pages filled at once where Linux can."""
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
    return np.ndarray(like.shape, like.dtype, buffer=mapped, offset=offset,
                      order=_order(like))


def load(path: str) -> np.ndarray:
    """A snapshot's (or any ``.npy`` file's) array, mapped read-only, as a plain ndarray.

    Not an ``np.memmap``: that subclass's Python ``__getitem__`` makes each scalar read
    ~2.5x slower (measured: 280 ns against 110 ns), and an integrand that reads the table
    at every node ~1.9x slower.
    """
    return np.load(path, mmap_mode="r").view(np.ndarray)


def _forgetter(key: int) -> Any:
    """The weak reference's callback: the array is gone, so is its snapshot."""
    def forget(ref: weakref.ref[np.ndarray]) -> None:
        with _LOCK:
            kept = _KEPT.get(key)
            if kept is not None and kept[0] is ref:
                _drop(key)
    return forget


def _drop(key: int, replaced: bool = False) -> None:
    """Remove a snapshot (and the folder with the last one, unless another follows)."""
    global _FOLDER
    _, snap = _KEPT.pop(key)
    del snap.copy  # unmap here before the file goes
    _unlink(snap.path)
    if not replaced and not _KEPT and _FOLDER is not None and os.getpid() == _OWNER:
        shutil.rmtree(_FOLDER, ignore_errors=True)
        _FOLDER = None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def clear() -> None:
    """Remove every snapshot of this process, and its folder."""
    global _FOLDER
    with _LOCK:
        for key in list(_KEPT):
            _drop(key)
        if _FOLDER is not None and os.getpid() == _OWNER:
            shutil.rmtree(_FOLDER, ignore_errors=True)
        _FOLDER = None


def _forget_after_fork() -> None:
    # The child shares the parent's files: it must neither remove them (at its exit) nor
    # reuse them (the parent may replace them); it makes its own on first use.
    global _LOCK, _FOLDER, _OWNER
    _LOCK = threading.RLock()
    _KEPT.clear()
    _FOLDER, _OWNER = None, os.getpid()


atexit.register(clear)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


# ------------------------------------------------------------------ comparing bytes


def _libc_memcmp() -> Any:
    libc = allocator.c_library()
    memcmp = getattr(libc, "memcmp", None)  # releases the GIL while it compares
    if memcmp is None:
        return None
    memcmp.restype = ctypes.c_int
    memcmp.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    return memcmp


_MEMCMP = _libc_memcmp()
#: Bytes compared at a time without libc (a bounded temporary).
_CHUNK = 1 << 22


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two contiguous arrays of the same layout and size hold the same bytes (NaN
    payloads and signed zeros included, unlike ``==``)."""
    if _MEMCMP is not None:
        return bool(_MEMCMP(a.ctypes.data, b.ctypes.data, a.nbytes) == 0)
    x = a.reshape(-1, order="A").view(np.uint8)
    y = b.reshape(-1, order="A").view(np.uint8)
    return all(np.array_equal(x[i:i + _CHUNK], y[i:i + _CHUNK])
               for i in range(0, x.size, _CHUNK))
