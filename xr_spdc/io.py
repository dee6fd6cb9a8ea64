"""netCDF files that keep complex values and metadata, written atomically.

Encoding
--------
CF has no convention for complex numbers yet.  xr_spdc writes them as netCDF-4's compound
type ``{r, i}`` (two little-endian float64 fields, the type named
``_PFNC_DOUBLE_COMPLEX_TYPE`` as the nc-complex convention does): it is what both the
netcdf4 engine (with ``auto_complex=True``) and h5netcdf write, it stores the values
bitwise, it needs no attributes to tie two variables together, and any netCDF-4 or HDF5
reader opens it (netCDF4-python shows a compound array with fields ``r`` and ``i``, h5py
reads complex128 directly).  The price: netCDF-3 and ``NETCDF4_CLASSIC`` cannot hold it,
so files are always ``NETCDF4``.  (The alternative, a real/imaginary pair of float
variables, opens in netCDF-3 readers too, but every reader must then know how to pair them.)

Reading back
------------
:func:`open_dataset` / :func:`open_dataarray` give complex128 (h5netcdf by default; with
``engine="netcdf4"`` they pass ``auto_complex=True``).  ``xr.open_dataset(path,
engine="h5netcdf")`` does too.  A plain ``xr.open_dataset(path)`` uses the netcdf4 engine
without ``auto_complex`` and gives a structured ``[('r', '<f8'), ('i', '<f8')]`` dtype, on
which ``abs()`` and ``.plot()`` fail.

Saving
------
:func:`to_netcdf` writes a new file next to the target and renames it over the target only
when complete: an error, Ctrl-C, SIGTERM or a full disk leaves the old file byte-identical
and no temporary file behind, and the error names the user's path and the cause.  The
rename is the commit point: a signal that arrives from then on finds the save complete and
is delivered once the new file is in place (a :class:`KeyboardInterrupt` saying so).  A
symbolic link is written through to its target (the link stays), as editors do.

Metadata
--------
Every attribute is written as it is, except that bools become ints (1/0: netCDF has no
boolean type).  Values netCDF cannot store portably (None, dict, complex, dates, nested or
mixed lists) raise a :class:`TypeError` naming the attribute and its variable, before
anything is written.  Global attributes follow CF: ``Conventions``, ``title``, ``history``
(a line with an ISO timestamp appended to any existing history), ``source`` (with the
package version) and ``references``.  Coordinate variables get no ``_FillValue`` (CF §5:
coordinates have no missing values).
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import numbers
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends.common import ArrayWriter

from ._version import __version__
from .labelled.names import REFERENCES

CONVENTIONS = "CF-1.11"
ENGINES = ("h5netcdf", "netcdf4")
DEFAULT_ENGINE = "h5netcdf"  # writes and reads the compound type without a flag
DEFAULT_TITLE = "SPDC spatial-mode overlap (xr_spdc)"


def _attr_value(owner: str, key: str, value: Any) -> Any:
    """``value`` as netCDF stores it the same way with either engine, else TypeError."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        return int(value)  # netCDF has no boolean attribute type
    if isinstance(value, (str, bytes, np.str_, np.bytes_)):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, (np.datetime64, np.timedelta64)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value)
        kinds = {type(v) for v in value} if not isinstance(value, np.ndarray) else set()
        mixed = any(issubclass(k, (str, bytes)) for k in kinds) and any(
            issubclass(k, numbers.Number) for k in kinds)
        if array.ndim == 1 and not mixed and array.dtype.kind in "biufUS":
            return array.astype(int) if array.dtype.kind == "b" else value
    raise TypeError(f"attribute {key!r} of {owner} cannot be written to netCDF: "
                    f"{value!r:.60} ({type(value).__name__}); attributes must be str, real "
                    "numbers (bool is stored as int) or 1-D lists of one of them")


def _check_attrs(owner: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """netCDF-safe copies of ``attrs`` (see the module docstring)."""
    return {key: _attr_value(owner, key, value) for key, value in attrs.items()}


def prepare(obj: xr.DataArray | xr.Dataset, *, title: str | None = None,
            engine: str = DEFAULT_ENGINE) -> xr.Dataset:
    """The Dataset :func:`to_netcdf` writes: checked attrs and CF global attributes.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        Not modified.  A DataArray becomes a Dataset with one variable, named after the
        DataArray (``"overlap"`` if it has no name).
    title : str, optional
        The CF ``title`` (default: the object's own, else a generic one).
    engine : str
        Named in the ``history`` line.

    Returns
    -------
    xarray.Dataset
        A shallow copy with its own attribute dicts.

    Raises
    ------
    TypeError
        ``obj`` is not an xarray object, or an attribute cannot be written (named).

    Examples
    --------
    >>> import xarray as xr
    >>> ds = prepare(xr.DataArray([1.0], dims="x", name="a", attrs={"ok": True}))
    >>> ds.attrs["Conventions"], ds["a"].attrs["ok"]
    ('CF-1.11', 1)
    """
    if isinstance(obj, xr.DataArray):
        ds = obj.to_dataset(name=obj.name if obj.name is not None else "overlap")
    elif isinstance(obj, xr.Dataset):
        ds = obj
    else:
        raise TypeError(f"obj must be an xarray DataArray or Dataset, not {type(obj).__name__}")
    # A shallow copy has new Variable objects with their own attrs dicts (data shared):
    # replacing those leaves the caller's object as it was.
    ds = ds.copy(deep=False)
    for name, variable in ds.variables.items():
        role = "coordinate" if name in ds.coords else "variable"
        variable.attrs = _check_attrs(f"{role} {name!r}", variable.attrs)
    attrs = _check_attrs("the Dataset", ds.attrs)
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    line = f"{now}: written by xr_spdc {__version__} (xr_spdc.io.to_netcdf, {engine})"
    attrs.update({
        "Conventions": CONVENTIONS,
        "title": title or attrs.get("title", DEFAULT_TITLE),
        "history": f"{attrs['history']}\n{line}" if attrs.get("history") else line,
        "source": f"xr_spdc {__version__}",
        "references": attrs.get("references", REFERENCES),
    })
    ds.attrs = attrs
    return ds


def to_netcdf(obj: xr.DataArray | xr.Dataset, path: str | os.PathLike, *,
              engine: str | None = None, title: str | None = None,
              encoding: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write an overlap (or a Dataset holding it) to netCDF-4, atomically.

    Parameters
    ----------
    obj : xarray.DataArray or xarray.Dataset
        What to write; not modified.  Complex values are kept bitwise; dask-backed values
        are computed and written block by block (memory stays near a few blocks).
    path : str or path-like
        The file to write.  It is replaced only once the new file is complete.  A symbolic
        link is written through: its target gets the new contents and the link stays (as
        editors do).  A path ending in a slash names a folder and is refused.
    engine : {"h5netcdf", "netcdf4"}, optional
        The writer (default "h5netcdf"); both write the same file format.
    title : str, optional
        The CF ``title`` (default: the object's own, else a generic one).
    encoding : mapping, optional
        Per-variable encoding for :meth:`xarray.Dataset.to_netcdf`, e.g.
        ``{"overlap": {"zlib": True, "complevel": 4}}`` (understood by both engines).

    Returns
    -------
    pathlib.Path
        ``path``, as given.

    Raises
    ------
    TypeError
        An attribute netCDF cannot store (None, dict, complex, dates, nested or mixed
        lists), named with its variable; nothing is written.
    ValueError
        An unknown engine.
    OSError
        The file cannot be written, naming ``path`` and the cause: a missing folder, a
        folder where the file should be, no permission, or a full disk (``errno.ENOSPC``:
        checked before writing when the size is known, and recognised when the disk fills
        up during the write).  The old file is left as it was.
    KeyboardInterrupt
        Ctrl-C during the save: the old file is left as it was; or Ctrl-C from the
        commit point (the rename) on: the new file is complete and in place, and the
        message says it was saved (see Notes).

    Notes
    -----
    Complex values are stored as netCDF-4's compound type ``{r, i}`` (see the module
    docstring for why, and for what other readers see); bool attributes become ints.

    The file is written into a hidden temporary folder next to the target
    (``.<name>.*.tmp/``), flushed to disk (``os.fsync``), then renamed over the target
    (``os.replace``, atomic on POSIX and Windows).  An error, a Ctrl-C (SIGINT) or a
    SIGTERM during the save leaves any existing file byte-identical and removes the
    temporary folder; only a hard kill (SIGKILL, power loss) can leave that folder behind.
    The commit point is the moment just before the rename: a signal that comes before it
    (while the file is written, flushed or given its mode) stops the save and the old
    file stays; one that comes later (during or after the rename) finds the save
    committed, and is delivered once the new file is in place and durable, as SIGINT's
    :class:`KeyboardInterrupt` (whose message says the file was saved) or SIGTERM's end of
    the process.  (A signal that comes after :func:`to_netcdf` has restored the handlers
    is Python's usual interrupt, wherever the program then is.)
    While an in-memory object is written, SIGINT and SIGTERM are held and acted on once the
    netCDF library is out of the file (writing is fast: ~0.2 s for 10^7 points;
    interrupting the HDF5 and netCDF libraries mid-call can lose the interrupt in a
    finalizer or leave xarray's file lock taken, a deadlock).  A dask-backed save stops
    at once, or at the next block when the signal lands inside the netCDF library.  After
    the cleanup, SIGINT raises :class:`KeyboardInterrupt` and SIGTERM ends the process with
    its usual status (both only in the main thread, the one Python delivers signals to).
    A replaced file keeps its permission bits; a new one gets 0o666 less the umask.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr, xr_spdc
    >>> o = xr.Dataset(coords={"phi": [0.0, -3.14], "xi": [1.0]}).spdc.overlap()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "overlap.nc"
    >>> back = open_dataarray(to_netcdf(o, path))
    >>> bool((back == o).all()), back.dtype, back.attrs == o.attrs
    (True, dtype('complex128'), True)
    """
    engine = DEFAULT_ENGINE if engine is None else engine
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    ds = prepare(obj, title=title, engine=engine)
    per_variable = {name: dict(options) for name, options in (encoding or {}).items()}
    for name in ds.coords:
        per_variable.setdefault(str(name), {}).setdefault("_FillValue", None)
    shown = os.fspath(path)
    target = _write_target(shown)
    size = sum(v.nbytes for v in ds.variables.values())
    compressed = any(o.get("zlib") or o.get("compression") for o in per_variable.values())
    free = _free_space(target.parent)
    if not compressed:  # compressed sizes are unknown until written
        _refuse_if_too_big(shown, target.parent, size, free)
    with _HeldSignals() as signals:
        folder = None
        try:
            folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp",
                                           dir=target.parent))
            tmp = folder / target.name
            _write(ds, tmp, signals, engine=engine, encoding=per_variable)
            signals.check()  # a signal that came in while the library held the file
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.chmod(tmp, _file_mode(target))
            signals.commit(shown)  # the last point where a signal stops the save
            os.replace(tmp, target)
        except BaseException as exc:
            signals.hold()
            _defuse_failed_close(exc)
            error = _explain(exc, shown, target.parent, size, free,  # the temp still there
                             None if folder is None else folder / target.name)
            if folder is not None:
                _remove_folder(folder)
            if error is None:
                raise
            raise error from exc
        _remove_folder(folder)
        _fsync_folder(target.parent)  # before a signal held since the commit is delivered
    return Path(path)


def _write(ds: xr.Dataset, tmp: Path, signals: _HeldSignals, *, engine: str,
           encoding: dict[str, dict[str, Any]]) -> None:
    """Write ``ds`` to ``tmp``: at once if in memory (signals held throughout), else the
    file's layout first and then the blocks, interruptible between them."""
    kwargs: dict[str, Any] = {"auto_complex": True} if engine == "netcdf4" else {}
    if all(v.chunks is None for v in ds.variables.values()):
        options: dict[str, Any] = {"engine": engine, "encoding": encoding, **kwargs}
        ds.to_netcdf(tmp, format="NETCDF4", **options)
        return
    import dask  # a chunked variable: dask is there

    # The blocks go through xarray's own store and writer (what Dataset.to_netcdf does
    # with compute=False), so that this function holds the open file and can close it
    # itself whatever happens.
    opener: Any = (xr.backends.H5NetCDFStore if engine == "h5netcdf"
                   else xr.backends.NetCDF4DataStore).open
    elsewhere = _blocks_written_elsewhere()
    if elsewhere:  # as xarray does: each block opens and closes the file itself
        kwargs["autoclose"] = True
    elif engine == "h5netcdf":  # (workers in other processes know only h5py's drivers)
        kwargs["driver"] = _unbuffered_driver()
    store = opener(os.fspath(tmp), mode="w", format="NETCDF4", **kwargs)  # str: reopenable
    handle = None if elsewhere else store.ds  # the open file
    datasets: list[Any] = []
    closing = False
    try:
        writer = ArrayWriter()
        _stoppable(ds).dump_to_store(store, writer=writer, encoding=encoding,
                                     unlimited_dims=ds.encoding.get("unlimited_dims"))
        if elsewhere:
            store.close()  # this process lets go of the file before the workers write
        datasets = _open_datasets(handle)
        writes = writer.sync(compute=False)
        with signals.interruptible():
            dask.compute(writes)
        datasets.clear()  # their writes went to the file (a chunk cache: flushed here)
        closing = True
        store.close()
    except BaseException:
        if not closing:  # a close that failed half-way cannot be tried again (segfaults)
            _close_after_failure(tmp, store, datasets)
        raise


def _blocks_written_elsewhere() -> bool:
    """Whether dask's scheduler writes blocks in other processes (multiprocessing or
    distributed), where xarray closes the file after each block."""
    import dask.base
    import dask.multiprocessing

    get = dask.base.get_scheduler()
    if get is dask.multiprocessing.get:
        return True
    return type(getattr(get, "__self__", None)).__module__.startswith("distributed")


def _open_datasets(handle: Any) -> list[Any]:
    """One open h5py dataset per variable of an h5netcdf file, held while blocks are
    written.

    h5netcdf opens a new h5py dataset for each block it writes and drops it at once; the
    last handle on a dataset writes out what HDF5 still holds for it (a compressed
    variable's cache of chunks) when it is dropped, inside a finalizer, where a full disk
    is printed, never raised.  With a handle held here, that happens once, at the end,
    and the cache is kept from block to block.
    """
    variables = getattr(handle, "variables", None)
    if variables is None or not type(handle).__module__.startswith("h5netcdf"):
        return []  # netCDF4-python: the netCDF library keeps its datasets open itself
    return [variable._h5ds for variable in variables.values()]


_UNBUFFERED = "xr_spdc_unbuffered"


def _unbuffered_driver() -> str:
    """An h5py file driver: HDF5's usual one (sec2) without its 64 KiB write buffer.

    HDF5 keeps small writes to a contiguous variable (a block of a lazy save) in that
    buffer (the "sieve") and writes it out when the dataset is closed; h5netcdf closes one
    after every block, inside a finalizer.  A full disk there is printed by h5py, never
    raised, and HDF5 is left holding a dataset it could not close (a segfault at exit).
    Without the buffer, each block is written by its own write call, which raises.
    """
    import h5py  # type: ignore[import-untyped]

    if _UNBUFFERED not in h5py.registered_drivers():
        def set_fapl(plist: Any, **kwargs: Any) -> None:
            plist.set_fapl_sec2()
            plist.set_sieve_buf_size(0)

        h5py.register_driver(_UNBUFFERED, set_fapl)
    return _UNBUFFERED


def _close_after_failure(tmp: Path, store: Any, datasets: list[Any]) -> None:
    """Close a file whose blocks could not all be written, after freeing its space.

    The close flushes the file's buffers, which fails again on a full disk and leaves the
    HDF5 library holding a half-closed file (printed errors, a segfault at exit); emptying
    the file first gives the flush room (its data are thrown away anyway).
    """
    with contextlib.suppress(OSError):
        os.truncate(tmp, 0)
    try:
        datasets.clear()  # their buffers go into the emptied file
        store.close()
    except Exception as exc:  # nothing more can be done for it: the temp goes anyway
        _defuse_failed_close(exc)


class _Interrupted(BaseException):
    """A held SIGINT/SIGTERM, raised to abandon a save (re-delivered after the cleanup)."""


#: Set while a held signal waits to be acted on: blocks of a lazy save check it before they
#: are written, so a save whose blocks run in this process's main thread (dask's
#: synchronous scheduler) stops at the next block too.
_STOP_BLOCKS = threading.Event()

#: Modules that may hold a file or a lock when a signal arrives: never raise inside them.
_LIBRARY_MODULES = ("xarray.backends", "h5netcdf", "h5py", "netCDF4")


def _stop_if_interrupted(block: Any) -> Any:
    """Pass a block through, unless a held signal waits (see :data:`_STOP_BLOCKS`)."""
    if _STOP_BLOCKS.is_set():
        raise _Interrupted()
    return block


def _in_library(frame: Any) -> bool:
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(_LIBRARY_MODULES):
            return True
        frame = frame.f_back
    return False


class _HeldSignals:
    """Hold SIGINT and SIGTERM while a save runs; re-deliver them once it is cleaned up.

    Only signals whose handler is Python's default (KeyboardInterrupt for SIGINT,
    termination for either) are held, and only in the main thread (the only one that may
    set handlers); a signal that arrives marks the save abandoned.  Inside
    :meth:`interruptible` the first one also raises at once, unless it interrupted the
    netCDF libraries or xarray's backends, where an exception can leave a lock taken
    (xarray's file-manager lock: a deadlock) or be lost in a finalizer; then the next block
    stops the save (:func:`_stop_if_interrupted`).  On exit the held signal is raised again
    with the original handler back in place, so SIGINT becomes KeyboardInterrupt and
    SIGTERM ends the process with its usual status.
    """

    def __init__(self) -> None:
        self._old: dict[int, Any] = {}
        self._pending: list[int] = []
        self._armed = False
        self._saved: str | None = None  # the path, once the save is committed

    def __enter__(self) -> _HeldSignals:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                old = signal.getsignal(number)
                if old in (signal.default_int_handler, signal.SIG_DFL):
                    self._old[number] = old
                    signal.signal(number, self._handle)
        return self

    def _handle(self, number: int, frame: Any) -> None:
        self._pending.append(number)
        _STOP_BLOCKS.set()
        if self._armed and not _in_library(frame):
            self._armed = False  # raise once; later signals wait for the cleanup
            raise _Interrupted(number)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        self.check()
        self._armed = True
        try:
            yield
        finally:
            self._armed = False

    def hold(self) -> None:
        self._armed = False

    def check(self) -> None:
        if self._pending:
            raise _Interrupted(self._pending[0])

    def commit(self, shown: str) -> None:
        """Stop the save if a signal is pending, else commit to it: from here on a signal
        no longer stops it and is delivered once the save is complete."""
        self.check()
        self._saved = shown

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        for number, old in self._old.items():
            signal.signal(number, old)
        _STOP_BLOCKS.clear()
        if self._pending:
            try:
                signal.raise_signal(self._pending[0])  # KeyboardInterrupt, or the end
            except KeyboardInterrupt:
                if self._saved is not None and kind is None:  # came after the commit
                    raise KeyboardInterrupt(f"{self._saved} was saved: the interrupt "
                                            "came after the new file was in place") from None
                raise KeyboardInterrupt from None  # not "during handling of _Interrupted"
        if kind is _Interrupted:  # held elsewhere than here: never a completed save
            raise KeyboardInterrupt from None


def _stoppable(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with every dask-backed variable checking :data:`_STOP_BLOCKS` per block."""
    wrapped = {name: var.copy(data=var.data.map_blocks(_stop_if_interrupted,
                                                       dtype=var.dtype))
               for name, var in ds.variables.items() if var.chunks is not None}
    coords = {name: var for name, var in wrapped.items() if name in ds.coords}
    data = {name: var for name, var in wrapped.items() if name not in ds.coords}
    return ds.assign_coords(coords).assign(data)


def _write_target(shown: str) -> Path:
    """The file a save replaces: ``shown`` itself, or where a symbolic link leads."""
    if shown.endswith(("/", os.sep)) or (os.altsep and shown.endswith(os.altsep)):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {shown}: a path ending in "
                                "'/' names a folder, not a netCDF file", shown)
    path = Path(shown)
    if path.is_symlink():
        path = Path(os.path.realpath(path))  # write through the link, as editors do
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"cannot write {shown}: it is a folder",
                                shown)
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"cannot write {shown}: the folder "
                                f"{path.parent} does not exist", shown)
    return path


def _disk_full(shown: str, folder: Path, size: int, free: int | None) -> OSError:
    room = "" if free is None else f", {_mib(free)} was free in {folder}"
    return OSError(errno.ENOSPC, f"cannot write {shown}: the disk is full (about "
                   f"{_mib(size)} to write{room}); any old file is unchanged", shown)


def _mib(n: int) -> str:
    return f"{n / 2**20:.3g} MiB"


def _refuse_if_too_big(shown: str, folder: Path, size: int, free: int | None) -> None:
    """Refuse up front a save that cannot fit (HDF5 adds a few kB to the values)."""
    if free is not None and free < size + 2**16:
        raise _disk_full(shown, folder, size, free)


def _free_space(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:  # no figure for this file system: the write will find out
        return None


_NO_SPACE = ("No space left on device", "errno = 28")


def _explain(exc: BaseException, shown: str, folder: Path, size: int, free: int | None,
             temporary: Path | None) -> BaseException | None:
    """The error to show for a failed save, naming the user's path, or None to re-raise.

    HDF5 reports a full disk as an ``OSError`` or a ``RuntimeError`` carrying errno 28 in
    its text; netCDF-C only says "NetCDF: HDF error", so the free space decides then.
    """
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or any(
            s in text for s in _NO_SPACE):
        return _disk_full(shown, folder, size, free)
    # netCDF-C says "HDF error", or EACCES when it cannot even create the file.
    if (isinstance(exc, RuntimeError) and "HDF error" in text
            or isinstance(exc, OSError) and exc.errno == errno.EACCES):
        now = _free_space(folder)
        if now is not None and now < 2**20:
            return _disk_full(shown, folder, size, free)
    if isinstance(exc, OSError) and exc.errno is not None:
        return OSError(exc.errno, f"cannot write {shown}: {exc.strerror}", shown)
    if temporary is not None and str(temporary) in text and type(exc) in (
            RuntimeError, ValueError, OSError):  # HDF5's messages name the file it wrote
        return type(exc)(text.replace(str(temporary), shown))
    return None


def _defuse_failed_close(exc: BaseException) -> None:
    """Mark an h5netcdf file whose close failed (a full disk) as closed.

    h5netcdf's ``File.close`` sets its closed flag only after HDF5's close succeeds; when
    that fails, the object's ``__del__`` calls ``close`` again on HDF5 handles that are
    gone, and the interpreter segfaults.  The file's data are lost anyway (the temporary
    folder is removed), so the object is only told it is closed.
    """
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            owner = tb.tb_frame.f_locals.get("self")
            if (type(owner).__module__.startswith("h5netcdf")
                    and getattr(owner, "_closed", True) is False
                    and hasattr(owner, "_close_h5file")):
                setattr(owner, "_closed", True)  # noqa: B010 (owner is typed Any | None)
            tb = tb.tb_next
        error = error.__context__


def _remove_folder(folder: Path) -> None:
    """Remove the temporary folder, even while a dask thread that was still writing a
    block when the save was interrupted re-creates its file (xarray reopens in append
    mode), and free the file's space even if a handle on it stays open."""
    for _ in range(50):
        for leftover in folder.glob("*"):
            # Frees the space now, even if a handle stays open (a file whose close failed).
            with contextlib.suppress(OSError):
                os.truncate(leftover, 0)
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.02)


def _file_mode(target: Path) -> int:
    """The mode a plain write would give: the old file's, else 0o666 less the umask (the
    temporary file starts private, 0o600)."""
    if target.exists():
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened on Windows."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_dataset(path: str | os.PathLike, **kwargs: Any) -> xr.Dataset:
    """Open a file written by :func:`to_netcdf` with its complex values as complex128.

    Parameters
    ----------
    path : str or path-like
        A netCDF-4 file (any file with compound ``{r, i}`` complex variables).
    **kwargs
        Passed to :func:`xarray.open_dataset`.  ``engine`` defaults to "h5netcdf", which
        reads the compound type as complex, or to "netcdf4" for a netCDF-3 file (which
        h5netcdf cannot read); with ``engine="netcdf4"``, ``auto_complex=True`` is passed
        for you.

    Returns
    -------
    xarray.Dataset
        Lazily loaded, as :func:`xarray.open_dataset` returns it; attributes as written.

    Raises
    ------
    ValueError
        ``engine="h5netcdf"`` for a netCDF-3 file (the message names the engine that reads
        it).

    Notes
    -----
    A plain ``xr.open_dataset(path)`` (netcdf4 engine, no ``auto_complex``) gives the
    complex variables a structured ``[('r', '<f8'), ('i', '<f8')]`` dtype instead, on which
    ``abs()`` and ``.plot()`` fail.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> o = xr.Dataset(coords={"phi": [-3.14], "xi": [1.0]}).spdc.overlap(mu=0.5)
    >>> path = to_netcdf(o, pathlib.Path(tempfile.mkdtemp()) / "o.nc")
    >>> ds = open_dataset(path)
    >>> ds["overlap"].dtype, ds.attrs["Conventions"]
    (dtype('complex128'), 'CF-1.11')
    >>> xr.open_dataset(path)["overlap"].dtype.names  # the plain way
    ('r', 'i')
    """
    netcdf3 = _is_netcdf3(path)
    if netcdf3 and kwargs.get("engine") == "h5netcdf":
        raise ValueError(f"{os.fspath(path)} is a netCDF-3 file, which h5netcdf (HDF5) "
                         "cannot read; open it with engine='netcdf4' (or leave engine out)")
    kwargs.setdefault("engine", "netcdf4" if netcdf3 else DEFAULT_ENGINE)
    if kwargs["engine"] == "netcdf4":
        kwargs.setdefault("auto_complex", True)
    return xr.open_dataset(path, **kwargs)


def _is_netcdf3(path: Any) -> bool:
    """Whether ``path`` is a local netCDF-3 file (classic, 64-bit offset or CDF-5)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) in (b"CDF\x01", b"CDF\x02", b"CDF\x05")
    except (OSError, TypeError, ValueError):  # not a local file: xarray will say
        return False


def open_dataarray(path: str | os.PathLike, **kwargs: Any) -> xr.DataArray:
    """Open the one data variable of a file written by :func:`to_netcdf` (e.g. an overlap).

    Parameters
    ----------
    path : str or path-like
        A file with exactly one data variable.
    **kwargs
        As for :func:`open_dataset`.

    Returns
    -------
    xarray.DataArray
        Complex128 where complex was written, with its name and attributes; the file's
        global attributes are not attached (use :func:`open_dataset` for them).

    Raises
    ------
    ValueError
        The file holds no or several data variables (they are listed).

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> o = xr.Dataset(coords={"phi": [0.0], "xi": [1.0]}).spdc.overlap()
    >>> back = open_dataarray(to_netcdf(o, pathlib.Path(tempfile.mkdtemp()) / "o.nc"))
    >>> back.name, back.dims, back.attrs["long_name"]
    ('overlap', ('phi', 'xi'), 'spatial-mode overlap')
    """
    ds = open_dataset(path, **kwargs)
    if len(ds.data_vars) != 1:
        ds.close()
        raise ValueError(f"{path} holds {len(ds.data_vars)} data variables "
                         f"({list(ds.data_vars)}); use open_dataset")
    return ds[next(iter(ds.data_vars))]
