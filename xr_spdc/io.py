"""netCDF files that keep complex values and metadata, written atomically.

Encoding
--------
CF has no convention for complex numbers yet.  xr_spdc writes a complex variable
``overlap`` as two float64 variables, ``overlap_real`` and ``overlap_imag``, with the
complex variable's attributes (its ``long_name`` prefixed "real part of " or "imaginary
part of ") and two attributes that tie them together: ``complex_name = "overlap"`` and
``complex_part = "real"`` or ``"imaginary"``.  Every netCDF reader opens that, a plain
``xr.open_dataset(path)`` included: the parts are plain floats with labels and units, on
which ``abs()`` and ``.plot()`` work, and a copy into netCDF-3 keeps them (e.g.
``xr.open_dataset(path).to_netcdf(copy, format="NETCDF3_64BIT")``).
:func:`open_dataset` / :func:`open_dataarray` put the pairs back together as complex128,
bitwise, with every attribute as it was.

Why not netCDF-4's compound type ``{r, i}`` (what earlier versions wrote, and what
xarray's netcdf4 engine writes with ``auto_complex=True``)?  xarray's default reader
(netcdf4, without ``auto_complex``) returns it as a structured ``[('r', '<f8'), ('i',
'<f8')]`` dtype, on which ``abs()``, ``.plot()`` and sometimes ``.load()`` fail, and no
file can make that reader return complex; netCDF-3 and ``NETCDF4_CLASSIC`` cannot hold it
at all.  The pair costs nothing in size and opens everywhere; its price is that a reader
that wants complex values pairs the two variables itself (two attributes say how).  Files
with the compound type still open with :func:`open_dataset`, as complex128.

Saving
------
:func:`to_netcdf` writes a new file in a hidden temporary folder next to the target
(``.xr_spdc-*.tmp/``, a short name, so that a file name of up to 255 bytes still works) and
renames it over the target only when complete: an error, Ctrl-C, SIGTERM or a full disk
leaves the old file byte-identical and no temporary file behind, and the error names the
user's path and the cause.  The rename is the commit point: a signal that arrives from
then on finds the save complete and is delivered once the new file is in place (a
:class:`KeyboardInterrupt` saying so).  A symbolic link is written through to its target
(the link stays), as editors do.  The file is written by :meth:`xarray.Dataset.to_netcdf`
(with dask-backed values, its dask path, block by block); with h5netcdf it is given a
Python file object of this module's (see :class:`_GuardedFile`), so that a full disk is
seen by this module, never half-way inside the HDF5 library.

Metadata
--------
Every attribute is written as it is, except that bools become ints (1/0: netCDF has no
boolean type).  Values netCDF cannot store portably (None, dict, complex, fractions,
integers beyond 64 bits, dates, strings that are not valid Unicode, nested or mixed lists)
raise a :class:`TypeError` naming the attribute and its variable, before anything is
written.  Global attributes follow CF: ``Conventions``, ``title``, ``history`` (a line
with an ISO timestamp appended to any existing history), ``source`` (with the package
version) and ``references``.  Coordinate variables get no ``_FillValue`` (CF §5:
coordinates have no missing values).
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import functools
import io
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

from ._version import __version__
from .labelled.names import REFERENCES

CONVENTIONS = "CF-1.11"
ENGINES = ("h5netcdf", "netcdf4")
DEFAULT_ENGINE = "h5netcdf"  # also reads the compound type of older files without a flag
DEFAULT_TITLE = "SPDC spatial-mode overlap (xr_spdc)"


_INT64 = np.iinfo(np.int64)


def _unwritable(owner: str, key: str, value: Any, why: str) -> TypeError:
    return TypeError(f"attribute {key!r} of {owner} cannot be written to netCDF: "
                     f"{value!r:.60} ({type(value).__name__}): {why}; attributes must be "
                     "str, real numbers (bool is stored as int) or 1-D lists of one of them")


def _check_scalar(owner: str, key: str, value: Any) -> None:
    """Refuse what passes for a str or a real number but has no netCDF type."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _unwritable(owner, key, value, "it is not valid Unicode (a lone "
                              "surrogate), which netCDF's UTF-8 cannot hold") from None
    elif isinstance(value, numbers.Integral) and not isinstance(value, np.integer):
        if not _INT64.min <= int(value) <= _INT64.max:
            raise _unwritable(owner, key, value, "integers beyond 64 bits have no netCDF "
                              "type (store it as a str, or as a float if rounding is fine)")
    elif isinstance(value, numbers.Real) and not isinstance(value, (float, np.floating,
                                                                    np.integer)):
        raise _unwritable(owner, key, value, "netCDF has no type for it (store "
                          "float(value), or str(value) to keep it exact)")


def _attr_value(owner: str, key: str, value: Any) -> Any:
    """``value`` as netCDF stores it the same way with either engine, else TypeError."""
    if not isinstance(key, str):
        raise TypeError(f"attribute names of {owner} must be str, not {key!r}")
    _check_scalar(owner, "(the name)", key)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        return int(value)  # netCDF has no boolean attribute type
    if isinstance(value, (str, bytes, np.str_, np.bytes_)):
        _check_scalar(owner, key, value)
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, (np.datetime64, np.timedelta64)):
        _check_scalar(owner, key, value)
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value)
        kinds = {type(v) for v in value} if not isinstance(value, np.ndarray) else set()
        mixed = any(issubclass(k, (str, bytes)) for k in kinds) and any(
            issubclass(k, numbers.Number) for k in kinds)
        if array.ndim == 1 and not mixed and array.dtype.kind in "biufUS":
            for item in array.tolist():  # Python str and int: what _check_scalar knows
                _check_scalar(owner, key, item)
            return array.astype(int) if array.dtype.kind == "b" else value
    raise _unwritable(owner, key, value, "netCDF has no type for it")


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


#: The attributes that tie a real/imaginary pair of variables to the complex one.
COMPLEX_NAME = "complex_name"
COMPLEX_PART = "complex_part"
_PARTS = {"real": ("_real", "real part of "), "imaginary": ("_imag", "imaginary part of ")}


def split_complex(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with each complex variable stored as a pair of real ones (see the module
    docstring): ``name_real`` and ``name_imag``, bitwise, with the attributes tied.

    Parameters
    ----------
    ds : xarray.Dataset
        Not modified.

    Returns
    -------
    xarray.Dataset
        Without complex variables; the parts keep the complex variable's encoding (its
        ``dtype`` aside) and its place (data variable or coordinate).

    Raises
    ------
    TypeError
        A complex dimension coordinate (a pair cannot index a dimension), or a part's name
        already taken by another variable.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = split_complex(xr.Dataset({"a": ("x", [1 + 2j])}))
    >>> list(ds.data_vars), ds["a_imag"].values, ds["a_imag"].attrs
    (['a_real', 'a_imag'], array([2.]), {'complex_name': 'a', 'complex_part': 'imaginary'})
    """
    complex_names = [name for name, v in ds.variables.items() if v.dtype.kind == "c"]
    if not complex_names:
        return ds
    parts: dict[Any, xr.Variable] = {}
    for name in complex_names:
        if name in ds.dims:
            raise TypeError(f"coordinate {name!r} is complex: a dimension coordinate "
                            "cannot be stored as a real/imaginary pair; make it real")
        variable = ds.variables[name]
        if COMPLEX_NAME in variable.attrs or COMPLEX_PART in variable.attrs:
            raise TypeError(f"variable {name!r} is complex and has an attribute "
                            f"{COMPLEX_NAME!r} or {COMPLEX_PART!r}, which this module "
                            "uses to tie its real and imaginary parts: rename it")
        encoding = {k: v for k, v in variable.encoding.items() if k != "dtype"}
        for part, (suffix, prefix) in _PARTS.items():
            part_name = f"{name}{suffix}"
            if part_name in ds.variables:
                raise TypeError(f"variable {name!r} is complex and is stored as "
                                f"{name}_real and {name}_imag, but {part_name!r} is taken "
                                "by another variable: rename one of them")
            attrs = dict(variable.attrs)
            if "long_name" in attrs:
                attrs["long_name"] = f"{prefix}{attrs['long_name']}"
            attrs.update({COMPLEX_NAME: str(name), COMPLEX_PART: part})
            data = variable.data.real if part == "real" else variable.data.imag
            parts[part_name] = xr.Variable(variable.dims, data, attrs, encoding)
    coords = [n for n in complex_names if n in ds.coords]
    pairs = {f"{n}{s}": parts[f"{n}{s}"] for n in coords for s in ("_real", "_imag")}
    out = ds.drop_vars(complex_names)
    out = out.assign({k: v for k, v in parts.items() if k not in pairs})
    return out.assign_coords(pairs)


def join_complex(ds: xr.Dataset) -> xr.Dataset:
    """Undo :func:`split_complex`: each tied pair of real variables becomes one complex
    variable again, bitwise, with the attributes it had (the tie attributes removed).

    Parameters
    ----------
    ds : xarray.Dataset
        As opened from a file.  Pairs backed by dask stay lazy; others are loaded.

    Returns
    -------
    xarray.Dataset
        The same object if it holds no tied pair.

    Raises
    ------
    ValueError
        A part without its partner, or partners that do not match (named).

    Examples
    --------
    >>> import xarray as xr
    >>> ds = xr.Dataset({"a": ("x", [1 + 2j, -0.0 - 3j])})
    >>> join_complex(split_complex(ds)).identical(ds)
    True
    """
    pairs: dict[str, dict[str, Any]] = {}
    for name, variable in ds.variables.items():
        tied, part = variable.attrs.get(COMPLEX_NAME), variable.attrs.get(COMPLEX_PART)
        if tied is not None and part in _PARTS:
            pairs.setdefault(str(tied), {})[part] = name
    if not pairs:
        return ds
    joined: dict[str, xr.Variable] = {}
    for name, found in pairs.items():
        if set(found) != set(_PARTS):
            raise ValueError(f"the file has the {sorted(found)} part of the complex "
                             f"variable {name!r} ({list(found.values())}) but not the other")
        real, imag = ds.variables[found["real"]], ds.variables[found["imaginary"]]
        if real.dims != imag.dims or real.dtype != imag.dtype:
            raise ValueError(f"the parts of the complex variable {name!r} do not match: "
                             f"{found['real']} {real.dims} {real.dtype}, "
                             f"{found['imaginary']} {imag.dims} {imag.dtype}")
        attrs = {k: v for k, v in real.attrs.items() if k not in (COMPLEX_NAME, COMPLEX_PART)}
        prefix = _PARTS["real"][1]
        if isinstance(attrs.get("long_name"), str) and attrs["long_name"].startswith(prefix):
            attrs["long_name"] = attrs["long_name"][len(prefix):]
        dtype = np.result_type(real.dtype, np.complex64)
        if real.chunks is not None or imag.chunks is not None:
            import dask.array as dsa

            data: Any = dsa.map_blocks(_compose, real.data, imag.data, dtype=dtype)
        else:
            data = _load_complex(real, imag, dtype)
        joined[name] = xr.Variable(real.dims, data, attrs, dict(real.encoding))
    parts = [n for found in pairs.values() for n in found.values()]
    coords = {n: v for n, v in joined.items()
              if any(p in ds.coords for p in pairs[n].values())}
    out = ds.drop_vars(parts)
    out = out.assign({n: v for n, v in joined.items() if n not in coords})
    out = out.assign_coords(coords)
    out.set_close(ds.close)
    return out


def _load_complex(real: xr.Variable, imag: xr.Variable, dtype: np.dtype) -> np.ndarray:
    """Read two parts from the file into one complex array, slab by slab (about 8 MB of
    each part at a time), so that reading needs little more memory than the result."""
    if real.ndim == 0:
        return _compose(real.values, imag.values)
    out = np.empty(real.shape, dtype)
    per_row = max(1, real.size // max(1, real.shape[0]))
    step = max(1, 2**20 // per_row)
    for start in range(0, real.shape[0], step):
        rows = slice(start, start + step)
        out.real[rows] = real[rows].values
        out.imag[rows] = imag[rows].values
    return out


def _compose(real: np.ndarray, imag: np.ndarray) -> np.ndarray:
    """complex from its parts, bitwise (``real + 1j * imag`` can turn -0.0 into 0.0 and an
    infinite part into NaN)."""
    out = np.empty(np.shape(real), np.result_type(real, np.complex64))
    out.real, out.imag = real, imag
    return out


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
        An attribute netCDF cannot store (None, dict, complex, fractions, integers beyond
        64 bits, dates, strings that are not valid Unicode, nested or mixed lists), named
        with its variable; or a complex variable whose parts' names are taken (see
        :func:`split_complex`); nothing is written.
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
    A complex variable ``name`` is stored as the float variables ``name_real`` and
    ``name_imag`` (see the module docstring for why, and for what other readers see); an
    ``encoding`` given for ``name`` applies to both.  Bool attributes become ints.

    The file is written by :meth:`xarray.Dataset.to_netcdf` into a hidden temporary folder
    next to the target (``.xr_spdc-*.tmp/``), flushed to disk (``os.fsync``), then renamed
    over the target (``os.replace``, atomic on POSIX and Windows).  An error, a Ctrl-C (SIGINT) or a
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
    finalizer or leave xarray's file lock taken, a deadlock); so is the file's layout
    before the blocks of a dask-backed save are written.  Those blocks stop at once (while
    this thread waits for dask's threads), or at the next block when the signal lands
    inside the netCDF library (dask's synchronous scheduler writes in this thread).  After
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
    ds = split_complex(prepare(obj, title=title, engine=engine))
    per_variable = {name: dict(options) for name, options in (encoding or {}).items()}
    for name in list(per_variable):  # a complex variable's encoding goes to its parts
        if name in ds.variables or f"{name}_real" not in ds.variables:
            continue
        options = per_variable.pop(name)
        per_variable[f"{name}_real"], per_variable[f"{name}_imag"] = options, dict(options)
    for coord in ds.coords:
        per_variable.setdefault(str(coord), {}).setdefault("_FillValue", None)
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
            # A short name: the user's may already be as long as the file system allows.
            folder = Path(tempfile.mkdtemp(prefix=".xr_spdc-", suffix=".tmp",
                                           dir=target.parent))
            tmp = folder / "new.nc"
            _write(ds, tmp, signals, engine=engine, encoding=per_variable)
            signals.check()  # a signal that came in while the library held the file
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.chmod(tmp, _file_mode(target))
            signals.commit(shown)  # the last point where a signal stops the save
            os.replace(tmp, target)
        except BaseException as exc:
            signals.hold()
            error = _explain(exc, shown, target.parent, size, free,  # the temp still there
                             None if folder is None else folder / "new.nc")
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
    """Write ``ds`` to ``tmp`` with :meth:`xarray.Dataset.to_netcdf`: at once if in memory
    (signals held throughout), else block by block through its dask path, interruptible
    between blocks.

    With h5netcdf, and blocks written in this process, HDF5 writes through a
    :class:`_GuardedFile`; a full disk is then raised here, after the library has closed
    the file (h5py reports errors that come while a dataset is released, as it is after
    each block, in a finalizer that prints them and raises nothing, and a file whose close
    failed is closed again at exit: a segfault).
    """
    options: dict[str, Any] = {"engine": engine, "encoding": encoding, "format": "NETCDF4"}
    lazy = any(v.chunks is not None for v in ds.variables.values())
    guard = None
    target: Any = os.fspath(tmp)  # a str: workers in other processes reopen it
    if engine == "h5netcdf" and not (lazy and _blocks_written_elsewhere()):
        target = guard = _GuardedFile(tmp)
    try:
        if not lazy:
            ds.to_netcdf(target, **options)
        else:
            with signals.interruptible():
                _stoppable(ds, guard).to_netcdf(target, **options)
    except BaseException:
        if guard is not None and guard.error is not None:
            raise guard.error from None  # what made the write fail
        raise
    finally:
        if guard is not None:
            guard.close()
    if guard is not None and guard.error is not None:
        raise guard.error


def _blocks_written_elsewhere() -> bool:
    """Whether dask's scheduler writes blocks in other processes (multiprocessing or
    distributed), where xarray reopens the file by its name for each block."""
    import dask.base
    import dask.multiprocessing

    get = dask.base.get_scheduler()
    if get is dask.multiprocessing.get:
        return True
    return type(getattr(get, "__self__", None)).__module__.startswith("distributed")


class _GuardedFile(io.RawIOBase):
    """The temporary file as HDF5 (h5py's file-object driver) writes it.

    The first write that fails (a full disk) is kept in :attr:`error` and not raised:
    from then on writes are dropped (the file is thrown away), so HDF5 finishes and
    closes its file without an error, wherever it was when the disk filled up (in a
    finalizer, a close), and the save raises :attr:`error` once the library has let go.
    Blocks of a lazy save not yet written are not computed (:func:`_check_block`).
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = open(path, "w+b", buffering=0)  # noqa: SIM115 (closed in close())
        self.name = str(path)  # as a file object's name: what errors show
        self.error: OSError | None = None

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer: Any) -> int:
        return self._file.readinto(buffer) or 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if self.error is None and not self._file.closed:
            try:
                done = 0
                while done < len(view):  # a raw write may write less than asked
                    done += self._file.write(view[done:]) or 0
                return len(view)
            except OSError as exc:
                self.error = exc  # blocks not yet written stop (_check_block)
        with contextlib.suppress(OSError, ValueError):
            self._file.seek(len(view), os.SEEK_CUR)  # dropped, as if written
        return len(view)

    def truncate(self, size: int | None = None) -> int:
        if self.error is None:
            try:
                return self._file.truncate(size)
            except OSError as exc:
                self.error = exc
        return self.tell() if size is None else size

    def flush(self) -> None:
        pass  # unbuffered

    def close(self) -> None:
        self._file.close()
        super().close()

    def __dask_tokenize__(self) -> object:  # never hashed by contents
        return ("xr_spdc.io._GuardedFile", id(self))


class _Interrupted(BaseException):
    """A held SIGINT/SIGTERM, raised to abandon a save (re-delivered after the cleanup)."""


#: Set while a held signal waits to be acted on: blocks of a lazy save check it before they
#: are written, so a save whose blocks run in this process's main thread (dask's
#: synchronous scheduler) stops at the next block too.
_STOP_BLOCKS = threading.Event()

#: Modules that may hold a file or a lock when a signal arrives: never raise inside them.
_LIBRARY_MODULES = ("xarray.backends", "h5netcdf", "h5py", "netCDF4")


def _check_block(guard: _GuardedFile | None, block: Any) -> Any:
    """Pass a block through, unless a held signal waits (see :data:`_STOP_BLOCKS`) or the
    disk is full (``guard``)."""
    if _STOP_BLOCKS.is_set():
        raise _Interrupted()
    if guard is not None and guard.error is not None:
        raise guard.error
    return block


#: dask's own modules: a caller of dask's scheduler holds no file or lock while blocks run.
_SCHEDULER_MODULES = ("dask.",)


def _in_library(frame: Any) -> bool:
    """Whether ``frame`` runs inside the netCDF libraries or xarray's backends.

    The frames are walked outwards only up to dask's scheduler: ``Dataset.to_netcdf``
    (a backend frame) waits there for the blocks without holding a file or a lock, so an
    interrupt that lands while it waits is raised at once, and one that lands in a block
    being written in this thread waits for the next block.
    """
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith(_LIBRARY_MODULES):
            return True
        if name.startswith(_SCHEDULER_MODULES):
            return False
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
    stops the save (:func:`_check_block`).  On exit the held signal is raised again
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


def _stoppable(ds: xr.Dataset, guard: _GuardedFile | None) -> xr.Dataset:
    """``ds`` with every dask-backed variable checking :func:`_check_block` per block."""
    check = functools.partial(_check_block, guard)
    wrapped = {name: var.copy(data=var.data.map_blocks(check, dtype=var.dtype))
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
        A netCDF file: real/imaginary pairs tied by ``complex_name``/``complex_part``
        attributes are joined into complex variables; netCDF-4 compound ``{r, i}``
        variables (files written by xr_spdc before 0.2, or by xarray with
        ``auto_complex=True``) are read as complex too.
    **kwargs
        Passed to :func:`xarray.open_dataset`.  ``engine`` defaults to "h5netcdf", or to
        "netcdf4" for a netCDF-3 file (which h5netcdf cannot read); with
        ``engine="netcdf4"``, ``auto_complex=True`` is passed for you.

    Returns
    -------
    xarray.Dataset
        As :func:`xarray.open_dataset` returns it (lazily loaded), except that joined
        complex variables are loaded, unless ``chunks`` makes them dask arrays; attributes
        as written.

    Raises
    ------
    ValueError
        ``path`` is a local file that is not netCDF (named, with its first bytes), or
        ``engine="h5netcdf"`` for a netCDF-3 file (the message names the engine that reads
        it).

    Notes
    -----
    A plain ``xr.open_dataset(path)`` shows the pairs as they are stored: float variables
    ``overlap_real`` and ``overlap_imag``, labelled and plottable.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> o = xr.Dataset(coords={"phi": [-3.14], "xi": [1.0]}).spdc.overlap(mu=0.5)
    >>> path = to_netcdf(o, pathlib.Path(tempfile.mkdtemp()) / "o.nc")
    >>> ds = open_dataset(path)
    >>> ds["overlap"].dtype, ds.attrs["Conventions"]
    (dtype('complex128'), 'CF-1.11')
    >>> list(xr.open_dataset(path).data_vars)  # the plain way
    ['overlap_real', 'overlap_imag']
    """
    kind = _file_kind(path)
    if kind == "other":
        raise ValueError(f"{os.fspath(path)} is not a netCDF file: it starts with neither "
                         "the HDF5 (netCDF-4) nor the CDF (netCDF-3) signature")
    if kind == "netcdf3" and kwargs.get("engine") == "h5netcdf":
        raise ValueError(f"{os.fspath(path)} is a netCDF-3 file, which h5netcdf (HDF5) "
                         "cannot read; open it with engine='netcdf4' (or leave engine out)")
    kwargs.setdefault("engine", "netcdf4" if kind == "netcdf3" else DEFAULT_ENGINE)
    if kwargs["engine"] == "netcdf4":
        kwargs.setdefault("auto_complex", True)
    ds = xr.open_dataset(path, **kwargs)
    try:
        return join_complex(ds)
    except BaseException:
        ds.close()
        raise


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _file_kind(path: Any) -> str:
    """"netcdf3", "hdf5", "other" (a local file that is neither) or "unknown" (not a local
    file, or unreadable: xarray will say).  HDF5 puts its signature at byte 0, 512, 1024,
    2048, ... (after a user block)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head[:4] in (b"CDF\x01", b"CDF\x02", b"CDF\x05"):
                return "netcdf3"
            size = os.fstat(f.fileno()).st_size
            offset = 0
            while offset + 8 <= size:
                f.seek(offset)
                if f.read(8) == _HDF5_SIGNATURE:
                    return "hdf5"
                offset = 512 if offset == 0 else 2 * offset
            return "other"
    except (OSError, TypeError, ValueError):
        return "unknown"


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
