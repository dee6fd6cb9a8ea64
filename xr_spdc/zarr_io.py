"""zarr stores written chunk by chunk by many workers at once, resumable after a crash.

Layout
------
:func:`to_zarr` writes a zarr v3 group the way :meth:`xarray.Dataset.to_zarr` does (so
``xr.open_zarr`` reads it: complex128 natively, every attribute as JSON), with one zarr chunk
per dask chunk and no consolidated metadata (not part of the zarr v3 specification: zarr
warns about it).  Beside the variables, a group ``xr_spdc_progress`` (which xarray does not
show) holds:

- per dask-backed variable, a *done mask*: one uint8 a chunk, each in its own zarr chunk, set
  to 1 by the task that wrote that chunk, *after* the chunk's values are written.  A chunk is
  therefore either marked and complete, or unmarked and computed again: a write cut off by a
  crash (partial bytes) is never trusted;
- the *fingerprint* of the computation (attrs ``fingerprint``): each variable's dims, shape,
  dtype, chunks and attributes (the method, tolerances, the integrand's name and code hash,
  the package version), a SHA-256 of every in-memory variable (the coordinates: φ, ξ, ...),
  and the ``key=`` given.

Resume
------
Calling :func:`to_zarr` again with the same computation and store computes only the chunks
whose mark is missing.  A different computation (other coordinates, method, tolerances,
chunks, integrand code) is refused with a message listing what differs.

Where it runs
-------------
Chunks are computed and written by dask's scheduler: threads, or the workers of a
dask.distributed cluster (each opens the store itself: it must be a path or URL every worker
can reach).  ``memory://`` exists once per process, so it is refused when the tasks run in
other processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr

from ._version import __version__
from .engine import allocator

__all__ = ["StoreInUseError", "ZarrWrite", "open_zarr", "to_zarr"]

#: The group beside the variables that records the computation and the finished chunks.
PROGRESS = "xr_spdc_progress"
#: The attribute holding an integrand's code hash (see :func:`xr_spdc.integrate`).
CODE_HASH_ATTR = "integrand_sha256"
_FORMAT = 1


@dataclass(frozen=True)
class ZarrWrite:
    """What :func:`to_zarr` did.

    Attributes
    ----------
    store : str
        The store, as given.
    chunks : int
        Chunks of the dask-backed variables (in-memory ones are written in one piece).
    written : int
        Chunks computed and written by this call.
    skipped : int
        Chunks already complete in the store (an earlier, interrupted call wrote them).
    """

    store: str
    chunks: int
    written: int
    skipped: int


def to_zarr(obj: xr.DataArray | xr.Dataset, store: str | os.PathLike, *,
            overwrite: bool = False, key: str | None = None, progress: bool | None = None,
            storage_options: Mapping[str, Any] | None = None,
            encoding: Mapping[str, Mapping[str, Any]] | None = None) -> ZarrWrite:
    """Compute a (lazy) result chunk by chunk into a zarr v3 store; resume if interrupted.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        What to write; not modified.  dask-backed variables (e.g.
        ``ds.spdc.overlap(chunks=...)``) are computed chunk by chunk by dask's scheduler
        (threads, or a dask.distributed cluster's workers), each chunk written by the task
        that computed it; in-memory variables (the coordinates) are written first.
    store : str or path-like
        A folder, or an fsspec URL (``s3://bucket/sweep.zarr``, ``gs://...``,
        ``memory://...``): every worker must reach it (on a cluster, a shared file system or
        an object store).  ``memory://`` is refused when dask runs the tasks in other
        processes (a process cluster): each would write into its own memory.
    overwrite : bool, default False
        Replace whatever is in ``store``.  Otherwise an existing store written by
        :func:`to_zarr` for the same computation is resumed (only the missing chunks are
        computed), and any other existing store is refused.
    key : str, optional
        Your name for the computation, recorded in the store.  With it, a user integrand's
        code hash no longer has to match on resume (e.g. after a comment or an
        optimisation that does not change values); the key must.
    progress : bool, optional
        A tqdm bar over the chunks (with the dask.distributed dashboard's address when a
        client is active); None: on a terminal only.
    storage_options : mapping, optional
        For fsspec URLs (credentials, endpoint): passed to the file system, on the client
        and on every worker.
    encoding : mapping, optional
        Per-variable zarr encoding as for :meth:`xarray.Dataset.to_zarr`, e.g.
        ``{"overlap": {"compressors": zarr.codecs.ZstdCodec(level=3)}}``.  By default the
        dask-backed variables are stored uncompressed (complex128 values of the overlap
        shrink by only a few percent, at a cost of CPU time on every worker).

    Returns
    -------
    ZarrWrite
        How many chunks there are, were written now and were found complete.

    Raises
    ------
    ValueError
        The store holds a different computation (the message lists what differs), or
        ``memory://`` with a process cluster.
    StoreInUseError
        Another :func:`to_zarr` call is writing to ``store`` (its process id, host and
        start are named).  Two writers of one store would each compute every chunk the
        other has not marked yet: twice the work, for nothing.
    FileExistsError
        ``store`` exists but was not written by :func:`to_zarr` (or its layout was cut off
        before it was recorded); pass ``overwrite=True`` to replace it.
    TypeError
        ``obj`` is not an xarray object, or an attribute zarr cannot store as JSON.
    xr_spdc.FanoutError
        A point failed: the message names it by its coordinates in the whole sweep.  The
        chunks written before stay; rerunning resumes.

    Notes
    -----
    While it runs, a call holds ``<store>.lock`` beside the store (a small JSON file naming
    its process, host and start, rewritten every :data:`LOCK_HEARTBEAT` seconds) and
    deletes it when it ends, normally or not.  A lock left by a client that was killed is
    taken over: at once on the same host (its process is gone), from another host once
    it is :data:`LOCK_STALE` seconds old.

    A chunk's task writes the chunk and then its mark; the task is what dask.distributed
    reschedules when a worker dies, so a lost worker's chunks are computed again by the
    others (up to ``distributed.scheduler.allowed-failures`` times, then
    ``KilledWorker``), never dropped.  After a crash of the client (or of the whole
    cluster) call :func:`to_zarr` again with the same arguments.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, xarray as xr, xr_spdc
    >>> ds = xr.Dataset(coords={"phi": np.linspace(-20, 8, 40), "xi": [0.5, 1.0, 2.84]})
    >>> lazy = ds.spdc.overlap(chunks={"phi": 10})
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sweep.zarr"
    >>> xr_spdc.to_zarr(lazy, path, progress=False)
    ZarrWrite(store='...sweep.zarr', chunks=4, written=4, skipped=0)
    >>> xr_spdc.to_zarr(lazy, path, progress=False).skipped  # done: nothing to compute
    4
    >>> back = xr_spdc.open_zarr(path)["overlap"]
    >>> bool((back == ds.spdc.overlap(workers=1)).all()), back.dtype
    (True, dtype('complex128'))
    """
    _require_zarr()
    ds = _as_dataset(obj)
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key must be a str naming the computation, not {key!r:.60}")
    options = dict(storage_options or {})
    location = _location(store)
    _refuse_memory_across_processes(location)
    fingerprint = _fingerprint(ds, key)
    layout = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]
    with _WriterLock(location, options):
        return _write(ds, store, location, options, encoding, fingerprint, layout, overwrite,
                      progress)


def _write(ds: xr.Dataset, store: str | os.PathLike, location: str,
           options: Mapping[str, Any], encoding: Mapping[str, Mapping[str, Any]] | None,
           fingerprint: Mapping[str, Any], layout: str, overwrite: bool,
           progress: bool | None) -> ZarrWrite:
    """:func:`to_zarr` once the store is this call's alone."""
    group = None if overwrite else _open_group(location, options, mode="r+")
    if group is not None:
        _check_resumable(group, fingerprint, location)
    else:
        _write_layout(ds, location, options, encoding, fingerprint, layout,
                      overwrite=overwrite)
        group = _open_group(location, options, mode="r+")
        assert group is not None
    progress_group: Any = group[PROGRESS]
    lazy = {name: v for name, v in ds.variables.items() if v.chunks is not None}
    tasks, total = [], 0
    for name, variable in lazy.items():
        done = np.asarray(progress_group[str(name)][...], dtype=bool)
        total += done.size
        tasks.extend(_chunk_tasks(variable, str(name), done, location, options, layout))
    _run(tasks, progress, os.fspath(store))
    progress_group.attrs["complete"] = True
    return ZarrWrite(store=os.fspath(store), chunks=total, written=len(tasks),
                     skipped=total - len(tasks))


def open_zarr(store: str | os.PathLike, *, storage_options: Mapping[str, Any] | None = None,
              allow_incomplete: bool = False, **kwargs: Any) -> xr.Dataset:
    """Open a store written by :func:`to_zarr` (lazily, with dask), refusing an unfinished one.

    Parameters
    ----------
    store : str or path-like
        A folder or fsspec URL.
    storage_options : mapping, optional
        For fsspec URLs.
    allow_incomplete : bool, default False
        Open a store whose write was interrupted: its missing chunks read as zeros (the
        fill value).  By default that is an error saying how many chunks are missing.
    **kwargs
        Passed to :func:`xarray.open_zarr`.

    Returns
    -------
    xarray.Dataset
        complex128 where complex was written, with every attribute; equal bitwise to what
        was computed.  ``ds["overlap"]`` is the overlap.  dask-backed (one dask chunk a
        zarr chunk), except for ``memory://``, which is read in this process as accessed.

    Raises
    ------
    ValueError
        The store's write was interrupted (rerun the same :func:`to_zarr` call to finish
        it), unless ``allow_incomplete``.
    FileNotFoundError
        Nothing at ``store``.
    """
    _require_zarr()
    options = dict(storage_options or {})
    location = _location(store)
    group = _open_group(location, options, mode="r")
    if group is None:
        raise FileNotFoundError(f"no zarr store at {os.fspath(store)}")
    if not allow_incomplete:
        missing = _missing_chunks(group)
        if missing:
            raise ValueError(
                f"{os.fspath(store)} is incomplete: {missing} chunk(s) were never written "
                "(its to_zarr call was interrupted); call to_zarr again with the same "
                "arguments to finish it, or pass allow_incomplete=True to read the missing "
                "chunks as zeros")
    kwargs.setdefault("consolidated", False)
    kwargs.setdefault("zarr_format", 3)
    if _protocol(location) == "memory":
        # Read in this process when accessed, not by dask's workers: in other processes the
        # store is empty and would read as zeros.
        kwargs.setdefault("chunks", None)
    return xr.open_zarr(_zarr_store(location, options), **kwargs)


# ------------------------------------------------------------------------------- the lock

#: Seconds between rewrites of a running call's lock file.
LOCK_HEARTBEAT = 10.0
#: A lock not rewritten for this long belongs to a dead call, wherever it ran.
LOCK_STALE = 60.0


class StoreInUseError(RuntimeError):
    """Another :func:`to_zarr` call is writing to the store."""


class _WriterLock:
    """``<store>.lock``: one :func:`to_zarr` call at a time per store, on any file system
    fsspec reaches (created exclusively where the file system can, as a local folder
    can; elsewhere written and read back)."""

    def __init__(self, location: str, options: Mapping[str, Any]) -> None:
        import fsspec

        self.path = location.rstrip("/") + ".lock"
        self.fs, self.fs_path = fsspec.core.url_to_fs(self.path, **dict(options))
        self.token = uuid.uuid4().hex
        self.record = {"pid": os.getpid(), "host": socket.gethostname(),
                       "started": time.time(), "token": self.token}
        self.stop = threading.Event()
        self.beat: threading.Thread | None = None

    def __enter__(self) -> _WriterLock:
        for _ in range(2):  # a stale lock is removed once, then taken
            if self._create():
                break
            holder = self._read()
            if holder is not None:
                stale = self._stale(holder)
                if not stale:
                    raise StoreInUseError(self._busy(holder))
                if stale == "silent":  # its process is gone: the usual resume after a crash
                    pass
                else:
                    warnings.warn(f"{self.path}: taking over the lock of a to_zarr call "
                                  f"that has not shown a sign of life for over "
                                  f"{LOCK_STALE:g} s ({self._who(holder)})",
                                  RuntimeWarning, stacklevel=3)
                self._remove()
        else:
            raise StoreInUseError(self._busy(self._read()))
        self.beat = threading.Thread(target=self._heartbeat, daemon=True,
                                     name="xr_spdc to_zarr lock")
        self.beat.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        if self.beat is not None:
            self.beat.join()
        holder = self._read()
        if holder is not None and holder.get("token") == self.token:
            self._remove()

    def _create(self) -> bool:
        """Write the lock if there is none; True when it is ours."""
        text = json.dumps(self.record).encode()
        if "://" not in self.path:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(text)
            return True
        if self.fs.exists(self.fs_path):
            return False
        self.fs.pipe_file(self.fs_path, text)
        holder = self._read()  # two writers at once: the later write wins, the other sees it
        return holder is not None and holder.get("token") == self.token

    def _read(self) -> dict[str, Any] | None:
        try:
            record = json.loads(self.fs.cat_file(self.fs_path))
        except FileNotFoundError:
            return None
        except ValueError:  # cut off by a crash as it was created: stale once old
            record = None
        if isinstance(record, dict):
            return record
        try:
            return {"heartbeat": self.fs.modified(self.fs_path).timestamp()}
        except (NotImplementedError, OSError, AttributeError):
            return {"heartbeat": time.time()}

    def _remove(self) -> None:
        try:
            self.fs.rm_file(self.fs_path)
        except FileNotFoundError:
            pass

    def _heartbeat(self) -> None:
        while not self.stop.wait(LOCK_HEARTBEAT):
            holder = self._read()
            if holder is None or holder.get("token") != self.token:
                return  # taken over (judged stale): nothing of ours to keep alive
            self._replace(json.dumps({**self.record, "heartbeat": time.time()}).encode())

    def _replace(self, text: bytes) -> None:
        """Rewrite the lock whole at once, as a reader must never see it half written (an
        object store's put is; a local file is moved into place)."""
        if "://" in self.path:
            self.fs.pipe_file(self.fs_path, text)
            return
        partial = f"{self.path}.{self.token}"
        with open(partial, "wb") as f:
            f.write(text)
        os.replace(partial, self.path)

    def _stale(self, holder: Mapping[str, Any]) -> str | bool:
        """False while its call may run; "silent" when its process is known to be gone
        (same host), True when it has not been rewritten for :data:`LOCK_STALE` s."""
        if (holder.get("host") == socket.gethostname()
                and isinstance(holder.get("pid"), int) and not _alive(holder["pid"])):
            return "silent"
        beat = holder.get("heartbeat", holder.get("started", 0.0))
        return isinstance(beat, (int, float)) and time.time() - beat > LOCK_STALE

    def _who(self, holder: Mapping[str, Any] | None) -> str:
        if not holder or "pid" not in holder:
            return "unknown"
        started = time.strftime("%Y-%m-%d %H:%M:%S",
                                time.localtime(float(holder.get("started", 0.0))))
        return f"process {holder['pid']} on host {holder.get('host')!r}, started {started}"

    def _busy(self, holder: Mapping[str, Any] | None) -> str:
        return (f"{self.path[:-len('.lock')]} is being written by another to_zarr call "
                f"({self._who(holder)}): two writers would compute the same chunks twice.  "
                "Wait for it to finish (then this call finds the store complete or resumes "
                "it), or write to another store.  If that call is gone, its lock "
                f"{self.path} is taken over on the same host at once and from another host "
                f"once {LOCK_STALE:g} s old; or delete that file")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this host exists (on Windows, where signal 0 would end
    it, assumed: the lock's age decides there)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, someone else's
        return True
    return True


# ------------------------------------------------------------------------------ the store


def _require_zarr() -> None:
    """Raise a clear ImportError when zarr v3 (or dask) is missing."""
    try:
        import dask.array  # noqa: F401
        import zarr
    except ImportError:
        raise ImportError("to_zarr and open_zarr need zarr v3 and dask: "
                          "pip install 'xr_spdc[zarr]'") from None
    if int(zarr.__version__.split(".")[0]) < 3:
        raise ImportError(f"to_zarr and open_zarr need zarr v3, not {zarr.__version__}: "
                          "pip install 'xr_spdc[zarr]'")


def _location(store: Any) -> str:
    """The store as every worker can open it: an absolute local path, or a URL."""
    if not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"store must be a path or an fsspec URL string, not "
                        f"{type(store).__name__}")
    text = os.fspath(store)
    if not isinstance(text, str):
        raise TypeError(f"store must be a str path or URL, not {text!r:.60}")
    if text.startswith("file://"):
        text = text[len("file://"):]
    if "://" in text:
        return text
    return os.path.abspath(os.path.expanduser(text))


def _protocol(location: str) -> str:
    return location.split("://", 1)[0] if "://" in location else "file"


def _zarr_store(location: str, options: Mapping[str, Any]) -> Any:
    """What zarr and xarray open: a local path as is, a URL as an fsspec-backed store."""
    if "://" not in location:
        return location
    from zarr.storage import FsspecStore

    return FsspecStore.from_url(location, storage_options=dict(options), read_only=False)


def _open_group(location: str, options: Mapping[str, Any], *, mode: Literal["r", "r+"]
                ) -> Any:
    """The store's root group, or None when there is none."""
    import zarr

    if "://" not in location and not os.path.exists(location):
        return None
    if "://" not in location and not os.path.isdir(location):
        raise FileExistsError(f"{location} is a file, not a zarr store (a folder); choose "
                              "another store")
    try:
        return zarr.open_group(_zarr_store(location, options), mode=mode, zarr_format=3)
    except (FileNotFoundError, zarr.errors.GroupNotFoundError):
        return None
    except (zarr.errors.NodeTypeValidationError, ValueError) as exc:
        raise FileExistsError(f"{location} exists and is not a zarr v3 group ({exc}); "
                              "pass overwrite=True to replace it, or choose another "
                              "store") from None


def _refuse_memory_across_processes(location: str) -> None:
    if _protocol(location) != "memory":
        return
    where = _process_scheduler()
    if where:
        raise ValueError(
            f"store={location!r}: memory:// lives inside one process, but {where} runs the "
            "chunks in other processes: each would write into its own memory and the "
            "store would silently lose data.  Write to a folder or object store every "
            "worker can reach (a path on a shared file system, s3://..., gs://...), or run "
            "the workers as threads (Client(processes=False))")


def _process_scheduler() -> str | None:
    """What runs dask's tasks in other processes now, described; None for threads."""
    import dask

    client = _client()
    if client is not None:
        workers = client.scheduler_info().get("workers", {})
        if any(not str(address).startswith("inproc://") for address in workers):
            return f"the dask.distributed cluster at {client.scheduler.address}"
        return None
    scheduler = dask.config.get("scheduler", None)
    if scheduler in ("processes", "multiprocessing"):
        return "dask's 'processes' scheduler"
    return None


def _client() -> Any:
    """The active dask.distributed client, if any."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:  # no client
        return None


# ------------------------------------------------------------------------- the fingerprint


def _as_dataset(obj: Any) -> xr.Dataset:
    if isinstance(obj, xr.DataArray):
        return obj.to_dataset(name=obj.name if obj.name is not None else "overlap")
    if isinstance(obj, xr.Dataset):
        return obj
    raise TypeError(f"obj must be an xarray DataArray or Dataset, not {type(obj).__name__}")


def _jsonable(value: Any) -> Any:
    """``value`` as JSON holds it (what zarr's attributes will give back)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _summary(values: np.ndarray) -> str:
    flat = values.ravel()
    if flat.size == 0:
        return "no values"
    if flat.size == 1:
        return f"{flat[0].item()!r}"
    return f"{flat.size} values {flat[0].item()!r} ... {flat[-1].item()!r}"


def _fingerprint(ds: xr.Dataset, key: str | None) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for name, variable in ds.variables.items():
        entry: dict[str, Any] = {
            "role": "coordinate" if name in ds.coords else "variable",
            "dims": [str(d) for d in variable.dims], "shape": list(variable.shape),
            "dtype": variable.dtype.str,
            "chunks": None if variable.chunks is None else [list(c) for c in variable.chunks],
            "attrs": {k: _jsonable(v) for k, v in variable.attrs.items()
                      if not (key is not None and k == CODE_HASH_ATTR)}}
        if variable.chunks is None:
            values = np.ascontiguousarray(variable.values)
            if values.dtype.kind == "O":
                raise TypeError(f"variable {name!r} holds Python objects, which zarr cannot "
                                "store")
            entry["sha256"] = hashlib.sha256(values.tobytes()).hexdigest()
            entry["values"] = _summary(values)
        variables[str(name)] = entry
    return {"format": _FORMAT, "variables": variables,
            "attrs": {k: _jsonable(v) for k, v in ds.attrs.items()}, "key": key}


def _differences(stored: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two fingerprints, in words."""
    found: list[str] = []
    if stored.get("key") != new.get("key"):
        found.append(f"key: {stored.get('key')!r} in the store, {new.get('key')!r} in this call")
    old_vars, new_vars = stored.get("variables", {}), new.get("variables", {})
    for name in old_vars.keys() - new_vars.keys():
        found.append(f"{old_vars[name]['role']} {name!r} is in the store, not in this call")
    for name in new_vars.keys() - old_vars.keys():
        found.append(f"{new_vars[name]['role']} {name!r} is in this call, not in the store")
    for name in sorted(old_vars.keys() & new_vars.keys()):
        old, now = old_vars[name], new_vars[name]
        what = f"{now['role']} {name!r}"
        for field in ("dims", "shape", "dtype", "chunks"):
            if old.get(field) != now.get(field):
                found.append(f"{what}: {field} {_short(old.get(field))} in the store, "
                             f"{_short(now.get(field))} in this call")
        if old.get("sha256") != now.get("sha256"):
            found.append(f"{what}: values differ ({old.get('values', 'computed')} in the "
                         f"store, {now.get('values', 'computed')} in this call)")
        found.extend(_attr_differences(what, old.get("attrs", {}), now.get("attrs", {})))
    found.extend(_attr_differences("the Dataset", stored.get("attrs", {}), new.get("attrs", {})))
    return found


def _attr_differences(what: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    found = []
    for name in sorted(old.keys() | new.keys()):
        if name == CODE_HASH_ATTR and (name not in old or name not in new):
            continue  # one side resumed with key=: the key decides
        if old.get(name, "<absent>") != new.get(name, "<absent>"):
            hint = (" (the integrand's code or constants changed; pass the same key= to "
                    "both calls if its values did not)" if name == CODE_HASH_ATTR else "")
            found.append(f"{what}: attribute {name!r} is {_short(old.get(name, '<absent>'))} "
                         f"in the store, {_short(new.get(name, '<absent>'))} in this call{hint}")
    return found


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_resumable(group: Any, fingerprint: Mapping[str, Any], location: str) -> None:
    if PROGRESS not in group or "fingerprint" not in group[PROGRESS].attrs:
        raise FileExistsError(
            f"{location} exists but holds no record of a to_zarr computation (it was written "
            "otherwise, or its layout was cut off before it was recorded), so it cannot be "
            "resumed; pass overwrite=True to replace it, or choose another store")
    stored = json.loads(group[PROGRESS].attrs["fingerprint"])
    differences = _differences(stored, json.loads(json.dumps(fingerprint)))
    if differences:
        raise ValueError(
            f"{location} holds a different computation, so it cannot be resumed with this "
            f"one: {'; '.join(differences)}.  Write to another store, or pass "
            "overwrite=True to replace it")


def _write_layout(ds: xr.Dataset, location: str, options: Mapping[str, Any],
                  encoding: Mapping[str, Mapping[str, Any]] | None,
                  fingerprint: Mapping[str, Any], layout: str, *, overwrite: bool) -> None:
    """The store's arrays and attributes, the in-memory variables' values, the done masks
    and the fingerprint (last: a store without it is not resumable)."""
    import zarr

    per_variable = {str(name): dict(opts) for name, opts in (encoding or {}).items()}
    for name, variable in ds.data_vars.items():
        if variable.chunks is not None:
            per_variable.setdefault(str(name), {}).setdefault("compressors", None)
    store = _zarr_store(location, options)
    try:
        # Metadata and in-memory variables now; the dask-backed ones are left to the tasks.
        ds.to_zarr(store, mode="w" if overwrite else "w-", compute=False,
                   consolidated=False, zarr_format=3, encoding=per_variable)
    except (TypeError, ValueError) as exc:
        if "attribute" in str(exc).lower() or "serializ" in str(exc).lower():
            raise TypeError(f"cannot write {location}: an attribute is not JSON ({exc})"
                            ) from exc
        raise
    group = zarr.open_group(store, mode="r+", zarr_format=3)
    progress = group.create_group(PROGRESS, overwrite=True)
    for name, var in ds.variables.items():
        if var.chunks is not None:
            shape = tuple(len(c) for c in var.chunks)
            progress.create_array(str(name), shape=shape, chunks=(1,) * len(shape),
                                  dtype="uint8", fill_value=0, compressors=None)
    progress.attrs.update({"fingerprint": json.dumps(fingerprint, sort_keys=True),
                           "layout": layout, "complete": False,
                           "written_by": f"xr_spdc {__version__} (xr_spdc.to_zarr)"})


def _missing_chunks(group: Any) -> int:
    if PROGRESS not in group:
        return 0
    progress = group[PROGRESS]
    if progress.attrs.get("complete"):
        return 0
    return int(sum(np.count_nonzero(np.asarray(progress[name][...]) == 0)
                   for name in progress.array_keys()))


# ------------------------------------------------------------------------------ the tasks


def _chunk_tasks(variable: xr.Variable, name: str, done: np.ndarray, location: str,
                 options: Mapping[str, Any], layout: str) -> list[Any]:
    """One task per unfinished chunk that computes it, writes it and marks it.

    The write is mapped over the chunks (``map_blocks``) so that dask fuses it with the
    chunk's computation into one task: a chunk whose task is running when its client dies
    is still written and marked by its worker, and no computed chunk waits in a worker's
    memory for a separate write task.
    """
    import dask.array as da

    data = variable.data
    written = da.map_blocks(
        _write_block, data, dtype=np.int64, chunks=tuple((1,) * len(c) for c in data.chunks),
        name=f"{_TASK_PREFIX}{layout}-{name}", location=location, options=dict(options),
        variable=name, layout=layout)
    blocks = written.to_delayed(optimize_graph=True)
    pending = list(zip(*np.nonzero(~done), strict=True)) if done.ndim else (
        [] if bool(done) else [()])
    return [blocks[tuple(int(i) for i in index)] for index in pending]


#: The start of a write task's key (a local progress bar counts these).
_TASK_PREFIX = "xr_spdc-write-"


_ARRAYS: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}
_ARRAYS_LOCK = threading.Lock()


def _arrays(location: str, options: Mapping[str, Any], name: str, layout: str
            ) -> tuple[Any, Any]:
    """A variable's zarr array and its done mask, opened once per worker process."""
    import zarr

    key = (location, json.dumps(_jsonable(options), sort_keys=True), name, layout)
    with _ARRAYS_LOCK:
        if key not in _ARRAYS:
            group: Any = zarr.open_group(_zarr_store(location, options), mode="r+",
                                         zarr_format=3)
            data = group[name]
            if hasattr(data, "with_config"):  # zarr >= 3.1
                # zarr skips a chunk equal to its fill value, testing every value of every
                # chunk for it: 2-6x the CPU of writing the chunk (16 MiB: 22-46 ms against
                # 7 ms, measured in a worker's environment).  Computed chunks are written.
                data = data.with_config({"write_empty_chunks": True})
            _ARRAYS[key] = (data, group[PROGRESS][name])
        return _ARRAYS[key]


def _write_block(block: np.ndarray, *, block_info: Any = None, location: str,
                 options: Mapping[str, Any], variable: str, layout: str) -> np.ndarray:
    """Write one chunk, then mark it done (a crash between the two leaves it unmarked)."""
    where = block_info[0]
    index = tuple(where["chunk-location"])
    region = tuple(slice(start, stop) for start, stop in where["array-location"])
    data, done = _arrays(location, options, variable, layout)
    # zarr's encoding and the file write copy the chunk into fresh buffers: with heap reuse
    # on (see roomy_malloc) their pages fault in once a worker, not once a chunk.
    with allocator.roomy_malloc():
        data[region] = block
    done[index] = 1
    return np.ones((1,) * block.ndim, np.int64)


def _run(tasks: list[Any], progress: bool | None, shown: str) -> None:
    """Compute ``tasks`` on dask's scheduler with a progress bar over them."""
    if not tasks:
        return
    from tqdm.auto import tqdm

    client = _client()
    description = f"to_zarr {shown}"
    if client is not None:
        link = getattr(client, "dashboard_link", None)
        if link:
            description += f" (dashboard {link})"
    disable = None if progress is None else not progress
    with tqdm(total=len(tasks), desc=description, unit="chunk", disable=disable) as bar:
        if client is None:
            import dask

            with _TaskCounter(bar):
                dask.compute(*tasks)
            return
        from distributed import as_completed

        futures = client.compute(tasks)
        try:
            for future in as_completed(futures):
                future.result()  # raises the chunk's error (a FanoutError naming the point)
                bar.update(1)
        finally:
            client.cancel([f for f in futures if not f.done()])


class _TaskCounter:
    """Advance a tqdm bar as dask's local scheduler finishes each write task."""

    def __init__(self, bar: Any) -> None:
        from dask.callbacks import Callback

        counter = self

        class _Callback(Callback):  # type: ignore[misc]
            def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, id: Any
                          ) -> None:
                name = key[0] if isinstance(key, tuple) else key
                if isinstance(name, str) and name.startswith(_TASK_PREFIX):
                    counter.bar.update(1)

        self.bar = bar
        self.callback = _Callback()

    def __enter__(self) -> _TaskCounter:
        self.callback.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.callback.__exit__(*exc)
